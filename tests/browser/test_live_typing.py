"""A live refresh never destroys what someone types (issue 12, item 4).

The lead has every form of the incident room open and half filled in — found in the page,
not listed here, so a form added to the room later is covered without editing this test —
with the caret in the middle of a task note, when the rest of the cell changes every
panel: a timeline entry, a task taken and completed, a contact briefed and a statement
drafted and submitted, in the drafter's browser; the approval, and the lead's own changes
from another device (severity, a new member, an assignment) and a piece of evidence,
through the actions. Every panel shows the changes; every typed value is still there, in
the same element, the focus and caret where they were, and the page never reloaded."""

import pytest
from playwright.sync_api import expect

from incidents import actions as incident_actions
from tests.browser.conftest import PASSWORD
from tests.helpers import ensure_policy, outside_the_browser_loop

pytestmark = pytest.mark.browser

# Every form of the room: which can be filled without being sent (the others send
# themselves on change, or only hold buttons), with their fields.
FORMS_JS = """() => {
  const SKIPPED = new Set(["hidden", "submit", "button", "reset", "image", "file"]);
  return [...document.querySelectorAll("#incident-room form")].map((form, index) => {
    const fields = [...form.elements].filter((el) => el.name && el.name !== "csrfmiddlewaretoken"
      && !SKIPPED.has(el.type) && !["BUTTON", "FIELDSET", "OUTPUT"].includes(el.tagName)
      && !el.closest("[hidden]"));  // not for a person to fill (e.g. a fold that is not needed)
    fields.forEach((el, n) => { el.dataset.typingTest = `${index}-${n}`; });
    return {
      index,
      what: form.getAttribute("action") || form.className,
      sendsOnChange: /\\bchange\\b/.test(form.getAttribute("hx-trigger") || ""),
      fields: fields.map((el, n) => ({
        key: `${index}-${n}`, name: el.name, type: el.type,
        options: el.tagName === "SELECT" ? [...el.options].map((o) => o.value) : [],
        value: el.value,
      })),
    };
  });
}"""

OPEN_DETAILS_JS = """(el) => {
  for (let d = el.closest("details"); d; d = d.parentElement.closest("details")) d.open = true;
}"""

VALUE_JS = """(el) => (el.type === "checkbox" || el.type === "radio" ? el.checked : el.value)"""

SAMPLES = {
    "url": "https://example.org/typed/{n}",
    "email": "typed{n}@example.org",
    "tel": "+33 6 00 00 00 {n:02d}",
    "number": "{n}",
    "datetime-local": "2026-01-0{d}T09:3{d}",
    "date": "2026-01-0{d}",
}


@pytest.fixture
def cell(django_user_model, asgi_server, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    from crisiscell.celery import app as celery_app

    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True  # the evidence's display copy within the test

    def make():
        from incidents.playbooks.actions import incident_declare_from_playbook
        from incidents.playbooks.models import Contact, Playbook, PlaybookStep

        ensure_policy("One approver", [(1, "")], is_default=True, mode="all")

        def user(username, first):
            return django_user_model.objects.create_user(
                username, password=PASSWORD, first_name=first, last_name="Test"
            )

        people = {
            "lead": user("camille", "Camille"),
            "drafter": user("dana", "Dana"),
            "approver": user("alex", "Alex"),
            "spokesperson": user("sasha", "Sasha"),
            "eli": user("eli", "Eli"),  # not in the cell yet: someone to add
            "fay": user("fay", "Fay"),
        }
        playbook = Playbook.objects.create(name="Complaint wave", brand="Maison Durand")
        for order, (title, role) in enumerate(
            [
                ("Brief the committee", "lead"),
                ("Reply to the first complaints", "drafter"),
                ("Draft the holding statement", "drafter"),
            ]
        ):
            PlaybookStep.objects.create(
                playbook=playbook, order=order, title=title, role=role, due_minutes=30 + order
            )
        Contact.objects.create(playbook=playbook, order=0, kind="committee", name="Legal counsel")
        Contact.objects.create(
            playbook=playbook, order=1, kind="ambassador", name="Chef Lou", handle="@lou"
        )
        incident = incident_declare_from_playbook(
            actor=people["lead"],
            playbook=playbook,
            title="Complaint wave about kettle lids",
            category="product",
            origin="online",
            platforms=["x"],
            severity=2,
            activate=True,
        )
        for name in ("drafter", "approver", "spokesperson"):
            incident_actions.member_add(
                incident=incident,
                actor=people["lead"],
                user=people[name],
                role=name,
                function="other" if name == "approver" else "",
            )
        tasks = {task.title: task for task in incident.tasks.all()}
        return incident, people, tasks

    yield outside_the_browser_loop(make)
    celery_app.conf.task_always_eager = eager


def open_room(tab, incident):
    tab.goto(f"/incidents/{incident.pk}/")
    expect(tab.locator("#live-status")).to_have_attribute("data-state", "live")


def count_loads(tab):
    loads = []
    tab.on("framenavigated", lambda frame: frame == tab.main_frame and loads.append(frame.url))
    return loads


def type_in_every_form(tab):
    """Fill every field of every form that does not send itself; returns what was typed,
    {key: (element handle, value, form)}, and the forms that send on change or only hold
    buttons. Fails if a form with fields to fill could not be filled in full."""
    forms = tab.evaluate(FORMS_JS)
    typed, skipped = {}, []
    for form in forms:
        if form["sendsOnChange"] or not form["fields"]:
            skipped.append(form["what"])
            continue
        for n, field in enumerate(form["fields"], start=1):
            handle = tab.locator(f'[data-typing-test="{field["key"]}"]').element_handle()
            handle.evaluate(OPEN_DETAILS_JS)
            if not handle.is_visible():
                continue  # hidden by the form itself (an approver's function, for another role)
            number = form["index"] * 10 + n
            if field["type"].startswith("select"):
                others = [v for v in field["options"] if v and v != field["value"]]
                assert others, f"{form['what']}: {field['name']} offers no other choice"
                handle.select_option(others[-1])
            elif field["type"] in ("checkbox", "radio"):
                handle.click()
            else:
                sample = SAMPLES.get(field["type"], "typed {n} in {name}")
                handle.fill(sample.format(n=number, d=1 + number % 8, name=field["name"]))
            value = handle.evaluate(VALUE_JS)
            assert value != field["value"], f"{form['what']}: {field['name']} kept its value"
            typed[field["key"]] = (handle, value, form["what"])
    return typed, skipped


def assert_intact(typed):
    for key, (handle, value, what) in typed.items():
        state = handle.evaluate(f"(el) => ({{connected: el.isConnected, value: ({VALUE_JS})(el)}})")
        assert state == {"connected": True, "value": value}, f"{what} [{key}] lost what was typed"


def test_nothing_typed_is_lost_while_the_cell_changes_every_panel(signed_in, cell):
    incident, people, tasks = cell
    lead_tab = signed_in(people["lead"])
    drafter_tab = signed_in(people["drafter"])
    open_room(lead_tab, incident)
    open_room(drafter_tab, incident)
    loads = count_loads(lead_tab)

    typed, skipped = type_in_every_form(lead_tab)
    forms_typed = {what for _handle, _value, what in typed.values()}
    # The room's forms to fill, found in the page: at least these.
    for expected in ("/entries/", "/members/add/", "/evidence/upload/", "/evidence/capture/"):
        assert any(expected in what for what in forms_typed), (expected, forms_typed)
    for task in tasks.values():
        assert any(f"/tasks/{task.pk}/complete/" in what for what in forms_typed), task.title
    # The ones left alone send themselves on change (severity, roles, assignments, contact
    # marks, filters) or only hold buttons (status moves, take, remove).
    assert skipped, "the room should also have forms that send themselves"

    # The caret in the middle of the note of a task nobody else touches.
    note = lead_tab.locator(f"#note-{tasks['Brief the committee'].pk}")
    note.evaluate("(el) => { el.focus(); el.setSelectionRange(5, 5); }")

    # The drafter, in their browser.
    drafter_tab.fill("#id_text", "A forum thread links our post")
    drafter_tab.click("form.entry-form button[type=submit]")
    expect(lead_tab.locator("#timeline")).to_contain_text("A forum thread links our post")

    reply = drafter_tab.locator(f"#task-{tasks['Reply to the first complaints'].pk}")
    reply.get_by_role("button", name="Take it").click()
    expect(lead_tab.locator(f"#assign-{tasks['Reply to the first complaints'].pk}")).to_have_value(
        str(people["drafter"].pk)
    )
    reply.locator("input[name=note]").fill("Answered 12 posts")
    reply.get_by_role("button", name="Mark as done").click()
    expect(lead_tab.locator("#tasks-panel .tasks-done")).to_contain_text("1 task done")

    drafter_tab.locator(".contact", has_text="Chef Lou").get_by_label("Briefed").check()
    expect(
        lead_tab.locator(".contact", has_text="Chef Lou").get_by_label("Briefed")
    ).to_be_checked()

    drafter_tab.goto(f"/incidents/{incident.pk}/statements/new/")
    drafter_tab.select_option("#id_kind", "holding")
    drafter_tab.select_option("#id_channel", "x")
    drafter_tab.select_option("#id_language", "en")
    drafter_tab.fill("#id_title", "Holding statement X")
    drafter_tab.fill("#id_text", "We have seen your messages about our kettles. More soon.")
    drafter_tab.click("form.form-card button[type=submit]")
    drafter_tab.get_by_role("button", name="Submit for approval").click()
    expect(lead_tab.locator("#statements-panel")).to_contain_text("Holding statement X")
    expect(lead_tab.locator("#statements-panel")).to_contain_text("In review")

    # The approver, the lead's phone and the evidence locker, through the actions.
    def elsewhere():
        from incidents.evidence.actions import evidence_attach
        from incidents.playbooks.actions import task_assign
        from statements import actions as statement_actions
        from statements.models import Statement
        from tests.evidence.conftest import png_bytes, upload

        statement = Statement.objects.get(incident=incident)
        statement_actions.statement_approve(
            statement=statement, actor=people["approver"], revision=statement.revision
        )
        lead = people["lead"]
        incident_actions.incident_set_severity(incident=incident, actor=lead, severity=4)
        incident_actions.member_add(
            incident=incident, actor=lead, user=people["eli"], role="observer"
        )
        task_assign(
            task=tasks["Draft the holding statement"], actor=lead, assignee=people["drafter"]
        )
        evidence_attach(
            incident=incident,
            actor=people["drafter"],
            files=[upload(png_bytes(), "thread.png")],
            metadata={"kind": "post", "author_name": "Forum poster"},
        )

    outside_the_browser_loop(elsewhere)
    expect(lead_tab.locator("#statements-panel")).to_contain_text("Approved")
    expect(lead_tab.locator("#incident-header .chips .severity-critical")).to_be_visible()
    expect(lead_tab.locator("#severity-select")).to_have_value("4")
    expect(lead_tab.locator("#members-panel .member-list")).to_contain_text("Eli")
    expect(lead_tab.locator(f"#assign-{tasks['Draft the holding statement'].pk}")).to_have_value(
        str(people["drafter"].pk)
    )
    expect(lead_tab.locator("#evidence-list")).to_contain_text("Forum poster")
    expect(lead_tab.locator("#timeline")).to_contain_text("Eli")

    assert_intact(typed)
    focused = lead_tab.evaluate(
        "() => ({id: document.activeElement.id, caret: document.activeElement.selectionStart})"
    )
    assert focused == {"id": f"note-{tasks['Brief the committee'].pk}", "caret": 5}
    # The add-member form is still open, with what was chosen in it.
    assert lead_tab.locator("#member-add").get_attribute("open") == ""
    assert loads == [], "the room reloaded"
