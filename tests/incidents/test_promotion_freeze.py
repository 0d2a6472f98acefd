"""The promotion freeze (issue 17, "Going back to work"): no promotional post while a crisis
runs, and no silence for good after it. On by default for high and critical incidents on
every declare path; set and lifted by the lead (room and API), each change on the timeline
and live; a banner on every page of the cell's members (one query); the playbook step
"Pause scheduled posts" ticks itself; a resolved incident reminds its lead once a day until
the freeze is lifted; the post-mortem shows when it was set and lifted."""

import json
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from incidents import actions, panels, rules
from incidents.errors import NotAllowed, TransitionNotAllowed
from incidents.models import Incident, TimelineEntry
from incidents.notifications import actions as notifications
from incidents.notifications.models import Notification
from incidents.outbox.models import OutboundMessage
from incidents.playbooks import actions as playbook_actions
from incidents.playbooks.defaults import INAPPROPRIATE_POST, ensure_default_playbooks
from incidents.playbooks.models import Playbook, Task
from incidents.postmortems import actions as postmortem_actions
from incidents.postmortems import figures, tasks
from incidents.text import ENTRY_MAX

BANNER = re.compile(r'<div class="freeze-banner"[^>]*>(.*?)</div>', re.S)
BANNER_SQL = re.compile(r'FROM "incidents_membership"[\s\S]*"lifted_at" IS NULL')


def kinds(incident):
    return list(TimelineEntry.objects.filter(incident=incident).values_list("kind", flat=True))


def banner(html: str) -> str:
    return BANNER.search(html).group(1).strip()


def freeze(incident, actor, frozen=True, **extra):
    return actions.incident_set_promotion_freeze(
        incident=incident, actor=actor, frozen=frozen, **extra
    )


# --- The default: one rule, every declare path -----------------------------------------------


@pytest.mark.parametrize("severity,frozen", [(1, False), (2, False), (3, True), (4, True)])
def test_the_freeze_is_on_from_the_declaration_at_high_and_critical_severity(
    declare, lead, severity, frozen
):
    incident = declare(severity=severity)
    assert rules.freeze_by_default(severity) is frozen
    assert incident.promotion_frozen is frozen
    if frozen:
        assert kinds(incident) == ["declared", "promotion_freeze_set"]
        entry = TimelineEntry.objects.get(incident=incident, kind="promotion_freeze_set")
        assert entry.actor == lead and entry.key_event
        assert entry.data == {"default": True, "severity": severity}
        assert incident.promotion_frozen_by == lead
    else:
        assert kinds(incident) == ["declared"]
        assert incident.promotion_frozen_by is None


def test_the_declare_page_and_the_api_follow_the_same_rule(browser_client, api, lead):
    form = {"title": "Viral video", "category": "product", "origin": "online", "severity": "3"}
    response = browser_client.as_user(lead).post("/incidents/new/", form)
    assert response.status_code == 302
    from_page = Incident.objects.get(title="Viral video")
    body = {**form, "title": "Low noise", "severity": 1}
    created = api.as_user(lead).post("/api/incidents/", body, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["promotion_freeze"] == {"frozen": False, "since": None, "by": None}
    body = {**form, "title": "Critical", "severity": 4}
    critical = api.as_user(lead).post("/api/incidents/", body, format="json").json()
    assert from_page.promotion_frozen
    assert critical["promotion_freeze"]["frozen"] is True
    assert critical["promotion_freeze"]["by"]["username"] == "lead"
    assert not Incident.objects.get(title="Low noise").promotion_frozen


# --- Who may: the lead, page, API and action agree ------------------------------------------


def test_only_the_lead_may_set_or_lift_it(
    incident, lead, drafter, approver, spokesperson, observer, outsider, staff, api
):
    assert rules.FREEZE_PROMOTION in rules.available_actions(lead, incident)
    assert rules.LIFT_PROMOTION_FREEZE not in rules.available_actions(lead, incident)
    for user in (drafter, approver, spokesperson, observer, staff):
        names = rules.available_actions(user, incident)
        assert rules.FREEZE_PROMOTION not in names and rules.LIFT_PROMOTION_FREEZE not in names
        with pytest.raises(NotAllowed):
            freeze(incident, user)
        response = api.as_user(user).post(
            f"/api/incidents/{incident.pk}/promotion-freeze/", {"frozen": True}, format="json"
        )
        assert response.status_code == 403, user
    outsider_answer = api.as_user(outsider).post(
        f"/api/incidents/{incident.pk}/promotion-freeze/", {"frozen": True}, format="json"
    )
    assert outsider_answer.status_code == 404
    assert not Incident.objects.get(pk=incident.pk).promotion_frozen


def test_the_lead_sets_and_lifts_it_through_the_api(incident, lead, api):
    url = f"/api/incidents/{incident.pk}/promotion-freeze/"
    client = api.as_user(lead)
    body = client.post(url, {"frozen": True, "note": "Campaign paused"}, format="json").json()
    assert body["promotion_freeze"]["frozen"] is True and body["promotion_freeze"]["since"]
    assert "lift_promotion_freeze" in body["available_actions"]
    assert "freeze_promotion" not in body["available_actions"]
    # Again: nothing to do, nothing recorded twice.
    assert client.post(url, {"frozen": True}, format="json").status_code == 200
    assert kinds(incident).count("promotion_freeze_set") == 1
    set_entry = TimelineEntry.objects.get(incident=incident, kind="promotion_freeze_set")
    assert set_entry.text == "Campaign paused" and set_entry.data == {"default": False}
    lifted = client.post(url, {"frozen": False}, format="json").json()
    assert lifted["promotion_freeze"] == {"frozen": False, "since": None, "by": None}
    entry = TimelineEntry.objects.get(incident=incident, kind="promotion_freeze_lifted")
    assert entry.actor == lead and entry.key_event
    assert entry.data["set_by"] == lead.pk and entry.data["held_seconds"] >= 0
    assert client.post(url, {"frozen": "maybe"}, format="json").status_code == 400
    assert (
        client.post(url, {"frozen": True, "note": "x" * (ENTRY_MAX + 1)}, format="json").status_code
        == 400
    )


def test_a_closed_incident_cannot_be_frozen_but_its_freeze_can_be_lifted(incident, lead, api):
    freeze(incident, lead)
    for status in ("active", "resolved", "closed"):
        actions.incident_transition(incident=incident, actor=lead, status=status)
    incident.refresh_from_db()
    assert rules.available_actions(lead, incident).count(rules.LIFT_PROMOTION_FREEZE) == 1
    freeze(incident, lead, frozen=False)
    incident.refresh_from_db()
    names = rules.available_actions(lead, incident)
    assert rules.FREEZE_PROMOTION not in names and rules.LIFT_PROMOTION_FREEZE not in names
    with pytest.raises(TransitionNotAllowed):
        freeze(incident, lead)
    response = api.as_user(lead).post(
        f"/api/incidents/{incident.pk}/promotion-freeze/", {"frozen": True}, format="json"
    )
    assert response.status_code == 409


def test_the_room_offers_the_lead_a_confirmed_control(incident, lead, drafter, browser_client):
    room = f"/incidents/{incident.pk}/"
    html = browser_client.as_user(lead).get(room).content.decode()
    assert 'data-action="freeze_promotion"' in html and "hx-confirm=" in html
    assert "Promotion freeze on" not in html
    response = browser_client.post(
        f"/incidents/{incident.pk}/promotion-freeze/", {"frozen": "1"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200 and "incident-changed" in response["HX-Trigger"]
    html = browser_client.get(room).content.decode()
    assert 'data-action="lift_promotion_freeze"' in html
    assert "Lift the freeze and resume normal posting" in html
    drafter_html = browser_client.as_user(drafter).get(room).content.decode()
    assert "Promotion freeze on" in drafter_html
    assert "lift_promotion_freeze" not in drafter_html
    refused = browser_client.post(
        f"/incidents/{incident.pk}/promotion-freeze/", {"frozen": "0"}, HTTP_HX_REQUEST="true"
    )
    assert refused.status_code == 422
    assert Incident.objects.get(pk=incident.pk).promotion_frozen


def test_each_change_is_live_for_the_header_and_the_banner(
    incident, lead, listener, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        freeze(incident, lead)
    (message,) = listener()
    payload = json.loads(message["text"])
    assert payload["event"] == "timeline.promotion_freeze_set"
    assert payload["panels"] == [panels.HEADER, panels.PROMOTION_FREEZE]
    with django_capture_on_commit_callbacks(execute=True):
        freeze(incident, lead, frozen=False)
    (message,) = listener()
    assert json.loads(message["text"])["event"] == "timeline.promotion_freeze_lifted"


# --- The banner: the cell's members, one query -----------------------------------------------


def test_the_banner_shows_on_every_page_of_the_cells_members_only(
    incident, lead, observer, outsider, staff, browser_client
):
    freeze(incident, lead)
    for user in (lead, observer):
        html = browser_client.as_user(user).get("/").content.decode()
        text = banner(html)
        assert "Promotion freeze" in text and incident.title in text
        assert f'href="/incidents/{incident.pk}/#promotion-freeze"' in text
        assert "do not publish promotional posts" in text
        approvals = browser_client.get("/approvals/").content.decode()
        assert incident.title in banner(approvals)
    for user in (outsider, staff):
        html = browser_client.as_user(user).get("/").content.decode()
        assert banner(html) == "" and "freeze-banner" in html
    # The banner alone, for its live refresh.
    partial = browser_client.as_user(observer).get("/promotion-freeze/banner/")
    assert incident.title in partial.content.decode()
    # Lifted: gone.
    freeze(incident, lead, frozen=False)
    assert banner(browser_client.as_user(observer).get("/").content.decode()) == ""


def test_no_freeze_no_banner(incident, declare, lead, drafter, browser_client):
    declare(title="Another, never frozen", severity=2)
    actions.incident_transition(incident=incident, actor=lead, status="active")
    for user in (lead, drafter):
        assert banner(browser_client.as_user(user).get("/").content.decode()) == ""


def test_a_member_who_left_the_cell_sees_no_banner(incident, lead, drafter, browser_client):
    freeze(incident, lead)
    actions.member_remove(incident=incident, actor=lead, user=drafter)
    assert banner(browser_client.as_user(drafter).get("/").content.decode()) == ""


def test_the_banner_costs_one_query_whatever_the_number_of_freezes(declare, lead, browser_client):
    client = browser_client.as_user(lead)
    declare(title="First", severity=3)

    def banner_queries():
        with CaptureQueriesContext(connection) as queries:
            html = client.get("/promotion-freeze/banner/").content.decode()
        return len(queries), html

    one, _html = banner_queries()
    for n in range(6):
        declare(title=f"Crisis {n}", severity=4)
    many, html = banner_queries()
    assert many == one
    # At most three named, the others summed up.
    assert html.count("#promotion-freeze") == 3 and "Other incidents hold" in html
    with CaptureQueriesContext(connection) as page:
        client.get("/approvals/")
    banner_sql = [q for q in page.captured_queries if BANNER_SQL.search(q["sql"])]
    assert len(banner_sql) == 1


def test_an_htmx_panel_asks_no_banner_query(incident, lead, browser_client):
    freeze(incident, lead)
    client = browser_client.as_user(lead)
    with CaptureQueriesContext(connection) as queries:
        client.get(f"/incidents/{incident.pk}/header/")
    assert not [q for q in queries.captured_queries if BANNER_SQL.search(q["sql"])]


# --- The playbook step -----------------------------------------------------------------------


@pytest.fixture
def inappropriate_post(db):
    ensure_default_playbooks()
    return Playbook.objects.get(name=INAPPROPRIATE_POST)


def pause_task(incident):
    return Task.objects.get(incident=incident, completes_on="promotion_frozen")


def test_setting_the_freeze_completes_pause_scheduled_posts(incident, lead, inappropriate_post):
    playbook_actions.playbook_apply(incident=incident, actor=lead, playbook=inappropriate_post)
    task = pause_task(incident)
    assert task.status == "open" and "Pause scheduled posts" in task.title
    freeze(incident, lead)
    task.refresh_from_db()
    assert task.status == "done" and task.completed_by == lead
    done = TimelineEntry.objects.get(incident=incident, kind="task_completed")
    assert done.data["trigger"]["event"] == "promotion_freeze_set"
    assert done.data["trigger"]["by"] == "Camille Laurent"


def test_a_playbook_applied_after_a_default_freeze_finds_the_step_done(
    declare, lead, inappropriate_post
):
    incident = declare(severity=3)
    playbook_actions.playbook_apply(incident=incident, actor=lead, playbook=inappropriate_post)
    task = pause_task(incident)
    assert task.status == "done"
    assert kinds(incident) == [
        "declared",
        "promotion_freeze_set",
        "playbook_applied",
        "task_completed",
    ]
    others = Task.objects.filter(incident=incident).exclude(pk=task.pk)
    assert not others.filter(status="done").exists()


def test_declaring_from_a_playbook_at_high_severity_completes_it_too(
    browser_client, lead, inappropriate_post
):
    form = {
        "title": "Tasteless joke",
        "category": "public_statement",
        "origin": "online",
        "severity": "3",
        "playbook": inappropriate_post.pk,
    }
    assert browser_client.as_user(lead).post("/incidents/new/", form).status_code == 302
    incident = Incident.objects.get(title="Tasteless joke")
    assert pause_task(incident).status == "done"


# --- After the crisis: the reminder, until the freeze is lifted ------------------------------


def reminders(user):
    return Notification.objects.filter(user=user, kind="promotion_freeze_holds")


def resolve(incident, lead):
    for status in ("active", "resolved"):
        actions.incident_transition(incident=incident, actor=lead, status=status)


def test_resolving_a_frozen_incident_reminds_the_lead_then_once_a_day_until_lifted(
    incident, lead, drafter
):
    lead.email = "lead@example.com"
    lead.save(update_fields=["email"])
    freeze(incident, lead)
    now = timezone.now()
    assert postmortem_actions.freezes_send_reminders(now=now) == 0  # still running: no
    resolve(incident, lead)
    (note,) = reminders(lead)
    assert note.subject == "Lift the promotion freeze and resume normal posting"
    assert note.url == f"/incidents/{incident.pk}/#promotion-freeze"
    assert OutboundMessage.objects.filter(channel="email", recipient="lead@example.com").exists()
    assert not reminders(drafter).exists()
    # The sweep the same day (twice): nothing more.
    assert postmortem_actions.freezes_send_reminders(now=now) == 0
    assert tasks.send_promotion_freeze_reminders.apply().get() == 0
    # The next days, once each; closed too.
    assert postmortem_actions.freezes_send_reminders(now=now + timedelta(days=1)) == 1
    assert postmortem_actions.freezes_send_reminders(now=now + timedelta(days=1)) == 0
    actions.incident_transition(incident=incident, actor=lead, status="closed")
    assert postmortem_actions.freezes_send_reminders(now=now + timedelta(days=2)) == 1
    assert reminders(lead).count() == 3
    # Lifted: normal posting resumed, recorded, and no reminder ever again.
    freeze(incident, lead, frozen=False)
    lifted = TimelineEntry.objects.get(incident=incident, kind="promotion_freeze_lifted")
    assert lifted.data["status"] == "closed"
    assert postmortem_actions.freezes_send_reminders(now=now + timedelta(days=3)) == 0


def test_the_reminder_is_in_the_leads_language(incident, lead):
    notifications.preferences_update(actor=lead, language="fr")
    freeze(incident, lead)
    resolve(incident, lead)
    (note,) = reminders(lead)
    assert note.subject == "Lever le gel des promotions et reprendre les publications normales"


def test_resolving_without_a_freeze_reminds_nobody(incident, lead, settings):
    resolve(incident, lead)
    assert postmortem_actions.freezes_send_reminders(now=timezone.now() + timedelta(days=1)) == 0
    assert not Notification.objects.filter(kind="promotion_freeze_holds").exists()
    schedule = settings.CELERY_BEAT_SCHEDULE["promotion-freeze-reminders"]
    assert schedule["task"] == "incidents.postmortems.tasks.send_promotion_freeze_reminders"


def test_the_sweep_finds_its_work_in_a_constant_number_of_queries(declare):
    def frozen_and_resolved(n):
        for i in range(n):
            incident = declare(title=f"Crisis {i}", severity=3)
            Incident.objects.filter(pk=incident.pk).update(status="resolved")

    def sweep_queries(now) -> int:
        with CaptureQueriesContext(connection) as queries:
            assert postmortem_actions.freezes_send_reminders(now=now) == 0  # all sent
        return len(queries)

    tomorrow = timezone.now() + timedelta(days=1)
    frozen_and_resolved(1)
    assert postmortem_actions.freezes_send_reminders(now=tomorrow) == 1
    one = sweep_queries(tomorrow)
    frozen_and_resolved(4)
    assert postmortem_actions.freezes_send_reminders(now=tomorrow) == 4
    assert sweep_queries(tomorrow) == one <= 3


def test_a_full_batch_of_reminded_incidents_does_not_starve_the_next(declare, monkeypatch):
    """Beyond one batch, each run of the day reaches incidents not reminded yet."""
    monkeypatch.setattr(postmortem_actions, "FREEZE_REMIND_BATCH", 1)
    for i in range(3):
        incident = declare(title=f"Crisis {i}", severity=3)
        Incident.objects.filter(pk=incident.pk).update(status="resolved")
    tomorrow = timezone.now() + timedelta(days=1)
    assert [postmortem_actions.freezes_send_reminders(now=tomorrow) for _ in range(4)] == [
        1, 1, 1, 0,
    ]  # fmt: skip


# --- The post-mortem's phases ----------------------------------------------------------------


def test_the_post_mortem_shows_when_the_freeze_was_set_and_lifted(declare, lead):
    incident = declare(severity=4)
    resolve(incident, lead)
    freeze(incident, lead, frozen=False)
    incident.refresh_from_db()
    phases = [p.key for p in figures.report(incident).phases]
    assert phases.index("promotion_freeze_set") < phases.index("resolved")
    assert phases.index("resolved") < phases.index("promotion_freeze_lifted")


def test_the_banner_and_the_control_speak_french(incident, lead, browser_client):
    freeze(incident, lead)
    client = browser_client.as_user(lead)
    html = client.get("/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Gel des promotions" in banner(html)
    assert "ne publiez aucun message promotionnel" in banner(html)
    room = client.get(f"/incidents/{incident.pk}/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Lever le gel et reprendre les publications normales" in room
