"""Playbook authoring in the admin panel, through the Django test client."""

import json
from datetime import timedelta

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from incidents.models import Incident
from incidents.playbooks import portable
from incidents.playbooks.models import Playbook, StatementTemplate

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/playbooks/playbook/"
ADD = "/admin/playbooks/playbook/add/"
IMPORT = "/admin/playbooks/playbook/import/"


def change_url(playbook):
    return f"/admin/playbooks/playbook/{playbook.pk}/change/"


def preview_url(playbook):
    return f"/admin/playbooks/playbook/{playbook.pk}/preview/"


def export_url(playbook):
    return f"/admin/playbooks/playbook/{playbook.pk}/export/"


def inline(prefix, rows, *, initial=0):
    data = {
        f"{prefix}-TOTAL_FORMS": str(len(rows)),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }
    for number, row in enumerate(rows):
        data.update({f"{prefix}-{number}-{key}": value for key, value in row.items()})
    return data


STEP = {
    "order": "1",
    "title": "Publish a holding statement",
    "role": "drafter",
    "due_minutes": "15",
    "repeat_minutes": "",
    "guidance": "- on the platform where it **started**",
}
TEMPLATE = {
    "order": "1",
    "name": "Holding statement",
    "kind": "holding",
    "channel": "x",
    "language": "en",
    "text": "{{ brand }} is aware of the posts about {{ incident.title }}.",
}
CONTACT = {
    "kind": "committee",
    "order": "1",
    "name": "Dominique Martin",
    "role_title": "Legal counsel",
    "phone": "+33 1 23 45 67 89",
    "email": "legal@example.com",
    "backup": "",
    "handle": "",
    "platform": "",
    "audience": "",
    "language": "fr",
    "notes": "",
}


def playbook_form(
    *, steps=(STEP,), templates=(TEMPLATE,), policies=(), contacts=(CONTACT,), advice=(), **f
):
    data = {
        "name": "Defective product",
        "description": "Complaints about a product that breaks.",
        "brand": "Acme",
        "is_active": "on",
        "categories": ["product", "service"],
        "min_severity": "2",
        "max_severity": "4",
        "version": "1",
        "last_reviewed_on": "",
    }
    data.update(f)
    data.update(inline("steps", list(steps)))
    data.update(inline("templates", list(templates)))
    data.update(inline("policies", list(policies)))
    data.update(inline("contacts", list(contacts)))
    data.update(inline("advice", list(advice)))
    return data


def html(response):
    return response.content.decode()


# --- Pages render -----------------------------------------------------------------------------


def test_changelist_shows_scope_version_and_review_flag(admin_browser, make_playbook):
    today = timezone.localdate()
    make_playbook(
        name="Rumour",
        categories=["rumour", "product"],
        min_severity=2,
        max_severity=4,
        last_reviewed_on=today - timedelta(days=200),
    )
    make_playbook(name="Fresh", last_reviewed_on=today, version=7)
    make_playbook(name="Never", min_severity=3, max_severity=3)

    response = admin_browser.get(CHANGELIST)

    assert response.status_code == 200
    page = html(response)
    assert "Rumour / fake, Product · severity 2 to 4" in page
    assert "All categories · any severity" in page
    assert "All categories · severity 3 only" in page
    assert page.count("Review due") >= 2  # two flagged rows (and the filter's own entry)
    assert "never reviewed" in page
    assert "last reviewed over 6 months ago" in page
    assert "Import from JSON" in page


def test_review_filter_lists_only_playbooks_due_for_review(admin_browser, make_playbook):
    today = timezone.localdate()
    make_playbook(name="Stale", last_reviewed_on=today - timedelta(days=183))
    make_playbook(name="Just in time", last_reviewed_on=today - timedelta(days=182))
    make_playbook(name="Never reviewed")

    due = admin_browser.get(CHANGELIST, {"review": "due"}).context["cl"].result_list
    ok = admin_browser.get(CHANGELIST, {"review": "ok"}).context["cl"].result_list

    assert sorted(p.name for p in due) == ["Never reviewed", "Stale"]
    assert [p.name for p in ok] == ["Just in time"]
    assert all(p.needs_review() for p in due)
    assert not any(p.needs_review() for p in ok)


def test_changelist_search_finds_by_name_and_brand(admin_browser, make_playbook):
    make_playbook(name="Bad buzz", brand="Zephyr Foods")
    make_playbook(name="Other", brand="Acme")

    found = admin_browser.get(CHANGELIST, {"q": "zephyr"}).context["cl"].result_list

    assert [p.name for p in found] == ["Bad buzz"]


def test_add_page_renders_with_every_inline(admin_browser, policies):
    response = admin_browser.get(ADD)

    assert response.status_code == 200
    page = html(response)
    for prefix in ["steps", "templates", "policies", "contacts"]:
        assert f'name="{prefix}-TOTAL_FORMS"' in page
    assert 'type="checkbox" name="categories" value="rumour"' in page


def test_change_page_shows_inlines_and_preview_links(admin_browser, make_playbook):
    playbook = make_playbook(steps=2, templates=2, contacts=2)
    template = playbook.templates.first()

    response = admin_browser.get(change_url(playbook))

    assert response.status_code == 200
    page = html(response)
    assert "Step 1" in page and "Holding 1" in page and "Contact 1" in page
    assert f"{preview_url(playbook)}#template-{template.pk}" in page
    assert export_url(playbook) in page
    assert "Legal, then communications" in page


def test_saving_the_add_form_creates_the_playbook_and_its_rows(admin_browser, policies):
    policy_rows = [
        {"severity": "2", "policy": str(policies["default"].pk)},
        {"severity": "4", "policy": str(policies["ordered"].pk)},
    ]

    response = admin_browser.post(ADD, playbook_form(policies=policy_rows))

    assert response.status_code == 302, html(response)
    playbook = Playbook.objects.get(name="Defective product")
    assert playbook.categories == ["product", "service"]
    assert list(playbook.steps.values_list("title", flat=True)) == [STEP["title"]]
    assert playbook.templates.get().text == TEMPLATE["text"]
    assert dict(playbook.policies.values_list("severity", "policy__name")) == {
        2: "One approver",
        4: "Legal, then communications",
    }
    assert playbook.contacts.get().email == "legal@example.com"


def test_categories_are_saved_in_a_stable_order(admin_browser, policies):
    admin_browser.post(ADD, playbook_form(categories=["rumour", "brand", "product"]))

    assert Playbook.objects.get().categories == ["product", "brand", "rumour"]


# --- Validation in plain words ------------------------------------------------------------------


def assert_refused(response, message):
    assert response.status_code == 200  # the form again, with its errors
    assert message in html(response), html(response)
    assert not Playbook.objects.exists()


def test_unknown_category_is_refused(admin_browser, policies):
    response = admin_browser.post(ADD, playbook_form(categories=["product", "gossip"]))

    assert_refused(response, "“gossip” is not an incident category.")


def test_severity_range_must_not_be_upside_down(admin_browser, policies):
    response = admin_browser.post(ADD, playbook_form(min_severity="4", max_severity="2"))

    assert_refused(response, "The severity range is upside down")
    assert "Constraint" not in html(response)  # the model constraint's raw message


def test_template_with_unknown_placeholder_shows_the_templating_message(admin_browser, policies):
    template = {**TEMPLATE, "text": "Dear {{ customer.name }}, sorry."}

    response = admin_browser.post(ADD, playbook_form(templates=[template]))

    assert_refused(response, "Unknown placeholder {{ customer.name }}. Allowed:")
    errors = response.context["inline_admin_formsets"][1].formset.errors
    assert "text" in errors[0]


def test_template_tags_are_refused(admin_browser, policies):
    template = {**TEMPLATE, "text": "{% if brand %}x{% endif %}"}

    response = admin_browser.post(ADD, playbook_form(templates=[template]))

    assert_refused(response, "no {% tags %}")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("repeat_minutes", "4", "Repeat every 5 minutes or more"),
        ("repeat_minutes", "50000", "A step repeats at least every 43200 minutes"),
        ("due_minutes", "43201", "A step is due at most 43200 minutes (30 days)"),
    ],
)
def test_step_timing_must_be_sensible(admin_browser, policies, field, value, message):
    response = admin_browser.post(ADD, playbook_form(steps=[{**STEP, field: value}]))

    assert_refused(response, message)


def test_a_step_due_within_30_days_is_accepted(admin_browser, policies):
    step = {**STEP, "due_minutes": "43200", "repeat_minutes": "5"}

    response = admin_browser.post(ADD, playbook_form(steps=[step]))

    assert response.status_code == 302


def test_a_severity_appears_once_in_the_policies(admin_browser, policies):
    rows = [
        {"severity": "3", "policy": str(policies["default"].pk)},
        {"severity": "3", "policy": str(policies["ordered"].pk)},
    ]

    response = admin_browser.post(ADD, playbook_form(policies=rows))

    assert_refused(response, "The severity “High — viral” has more than one approval policy")


def test_adding_a_second_policy_for_a_saved_severity_is_refused_plainly(
    admin_browser, make_playbook, policies
):
    playbook = make_playbook(severity_policies={3: "ordered"})
    existing = playbook.policies.get()
    data = playbook_form(name=playbook.name, steps=[], templates=[], contacts=[])
    data.update(
        inline(
            "policies",
            [
                {"id": str(existing.pk), "severity": "3", "policy": str(policies["ordered"].pk)},
                {"severity": "3", "policy": str(policies["default"].pk)},
            ],
            initial=1,
        )
    )

    response = admin_browser.post(change_url(playbook), data)

    assert response.status_code == 200
    page = html(response)
    assert "more than one approval policy" in page or "already has an approval policy" in page
    assert playbook.policies.count() == 1


# --- Query counts -----------------------------------------------------------------------------


def count_queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def test_changelist_queries_do_not_grow_with_playbooks(admin_browser, make_playbook):
    make_playbook()
    one = count_queries(admin_browser, CHANGELIST)
    for _ in range(15):
        make_playbook(steps=3, templates=2)

    many = count_queries(admin_browser, CHANGELIST)

    assert many == one


def test_change_page_queries_do_not_grow_with_rows(admin_browser, make_playbook):
    small = make_playbook(steps=1, templates=1, contacts=1, severity_policies={1: "default"})
    large = make_playbook(
        steps=12,
        templates=8,
        contacts=10,
        severity_policies={1: "default", 2: "default", 3: "ordered", 4: "ordered"},
    )

    assert count_queries(admin_browser, change_url(large)) == count_queries(
        admin_browser, change_url(small)
    )


def test_change_page_stays_within_a_fixed_budget(
    admin_browser, make_playbook, django_assert_max_num_queries
):
    playbook = make_playbook(steps=20, templates=10, contacts=15)

    with django_assert_max_num_queries(20):
        assert admin_browser.get(change_url(playbook)).status_code == 200


def test_preview_queries_do_not_grow_with_templates(admin_browser, make_playbook):
    small, large = make_playbook(templates=1), make_playbook(templates=12)

    assert count_queries(admin_browser, preview_url(large)) == count_queries(
        admin_browser, preview_url(small)
    )


# --- Preview ----------------------------------------------------------------------------------


def test_preview_fills_each_template_with_a_sample_incident(admin_browser, make_playbook):
    playbook = make_playbook(templates=0, brand="Zephyr")
    StatementTemplate.objects.create(
        playbook=playbook,
        name="Holding",
        kind="holding",
        channel="x",
        language="en",
        text="{{ brand }}: about {{ incident.title }} on {{ platforms }}. "
        "Next: {{ next_update_at }}",
    )

    response = admin_browser.get(preview_url(playbook))

    assert response.status_code == 200
    preview = response.context["previews"][0]
    assert preview.error is None
    assert preview.text.startswith(
        "Zephyr: about Sample: product recall rumour on X / Twitter, Instagram. Next: "
    )
    assert "{{" not in preview.text
    assert preview.limit == 280
    assert preview.text in html(response)


def test_preview_gives_the_next_update_one_hour_after_declaration(admin_browser, make_playbook):
    playbook = make_playbook(templates=0)
    StatementTemplate.objects.create(
        playbook=playbook,
        name="Times",
        kind="update",
        channel="email",
        language="en",
        text="{{ declared_at }}|{{ next_update_at }}",
    )

    preview = admin_browser.get(preview_url(playbook)).context["previews"][0]

    declared, next_update = preview.text.split("|")
    assert declared and next_update and declared != next_update
    assert preview.limit is None


def test_preview_escapes_the_rendered_text(admin_browser, make_playbook):
    playbook = make_playbook(templates=0, brand="<b>Acme</b>")
    StatementTemplate.objects.create(
        playbook=playbook,
        name="Markup",
        kind="holding",
        channel="x",
        language="en",
        text="<script>alert('x')</script> {{ brand }}",
    )

    page = html(admin_browser.get(preview_url(playbook)))

    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &lt;b&gt;Acme&lt;/b&gt;" in page


def test_preview_warns_when_the_playbook_has_no_brand(admin_browser, make_playbook):
    page = html(admin_browser.get(preview_url(make_playbook(brand=""))))

    assert "This playbook has no brand: {{ brand }} stays empty in its statements." in page


def test_preview_shows_an_invalid_placeholder_as_an_error(admin_browser, make_playbook):
    playbook = make_playbook(templates=1)
    StatementTemplate.objects.create(  # saved around the admin's validation
        playbook=playbook,
        name="Broken",
        kind="holding",
        channel="x",
        language="en",
        text="Dear {{ customer }}",
    )

    response = admin_browser.get(preview_url(playbook))

    assert response.status_code == 200
    previews = response.context["previews"]
    assert previews[0].error is None
    assert previews[1].text is None
    assert "Unknown placeholder {{ customer }}" in previews[1].error
    assert "Unknown placeholder {{ customer }}" in html(response)


def test_preview_uses_the_template_language_for_the_sample(admin_browser, make_playbook):
    playbook = make_playbook(templates=0)
    StatementTemplate.objects.create(
        playbook=playbook,
        name="FR",
        kind="holding",
        channel="x",
        language="fr",
        text="{{ platforms }}",
    )

    preview = admin_browser.get(preview_url(playbook)).context["previews"][0]

    assert preview.text == "X / Twitter, Instagram"


def test_preview_of_a_missing_playbook_redirects_with_a_message(admin_browser, db):
    response = admin_browser.get("/admin/playbooks/playbook/999999/preview/")

    assert response.status_code == 302


# --- Export -----------------------------------------------------------------------------------


def test_export_link_downloads_one_playbook(admin_browser, make_playbook):
    playbook = make_playbook(name="Défaut produit")

    response = admin_browser.get(export_url(playbook))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert 'attachment; filename="playbook-defaut-produit.json"' in response["Content-Disposition"]
    assert json.loads(response.content) == portable.export_playbook(playbook)


def test_export_action_gives_one_object_for_one_playbook(admin_browser, make_playbook):
    playbook = make_playbook()
    make_playbook()

    response = admin_browser.post(
        CHANGELIST, {"action": "export_json", "_selected_action": [playbook.pk]}
    )

    assert response.status_code == 200
    data = json.loads(response.content)
    assert isinstance(data, dict)
    assert data["name"] == playbook.name


def test_export_action_gives_a_list_for_several(admin_browser, make_playbook):
    first, second = make_playbook(name="A first"), make_playbook(name="B second")

    response = admin_browser.post(
        CHANGELIST, {"action": "export_json", "_selected_action": [second.pk, first.pk]}
    )

    assert 'filename="playbooks.json"' in response["Content-Disposition"]
    assert [item["name"] for item in json.loads(response.content)] == ["A first", "B second"]


def test_export_action_queries_do_not_grow_with_playbooks(admin_browser, make_playbook):
    def export(ids):
        with CaptureQueriesContext(connection) as queries:
            admin_browser.post(CHANGELIST, {"action": "export_json", "_selected_action": ids})
        return len(queries)

    few = [make_playbook().pk for _ in range(2)]
    many = [make_playbook(steps=3).pk for _ in range(10)]

    assert export(many) == export(few)


# --- Review actions ---------------------------------------------------------------------------


def test_mark_as_reviewed_sets_today_and_keeps_the_version(admin_browser, make_playbook):
    playbook = make_playbook(version=3, last_reviewed_on=timezone.localdate() - timedelta(400))

    response = admin_browser.post(
        CHANGELIST, {"action": "mark_reviewed", "_selected_action": [playbook.pk]}, follow=True
    )

    playbook.refresh_from_db()
    assert playbook.last_reviewed_on == timezone.localdate()
    assert playbook.version == 3
    assert not playbook.needs_review()
    assert "1 playbook marked as reviewed today." in html(response)
    assert LogEntry.objects.filter(object_id=str(playbook.pk)).exists()


def test_mark_as_reviewed_as_new_version_increments_each_version(admin_browser, make_playbook):
    first, second = make_playbook(version=1), make_playbook(version=4)

    admin_browser.post(
        CHANGELIST,
        {"action": "mark_reviewed_new_version", "_selected_action": [first.pk, second.pk]},
    )

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.version, second.version) == (2, 5)
    assert first.last_reviewed_on == second.last_reviewed_on == timezone.localdate()


def test_saving_a_playbook_bumps_nothing(admin_browser, make_playbook):
    playbook = make_playbook(version=2, steps=0, templates=0, contacts=0, severity_policies={})
    data = playbook_form(
        name=playbook.name, description="Changed", steps=[], templates=[], contacts=[]
    )
    data["version"] = "2"

    response = admin_browser.post(change_url(playbook), data)

    assert response.status_code == 302, html(response)
    playbook.refresh_from_db()
    assert (playbook.description, playbook.version, playbook.last_reviewed_on) == (
        "Changed",
        2,
        None,
    )


# --- Import -----------------------------------------------------------------------------------


def upload(data, name="playbook.json"):
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    return SimpleUploadedFile(name, raw, content_type="application/json")


def exported(make_playbook, **fields):
    """An export of a playbook that no longer exists here."""
    playbook = make_playbook(**fields)
    data = portable.export_playbook(playbook)
    playbook.delete()
    return data


def test_import_page_renders(admin_browser):
    response = admin_browser.get(IMPORT)

    assert response.status_code == 200
    assert 'type="file" name="file"' in html(response)
    assert "At most 1024 KB." in html(response)


def test_importing_a_file_creates_the_playbook_and_opens_it(admin_browser, make_playbook):
    data = exported(make_playbook, name="Imported", steps=3)

    response = admin_browser.post(IMPORT, {"file": upload(data)}, follow=True)

    playbook = Playbook.objects.get(name="Imported")
    assert response.redirect_chain[-1][0] == change_url(playbook)
    assert "Imported the playbook “Imported” (version 1)." in html(response)
    assert playbook.steps.count() == 3
    assert LogEntry.objects.filter(object_id=str(playbook.pk)).exists()


def test_importing_a_list_creates_every_playbook(admin_browser, make_playbook):
    data = [exported(make_playbook, name="One"), exported(make_playbook, name="Two")]

    response = admin_browser.post(IMPORT, {"file": upload(data)})

    assert response.status_code == 302
    assert response["Location"] == CHANGELIST
    assert sorted(Playbook.objects.values_list("name", flat=True)) == ["One", "Two"]


def test_import_errors_are_listed_in_plain_words(admin_browser, make_playbook):
    data = exported(make_playbook, name="Broken")
    data["steps"][0]["due_minutes"] = 99999
    data["templates"][0]["text"] = "Hello {{ customer }}"
    data["policies"].append({"severity": 1, "policy": "Nobody knows this one"})

    response = admin_browser.post(IMPORT, {"file": upload(data)})

    assert response.status_code == 400
    page = html(response)
    assert "The file was not imported:" in page
    assert "Step 1 (“Step 0”): A step is due at most 43200 minutes" in page
    assert "Template 1 (“Holding 0”): Unknown placeholder {{ customer }}" in page
    assert (
        "Approval policy 3: there is no approval policy named “Nobody knows this one” here" in page
    )
    assert not Playbook.objects.exists()


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"{not json", "The file is not valid JSON: "),
        (b"\xff\xfe\x00", "The file is not UTF-8 text"),
        (b'{"name": "x"}', "This is not a Crisis Cell playbook"),
        (b"[]", "The file holds no playbook."),
    ],
)
def test_unreadable_files_are_explained(admin_browser, db, raw, message):
    response = admin_browser.post(IMPORT, {"file": upload(raw)})

    assert response.status_code == 400
    assert message in html(response)


def test_import_without_a_file_asks_for_one(admin_browser, db):
    response = admin_browser.post(IMPORT, {})

    assert response.status_code == 400
    assert "Choose a JSON file to import." in html(response)


def test_import_refuses_a_file_over_the_size_limit(admin_browser, db):
    raw = b" " * (portable.MAX_IMPORT_BYTES + 1)

    response = admin_browser.post(IMPORT, {"file": upload(raw)})

    assert response.status_code == 400
    assert "The file is larger than 1024 KB" in html(response)


def test_importing_an_existing_name_asks_before_replacing(admin_browser, make_playbook):
    playbook = make_playbook(name="Recall", version=3, steps=1)
    data = portable.export_playbook(playbook)
    data["steps"] = []

    response = admin_browser.post(IMPORT, {"file": upload(data)})

    assert response.status_code == 200
    page = html(response)
    assert "The file holds a playbook whose name is already taken:" in page
    assert "Replace with the file" in page
    assert "Import under this name" in page
    assert playbook.steps.count() == 1  # nothing changed yet


def test_confirming_the_replacement_replaces_in_place_with_a_new_version(
    admin_browser, make_playbook
):
    playbook = make_playbook(name="Recall", version=3, steps=2)
    data = portable.export_playbook(playbook)
    data["steps"] = data["steps"][:1]
    data["description"] = "Reviewed by legal"

    response = admin_browser.post(
        IMPORT, {"action": "replace", "payload": json.dumps(data)}, follow=True
    )

    replaced = Playbook.objects.get()
    assert replaced.pk == playbook.pk
    assert (replaced.version, replaced.description) == (4, "Reviewed by legal")
    assert replaced.steps.count() == 1
    assert "it is now version 4" in html(response)


def test_importing_under_a_new_name_keeps_the_existing_playbook(admin_browser, make_playbook):
    playbook = make_playbook(name="Recall")
    data = portable.export_playbook(playbook)

    response = admin_browser.post(
        IMPORT, {"action": "rename", "payload": json.dumps(data), "new_name": "Recall (copy)"}
    )

    assert response.status_code == 302
    copy = Playbook.objects.get(name="Recall (copy)")
    assert portable.export_playbook(copy) == {**data, "name": "Recall (copy)"}
    assert Playbook.objects.filter(name="Recall").exists()


def test_a_view_only_editor_cannot_replace(make_user, client, make_playbook):
    editor = make_user("viewer", is_staff=True)
    editor.user_permissions.set(
        Permission.objects.filter(
            codename__in=["view_playbook", "add_playbook"], content_type__app_label="playbooks"
        )
    )
    client.force_login(editor)
    playbook = make_playbook(name="Recall", version=1)
    data = {**portable.export_playbook(playbook), "description": "Hijacked"}

    confirm = client.post(IMPORT, {"file": upload(data)})
    replace = client.post(IMPORT, {"action": "replace", "payload": json.dumps(data)})

    assert "Replace with the file" not in html(confirm)
    assert replace.status_code == 403
    playbook.refresh_from_db()
    assert playbook.description == ""


# --- Who may reach the admin ------------------------------------------------------------------


@pytest.fixture
def some_urls(make_playbook):
    playbook = make_playbook()
    return [
        CHANGELIST,
        ADD,
        IMPORT,
        change_url(playbook),
        preview_url(playbook),
        export_url(playbook),
    ]


@pytest.mark.parametrize("who", ["anonymous", "member"])
def test_non_staff_are_sent_to_the_admin_login(client, make_user, some_urls, who):
    if who == "member":
        client.force_login(make_user("not_staff"))
    for url in some_urls:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/admin/login/"), url
    assert client.post(IMPORT, {}).status_code == 302


def test_staff_without_playbook_permissions_are_refused(client, staff, some_urls):
    client.force_login(staff)

    for url in some_urls:
        assert client.get(url).status_code == 403, url


def test_a_view_only_editor_can_preview_and_export_but_not_import(client, make_user, make_playbook):
    viewer = make_user("reader", is_staff=True)
    viewer.user_permissions.set(
        Permission.objects.filter(codename="view_playbook", content_type__app_label="playbooks")
    )
    client.force_login(viewer)
    playbook = make_playbook()

    assert client.get(preview_url(playbook)).status_code == 200
    assert client.get(export_url(playbook)).status_code == 200
    assert client.get(IMPORT).status_code == 403
    assert "Import from JSON" not in html(client.get(CHANGELIST))


def test_the_sample_incident_is_never_saved(admin_browser, make_playbook):
    playbook = make_playbook(templates=3)

    admin_browser.get(preview_url(playbook))

    assert not Incident.objects.exists()
