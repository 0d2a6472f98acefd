"""Live events say which panels of the room they change, decided once on the server
(incidents/panels.py): the event payload, a signal, the resync response and the page's
data-panel names all come from the same table."""

import json
import re

import pytest

from incidents import actions, events, panels
from incidents.models import TimelineEntry

pytestmark = pytest.mark.django_db


def published(listener):
    return [json.loads(message["text"]) for message in listener()]


def test_every_timeline_kind_says_which_panels_it_refreshes():
    # Read from the field, wherever its enumeration lives: a new kind fails here until it
    # is mapped (to an empty tuple if it refreshes nothing).
    kinds = {value for value, _label in TimelineEntry._meta.get_field("kind").choices}
    assert set(panels.ENTRY_PANELS) == kinds
    for kind, names in panels.ENTRY_PANELS.items():
        assert isinstance(names, tuple), kind
        assert len(set(names)) == len(names), kind
        assert set(names) <= set(panels.ALL_PANELS), kind


def test_every_signal_names_known_panels():
    from incidents.evidence.actions import EVIDENCE_CHANGED
    from incidents.playbooks.actions import TASKS_CHANGED

    assert {EVIDENCE_CHANGED, TASKS_CHANGED, "notifications-changed"} <= set(panels.SIGNAL_PANELS)
    for signal, names in panels.SIGNAL_PANELS.items():
        assert names and set(names) <= set(panels.ALL_PANELS), signal


def test_an_unmapped_kind_is_refused_not_silently_ignored():
    with pytest.raises(KeyError):
        panels.entry_panels("brand_new_kind")


def test_a_member_added_refreshes_the_cell_and_the_header(
    incident, lead, make_user, listener, django_capture_on_commit_callbacks
):
    newcomer = make_user("newcomer")
    with django_capture_on_commit_callbacks(execute=True):
        actions.member_add(incident=incident, actor=lead, user=newcomer, role="drafter")
    (payload,) = published(listener)
    assert payload["event"] == "timeline.member_added"
    assert {"cell", "header"} <= set(payload["panels"])
    assert "statements" in payload["panels"]  # who may draft, for the newcomer
    assert "evidence" not in payload["panels"]


@pytest.mark.parametrize(
    ("kind", "expected"),
    [("note", []), ("decision", []), ("key_event", [])],
)
def test_a_typed_entry_refreshes_no_panel(
    incident, drafter, listener, django_capture_on_commit_callbacks, kind, expected
):
    with django_capture_on_commit_callbacks(execute=True):
        actions.timeline_add_entry(incident=incident, actor=drafter, kind=kind, text="Seen")
    (payload,) = published(listener)
    assert payload["panels"] == expected


def test_a_status_change_refreshes_the_header_and_the_dashboards_only(
    incident, lead, listener, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        actions.incident_transition(incident=incident, actor=lead, status="active")
    (payload,) = published(listener)
    assert payload["panels"] == ["header", "incidents"]


def test_a_signal_carries_its_panels(incident):
    assert events.signal_payload(incident.pk, "evidence-changed", capture=3) == {
        "event": "signal",
        "signal": "evidence-changed",
        "incident_id": incident.pk,
        "panels": ["evidence"],
        "capture": 3,
    }


def resync(client, incident, after):
    return client.get(f"/incidents/{incident.pk}/timeline/?after={after}", HTTP_HX_REQUEST="true")


def header_panels(response):
    return [name.strip() for name in response[panels.RESYNC_HEADER].split(",") if name.strip()]


def test_a_resync_names_the_panels_of_the_missed_entries(incident, lead, drafter, browser_client):
    start = TimelineEntry.objects.filter(incident=incident).order_by("-seq").first().seq
    actions.incident_transition(incident=incident, actor=lead, status="active")
    actions.timeline_add_entry(incident=incident, actor=drafter, kind="note", text="Seen")
    actions.incident_set_severity(incident=incident, actor=lead, severity=3)

    response = resync(browser_client.as_user(drafter), incident, start)
    assert response.status_code == 200
    seqs = [int(s) for s in re.findall(r'data-seq="(\d+)"', response.content.decode())]
    assert seqs == [start + 1, start + 2, start + 3]
    # The union of what the three live events carried, in the panels' order.
    assert header_panels(response) == panels.panels_for(
        ["status_changed", "note", "severity_changed"]
    )
    assert header_panels(response) == ["header", "tasks", "incidents"]

    # Only the severity change missed.
    assert header_panels(resync(browser_client, incident, start + 2)) == [
        "header",
        "tasks",
        "incidents",
    ]
    # Nothing missed: nothing to refresh.
    response = resync(browser_client, incident, start + 3)
    assert response[panels.RESYNC_HEADER] == ""


def test_a_resync_of_typed_entries_only_refreshes_no_panel(incident, drafter, browser_client):
    start = TimelineEntry.objects.filter(incident=incident).order_by("-seq").first().seq
    actions.timeline_add_entry(incident=incident, actor=drafter, kind="note", text="Seen")
    actions.timeline_add_entry(incident=incident, actor=drafter, kind="decision", text="Wait")
    response = resync(browser_client.as_user(drafter), incident, start)
    assert response.content.decode().count("data-seq=") == 2
    assert header_panels(response) == []


def test_the_room_names_every_incident_panel(incident, lead, browser_client):
    html = browser_client.as_user(lead).get(f"/incidents/{incident.pk}/").content.decode()
    named = set()
    for value in re.findall(r'data-panel="([^"]+)"', html):
        named.update(value.split())
    assert named == set(panels.PANELS)


def named_panels(html: str) -> set[str]:
    return {name for value in re.findall(r'data-panel="([^"]+)"', html) for name in value.split()}


def test_the_other_pages_name_their_panels(incident, approver, make_statement, browser_client):
    from django.contrib.auth.models import Permission
    from django.urls import reverse

    statement = make_statement(state="in_review")
    approver.user_permissions.add(Permission.objects.get(codename="view_mention"))
    client = browser_client.as_user(approver)
    pages = {
        reverse("listening"): {
            panels.LISTENING_WATCHES,
            panels.LISTENING_SIGNALS,
            panels.LISTENING_STREAM,
            panels.NOTIFICATIONS,
        },
        reverse("dashboard"): {panels.INCIDENTS, panels.NOTIFICATIONS},
        reverse("approvals-inbox"): {panels.APPROVALS, panels.NOTIFICATIONS},
        reverse("statement-detail", args=[statement.pk]): {
            panels.STATEMENT,
            panels.NOTIFICATIONS,
        },
        reverse("reply-queue", args=[incident.pk]): {panels.REPLY_QUEUE, panels.NOTIFICATIONS},
    }
    seen = set()
    for path, expected in pages.items():
        # Every signed-in page holds the bell and the promotion freeze banner.
        expected = expected | {panels.PROMOTION_FREEZE}
        assert named_panels(client.get(path).content.decode()) == expected, path
        seen |= expected
    assert set(panels.PAGE_PANELS) <= seen


def test_a_conflict_to_merge_is_not_refreshed_under_the_editor(
    incident, drafter, make_statement, browser_client
):
    """The page answering a stale save shows the editor's unsaved text: a live refresh of
    the statement's page would put the saved text back in its place."""
    from django.urls import reverse

    from statements import actions as statement_actions

    statement = make_statement()
    statement_actions.statement_edit(
        statement=statement, actor=drafter, text="Someone else's newer text.", base_revision=1
    )
    response = browser_client.as_user(drafter).post(
        reverse("statement-edit", args=[statement.pk]), {"text": "My text.", "revision": 1}
    )
    assert response.status_code == 409
    html = response.content.decode()
    assert "My text." in html
    assert panels.STATEMENT not in named_panels(html)
    assert f'data-live-incident="{incident.pk}"' in html  # still live for presence


def test_resyncs_render_each_entry_once_per_language(incident, lead, drafter, observer, client):
    """After a blip every page resyncs the same entries: each is rendered once per
    language and process (the live event's own fragments, cached), not once per page."""
    from django.core.cache import cache
    from django.test.signals import template_rendered

    cache.clear()
    start = TimelineEntry.objects.filter(incident=incident).order_by("-seq").first().seq
    for n in range(3):
        actions.timeline_add_entry(incident=incident, actor=drafter, kind="note", text=f"n{n}")
    rendered = []

    def record(sender, template, **kwargs):
        rendered.append(template.name)

    template_rendered.connect(record)
    try:
        bodies = []
        for user in (lead, drafter, observer):
            client.force_login(user)
            bodies.append(resync(client, incident, start).content.decode())
    finally:
        template_rendered.disconnect(record)
    assert bodies[0] == bodies[1] == bodies[2]
    assert bodies[0].count("data-local") == 3 and "n2" in bodies[0]
    assert rendered.count("incidents/_entry.html") <= 3
