"""The incident endpoints: list, declare, detail, edit and the lifecycle transition."""

from datetime import timedelta

import pytest
from django.utils import timezone

from incidents import actions
from incidents.models import Incident, Membership, TimelineEntry
from tests.helpers import assert_error, dt

LIST_URL = "/api/incidents/"
PASSWORD = "pw-for-tests"


def detail_url(incident):
    return f"/api/incidents/{incident.pk}/"


def transition_url(incident):
    return f"/api/incidents/{incident.pk}/transition/"


def entries(incident):
    return list(TimelineEntry.objects.filter(incident=incident).order_by("seq"))


def snapshot(incident):
    """Everything a refused write must leave untouched."""
    fresh = Incident.objects.get(pk=incident.pk)
    return (
        {field.attname: getattr(fresh, field.attname) for field in Incident._meta.concrete_fields},
        list(TimelineEntry.objects.filter(incident=incident).values_list("seq", "hash")),
        list(Membership.objects.filter(incident=incident).values()),
    )


def walk(incident, actor, *statuses):
    for status in statuses:
        incident = actions.incident_transition(incident=incident, actor=actor, status=status)
    return incident


# --- List --------------------------------------------------------------------------------


def test_member_lists_only_incidents_whose_cell_they_are_in(api, incident, declare, outsider):
    foreign = declare(actor=outsider, title="Someone else's crisis")

    response = api.as_user(incident.declared_by).get(LIST_URL)

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    assert [item["id"] for item in body["results"]] == [incident.pk]
    assert foreign.title not in response.text


@pytest.mark.parametrize("persona", ["drafter", "approver", "spokesperson", "observer"])
def test_every_cell_member_sees_the_incident_with_their_role(api, incident, persona, request):
    user = request.getfixturevalue(persona)

    response = api.as_user(user).get(LIST_URL)

    assert response.status_code == 200
    [item] = response.json()["results"]
    assert item["id"] == incident.pk
    assert item["my_role"] == persona


def test_outsider_lists_no_incidents(api, incident, outsider):
    response = api.as_user(outsider).get(LIST_URL)

    assert response.status_code == 200
    assert response.json()["count"] == 0
    assert response.json()["results"] == []


def test_staff_lists_every_incident_without_a_role(api, incident, declare, outsider, staff):
    foreign = declare(actor=outsider, title="Someone else's crisis")

    response = api.as_user(staff).get(LIST_URL)

    assert response.status_code == 200
    items = {item["id"]: item for item in response.json()["results"]}
    assert set(items) == {incident.pk, foreign.pk}
    assert items[incident.pk]["my_role"] is None
    assert items[foreign.pk]["lead"]["id"] == outsider.pk


def test_list_item_carries_lead_role_transitions_and_severity_label(api, incident, lead):
    response = api.as_user(lead).get(LIST_URL)

    [item] = response.json()["results"]
    assert item["title"] == "Insensitive post on the brand account"
    assert item["lead"] == {"id": lead.pk, "username": "lead", "name": "Camille Laurent"}
    assert item["my_role"] == "lead"
    assert item["status"] == "detected"
    assert item["status_label"] == "Detected"
    assert item["allowed_transitions"] == ["active", "closed"]
    assert item["severity"] == 2
    assert item["severity_label"] == "Moderate — spreading"
    assert item["platforms"] == ["x", "instagram"]
    assert item["category"] == "public_statement"
    assert item["origin"] == "online"


def test_list_allowed_transitions_follow_the_status(api, incident, lead):
    walk(incident, lead, "active")

    [item] = api.as_user(lead).get(LIST_URL).json()["results"]

    assert item["status"] == "active"
    assert item["allowed_transitions"] == ["monitoring", "resolved"]


def test_removed_member_no_longer_lists_the_incident(api, incident, lead, drafter):
    actions.member_remove(incident=incident, actor=lead, user=drafter)

    response = api.as_user(drafter).get(LIST_URL)

    assert response.status_code == 200
    assert response.json()["results"] == []


def test_closed_incidents_are_hidden_unless_open_is_false(api, incident, declare, lead):
    closed = walk(declare(title="Old rumour"), lead, "closed")

    default = api.as_user(lead).get(LIST_URL).json()
    everything = api.as_user(lead).get(LIST_URL, {"open": "false"}).json()

    assert [item["id"] for item in default["results"]] == [incident.pk]
    assert {item["id"] for item in everything["results"]} == {incident.pk, closed.pk}
    closed_item = next(i for i in everything["results"] if i["id"] == closed.pk)
    assert closed_item["status"] == "closed"
    assert closed_item["closed_at"] is not None


def test_resolved_incidents_still_count_as_open(api, incident, lead):
    walk(incident, lead, "active", "resolved")

    response = api.as_user(lead).get(LIST_URL)

    assert [item["id"] for item in response.json()["results"]] == [incident.pk]


def test_status_filter_returns_only_that_status(api, incident, declare, lead):
    active = walk(declare(title="Going viral"), lead, "active")

    response = api.as_user(lead).get(LIST_URL, {"status": "active"})

    assert response.status_code == 200
    assert [item["id"] for item in response.json()["results"]] == [active.pk]
    detected = api.as_user(lead).get(LIST_URL, {"status": "detected"}).json()["results"]
    assert [item["id"] for item in detected] == [incident.pk]


def test_status_filter_combines_with_open_false_to_find_closed_incidents(
    api, incident, declare, lead
):
    closed = walk(declare(title="Old rumour"), lead, "closed")

    response = api.as_user(lead).get(LIST_URL, {"open": "false", "status": "closed"})

    assert [item["id"] for item in response.json()["results"]] == [closed.pk]


def test_list_is_newest_first(api, declare, lead):
    first = declare(title="First")
    second = declare(title="Second")

    results = api.as_user(lead).get(LIST_URL).json()["results"]

    assert [item["id"] for item in results] == [second.pk, first.pk]


# --- Declare -----------------------------------------------------------------------------


def test_any_signed_in_user_declares_an_incident_and_becomes_its_lead(api, outsider):
    before = timezone.now()
    response = api.as_user(outsider).post(
        LIST_URL,
        {
            "title": "  Fake recall notice circulating  ",
            "summary": "A fake product recall is being shared.",
            "category": "rumour",
            "origin": "online",
            "platforms": ["tiktok", "x", "x"],
            "severity": 3,
        },
        format="json",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    incident = Incident.objects.get(pk=body["id"])
    assert body["title"] == incident.title == "Fake recall notice circulating"
    assert body["status"] == incident.status == "detected"
    assert body["severity"] == incident.severity == 3
    assert body["severity_label"] == "High — viral"
    assert body["platforms"] == incident.platforms == ["x", "tiktok"]
    assert body["my_role"] == "lead"
    assert body["lead"]["id"] == outsider.pk
    assert body["allowed_transitions"] == ["active", "closed"]
    assert incident.declared_by == outsider
    assert before <= incident.declared_at <= timezone.now()
    assert incident.first_response_due_at == incident.declared_at + timedelta(minutes=30)
    assert dt(body["first_response_due_at"]) == incident.first_response_due_at
    [membership] = Membership.objects.filter(incident=incident)
    assert (membership.user, membership.role, membership.left_at) == (outsider, "lead", None)
    # Severity 3: the promotion freeze is on from the declaration (rules.freeze_by_default).
    [entry, freeze] = entries(incident)
    assert (entry.seq, entry.kind, entry.actor, entry.key_event) == (1, "declared", outsider, True)
    assert (freeze.seq, freeze.kind, freeze.actor) == (2, "promotion_freeze_set", outsider)
    assert body["promotion_freeze"]["frozen"] is True
    assert entry.text == "A fake product recall is being shared."


def test_declared_incident_defaults_to_moderate_severity_and_now(api, outsider):
    before = timezone.now()
    response = api.as_user(outsider).post(
        LIST_URL,
        {"title": "Angry thread", "category": "service", "origin": "online"},
        format="json",
    )

    assert response.status_code == 201, response.content
    incident = Incident.objects.get(pk=response.json()["id"])
    assert incident.severity == 2
    assert incident.platforms == []
    assert before <= incident.detected_at <= timezone.now()
    assert incident.first_response_due_at == incident.declared_at + timedelta(minutes=60)


def test_declared_incident_keeps_a_back_dated_detection_time(api, outsider):
    detected = (timezone.now() - timedelta(hours=3)).replace(microsecond=0)

    response = api.as_user(outsider).post(
        LIST_URL,
        {
            "title": "Spotted overnight",
            "category": "brand",
            "origin": "offline",
            "detected_at": detected.isoformat(),
        },
        format="json",
    )

    assert response.status_code == 201, response.content
    incident = Incident.objects.get(pk=response.json()["id"])
    assert incident.detected_at == detected
    assert dt(response.json()["detected_at"]) == detected
    assert incident.declared_at > detected


def test_declared_incident_is_visible_to_its_declarer_only(api, outsider, drafter):
    response = api.as_user(outsider).post(
        LIST_URL, {"title": "Leak", "category": "other", "origin": "online"}, format="json"
    )
    pk = response.json()["id"]

    assert api.as_user(drafter).get(f"/api/incidents/{pk}/").status_code == 404
    assert api.as_user(outsider).get(f"/api/incidents/{pk}/").status_code == 200


VALID = {"title": "Boycott call", "category": "brand", "origin": "online"}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"title": None}, "title"),
        ({"title": ""}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"category": None}, "category"),
        ({"category": "gossip"}, "category"),
        ({"origin": "telepathy"}, "origin"),
        ({"platforms": ["x", "myspace"]}, "platforms"),
        ({"severity": 9}, "severity"),
        ({"severity": 0}, "severity"),
        ({"detected_at": "not a date"}, "detected_at"),
    ],
    ids=[
        "missing-title",
        "blank-title",
        "title-too-long",
        "missing-category",
        "unknown-category",
        "unknown-origin",
        "unknown-platform",
        "severity-9",
        "severity-0",
        "garbage-detected-at",
    ],
)
def test_declaring_with_bad_input_gets_400_and_writes_nothing(api, outsider, changes, field):
    payload = {**VALID, **changes}
    payload = {key: value for key, value in payload.items() if value is not None}

    response = api.as_user(outsider).post(LIST_URL, payload, format="json")

    detail = assert_error(response, 400)
    assert detail.startswith(f"{field}:")
    assert field in response.json()["errors"]
    assert not Incident.objects.exists()
    assert not Membership.objects.exists()
    assert not TimelineEntry.objects.exists()


def test_declaring_with_a_future_detection_time_gets_400_and_writes_nothing(api, outsider):
    future = timezone.now() + timedelta(hours=2)

    response = api.as_user(outsider).post(
        LIST_URL, {**VALID, "detected_at": future.isoformat()}, format="json"
    )

    detail = assert_error(response, 400)
    assert "future" in detail
    assert not Incident.objects.exists()
    assert not Membership.objects.exists()
    assert not TimelineEntry.objects.exists()


def test_declaring_ignores_read_only_status(api, outsider):
    response = api.as_user(outsider).post(LIST_URL, {**VALID, "status": "closed"}, format="json")

    assert response.status_code == 201, response.content
    assert response.json()["status"] == "detected"
    assert Incident.objects.get().status == "detected"


# --- Detail ------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["lead", "drafter", "approver", "spokesperson", "observer"])
def test_cell_member_gets_incident_detail(api, incident, persona, request, lead):
    response = api.as_user(request.getfixturevalue(persona)).get(detail_url(incident))

    assert response.status_code == 200
    body = response.json()
    assert body["id"] == incident.pk
    assert body["title"] == incident.title
    assert body["my_role"] == persona
    assert body["lead"]["id"] == lead.pk
    assert dt(body["declared_at"]) == incident.declared_at
    assert dt(body["first_response_due_at"]) == incident.first_response_due_at


def test_outsider_gets_404_on_incident_detail(api, incident, outsider):
    response = api.as_user(outsider).get(detail_url(incident))

    assert_error(response, 404)
    assert incident.title not in response.text


def test_unknown_incident_gets_404(api, incident, lead):
    assert_error(api.as_user(lead).get(f"/api/incidents/{incident.pk + 1000}/"), 404)


def test_staff_gets_incident_detail_without_a_role(api, incident, staff, lead):
    response = api.as_user(staff).get(detail_url(incident))

    assert response.status_code == 200
    assert response.json()["my_role"] is None
    assert response.json()["lead"]["id"] == lead.pk


def test_removed_member_gets_404_on_incident_detail(api, incident, lead, approver):
    actions.member_remove(incident=incident, actor=lead, user=approver)

    assert_error(api.as_user(approver).get(detail_url(incident)), 404)


# --- Edit --------------------------------------------------------------------------------


def test_lead_edits_title_summary_and_platforms(api, incident, lead):
    last_seq = entries(incident)[-1].seq

    response = api.as_user(lead).patch(
        detail_url(incident),
        {
            "title": "Insensitive post, now on the news",
            "summary": "Picked up by two outlets.",
            "platforms": ["press", "x", "instagram"],
        },
        format="json",
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["title"] == "Insensitive post, now on the news"
    assert body["summary"] == "Picked up by two outlets."
    assert body["platforms"] == ["x", "instagram", "press"]
    incident.refresh_from_db()
    assert incident.title == "Insensitive post, now on the news"
    assert incident.summary == "Picked up by two outlets."
    assert incident.platforms == ["x", "instagram", "press"]
    [entry] = [e for e in entries(incident) if e.seq > last_seq]
    assert (entry.kind, entry.actor) == ("updated", lead)
    assert entry.data == {
        "title": {
            "old": "Insensitive post on the brand account",
            "new": "Insensitive post, now on the news",
        },
        "summary": {"old": "", "new": "Picked up by two outlets."},
        "platforms": {"old": ["x", "instagram"], "new": ["x", "instagram", "press"]},
    }


@pytest.mark.parametrize(("severity", "minutes"), [(4, 15), (3, 30), (1, 60)])
def test_severity_change_moves_the_first_response_deadline(api, incident, lead, severity, minutes):
    last_seq = entries(incident)[-1].seq

    response = api.as_user(lead).patch(detail_url(incident), {"severity": severity}, format="json")

    assert response.status_code == 200, response.content
    incident.refresh_from_db()
    due = incident.declared_at + timedelta(minutes=minutes)
    assert incident.severity == severity
    assert incident.first_response_due_at == due
    assert response.json()["severity"] == severity
    assert dt(response.json()["first_response_due_at"]) == due
    [entry] = [e for e in entries(incident) if e.seq > last_seq]
    assert (entry.kind, entry.actor) == ("severity_changed", lead)
    assert entry.data["old"] == 2
    assert entry.data["new"] == severity
    assert entry.key_event is (severity > 2)


def test_severity_can_come_back_down_and_the_deadline_follows(api, incident, lead):
    api.as_user(lead).patch(detail_url(incident), {"severity": 4}, format="json")

    response = api.as_user(lead).patch(detail_url(incident), {"severity": 1}, format="json")

    assert response.status_code == 200
    incident.refresh_from_db()
    assert incident.first_response_due_at == incident.declared_at + timedelta(minutes=60)
    kinds = [e.kind for e in entries(incident)]
    assert kinds.count("severity_changed") == 2


def test_severity_change_after_first_response_keeps_the_deadline(api, incident, lead):
    responded = incident.declared_at + timedelta(minutes=20)
    Incident.objects.filter(pk=incident.pk).update(first_response_at=responded)
    incident.refresh_from_db()
    due_before = incident.first_response_due_at

    response = api.as_user(lead).patch(detail_url(incident), {"severity": 4}, format="json")

    assert response.status_code == 200
    incident.refresh_from_db()
    assert incident.severity == 4
    assert incident.first_response_due_at == due_before
    assert "first_response_due_at" not in entries(incident)[-1].data


def test_editing_details_and_severity_together_writes_two_entries(api, incident, lead):
    last_seq = entries(incident)[-1].seq

    response = api.as_user(lead).patch(
        detail_url(incident), {"title": "Viral now", "severity": 3}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["title"] == "Viral now"
    assert response.json()["severity"] == 3
    new = [e.kind for e in entries(incident) if e.seq > last_seq]
    assert new == ["updated", "severity_changed"]


def test_patch_with_unchanged_values_writes_no_entry(api, incident, lead):
    before = entries(incident)

    response = api.as_user(lead).patch(
        detail_url(incident),
        {"title": incident.title, "severity": incident.severity, "platforms": ["instagram", "x"]},
        format="json",
    )

    assert response.status_code == 200
    assert entries(incident) == before


@pytest.mark.parametrize("persona", ["drafter", "approver", "spokesperson", "observer"])
def test_non_lead_member_gets_403_on_patch(api, incident, persona, request):
    before = snapshot(incident)

    response = api.as_user(request.getfixturevalue(persona)).patch(
        detail_url(incident), {"title": "Hijacked"}, format="json"
    )

    assert_error(response, 403)
    assert snapshot(incident) == before


@pytest.mark.parametrize("persona", ["drafter", "observer"])
def test_non_lead_member_gets_403_on_severity_patch(api, incident, persona, request):
    before = snapshot(incident)

    response = api.as_user(request.getfixturevalue(persona)).patch(
        detail_url(incident), {"severity": 4}, format="json"
    )

    assert_error(response, 403)
    assert snapshot(incident) == before


def test_outsider_gets_404_on_patch(api, incident, outsider):
    before = snapshot(incident)

    response = api.as_user(outsider).patch(
        detail_url(incident), {"title": "Hijacked", "severity": 4}, format="json"
    )

    assert_error(response, 404)
    assert snapshot(incident) == before


def test_staff_can_read_but_gets_403_on_patch(api, incident, staff):
    before = snapshot(incident)

    response = api.as_user(staff).patch(
        detail_url(incident), {"title": "Edited by staff"}, format="json"
    )

    assert_error(response, 403)
    assert snapshot(incident) == before


@pytest.mark.parametrize(
    "payload",
    [
        {"title": ""},
        {"severity": 9},
        {"platforms": ["fax"]},
        {"category": "gossip"},
        {"title": "Fine", "severity": 9},
    ],
    ids=["blank-title", "severity-9", "unknown-platform", "unknown-category", "partly-bad"],
)
def test_lead_patch_with_bad_input_gets_400_and_changes_nothing(api, incident, lead, payload):
    before = snapshot(incident)

    response = api.as_user(lead).patch(detail_url(incident), payload, format="json")

    assert_error(response, 400)
    assert snapshot(incident) == before


def test_lead_patch_with_future_detection_time_gets_400_and_changes_nothing(api, incident, lead):
    before = snapshot(incident)
    future = timezone.now() + timedelta(days=1)

    response = api.as_user(lead).patch(
        detail_url(incident), {"title": "Fine", "detected_at": future.isoformat()}, format="json"
    )

    assert "future" in assert_error(response, 400)
    assert snapshot(incident) == before


@pytest.mark.parametrize("method", ["put", "delete"])
def test_put_and_delete_on_an_incident_are_not_allowed(api, incident, lead, method):
    before = snapshot(incident)
    payload = {"title": "Replaced", "category": "brand", "origin": "online"}

    response = getattr(api.as_user(lead), method)(detail_url(incident), payload, format="json")

    assert_error(response, 405)
    assert snapshot(incident) == before


def test_delete_on_the_incident_list_is_not_allowed(api, incident, lead):
    assert_error(api.as_user(lead).delete(LIST_URL), 405)
    assert Incident.objects.filter(pk=incident.pk).exists()


# --- Transition --------------------------------------------------------------------------


def test_lead_moves_detected_to_active(api, incident, lead):
    last_seq = entries(incident)[-1].seq
    before = timezone.now()

    response = api.as_user(lead).post(transition_url(incident), {"status": "active"}, format="json")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "active"
    assert body["allowed_transitions"] == ["monitoring", "resolved"]
    incident.refresh_from_db()
    assert incident.status == "active"
    assert before <= incident.active_at <= timezone.now()
    assert dt(body["active_at"]) == incident.active_at
    [entry] = [e for e in entries(incident) if e.seq > last_seq]
    assert (entry.kind, entry.actor, entry.key_event) == ("status_changed", lead, True)
    assert entry.data == {"old": "detected", "new": "active"}


def test_transition_note_is_kept_on_the_entry(api, incident, lead):
    response = api.as_user(lead).post(
        transition_url(incident), {"status": "active", "note": "  Cell convened.  "}, format="json"
    )

    assert response.status_code == 200
    assert entries(incident)[-1].text == "Cell convened."


def test_lead_walks_the_whole_lifecycle(api, incident, lead):
    client = api.as_user(lead)
    for status in ["active", "monitoring", "resolved", "closed"]:
        response = client.post(transition_url(incident), {"status": status}, format="json")
        assert response.status_code == 200, response.content
        assert response.json()["status"] == status

    incident.refresh_from_db()
    assert incident.status == "closed"
    assert incident.active_at <= incident.monitoring_at <= incident.resolved_at
    assert incident.resolved_at <= incident.closed_at
    changes = [e.data for e in entries(incident) if e.kind == "status_changed"]
    assert changes == [
        {"old": "detected", "new": "active"},
        {"old": "active", "new": "monitoring"},
        {"old": "monitoring", "new": "resolved"},
        {"old": "resolved", "new": "closed"},
    ]


def test_detected_incident_can_be_closed_directly(api, incident, lead):
    response = api.as_user(lead).post(transition_url(incident), {"status": "closed"}, format="json")

    assert response.status_code == 200
    incident.refresh_from_db()
    assert incident.status == "closed"
    assert incident.closed_at is not None


def test_active_to_closed_is_refused_with_409_and_a_message(api, incident, lead):
    walk(incident, lead, "active")
    before = snapshot(incident)

    response = api.as_user(lead).post(transition_url(incident), {"status": "closed"}, format="json")

    detail = assert_error(response, 409)
    assert "Active" in detail
    assert "Closed" in detail
    assert snapshot(incident) == before


@pytest.mark.parametrize(
    ("path", "target"),
    [
        (["active", "resolved"], "active"),
        (["closed"], "active"),
    ],
    ids=["resolved-to-active", "closed-to-active"],
)
def test_going_back_to_active_after_resolution_is_a_reopening(api, incident, lead, path, target):
    incident = walk(incident, lead, *path)
    last_seq = entries(incident)[-1].seq

    response = api.as_user(lead).post(transition_url(incident), {"status": target}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "active"
    [entry] = [e for e in entries(incident) if e.seq > last_seq]
    assert (entry.kind, entry.key_event) == ("reopened", True)
    assert entry.data == {"old": path[-1], "new": "active"}


def test_monitoring_back_to_active_is_not_a_reopening(api, incident, lead):
    walk(incident, lead, "active", "monitoring")

    response = api.as_user(lead).post(transition_url(incident), {"status": "active"}, format="json")

    assert response.status_code == 200
    assert entries(incident)[-1].kind == "status_changed"


def test_reopened_incident_reappears_in_the_default_list(api, incident, lead):
    walk(incident, lead, "closed")
    assert api.as_user(lead).get(LIST_URL).json()["results"] == []

    api.as_user(lead).post(transition_url(incident), {"status": "active"}, format="json")

    assert [i["id"] for i in api.as_user(lead).get(LIST_URL).json()["results"]] == [incident.pk]


def test_asking_for_the_current_status_twice_is_a_harmless_no_op(api, incident, lead):
    client = api.as_user(lead)
    client.post(transition_url(incident), {"status": "active"}, format="json")
    incident.refresh_from_db()
    before = snapshot(incident)

    response = client.post(transition_url(incident), {"status": "active"}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "active"
    assert snapshot(incident) == before


@pytest.mark.parametrize("persona", ["drafter", "approver", "spokesperson", "observer", "staff"])
def test_non_lead_gets_403_on_transition(api, incident, persona, request):
    before = snapshot(incident)

    response = api.as_user(request.getfixturevalue(persona)).post(
        transition_url(incident), {"status": "active"}, format="json"
    )

    assert_error(response, 403)
    assert snapshot(incident) == before


def test_outsider_gets_404_on_transition(api, incident, outsider):
    before = snapshot(incident)

    response = api.as_user(outsider).post(
        transition_url(incident), {"status": "active"}, format="json"
    )

    assert_error(response, 404)
    assert snapshot(incident) == before


@pytest.mark.parametrize("payload", [{"status": "exploded"}, {"status": ""}, {}])
def test_unknown_or_missing_status_gets_400(api, incident, lead, payload):
    before = snapshot(incident)

    response = api.as_user(lead).post(transition_url(incident), payload, format="json")

    detail = assert_error(response, 400)
    assert detail.startswith("status:")
    assert snapshot(incident) == before


def test_transition_only_accepts_post(api, incident, lead):
    assert_error(api.as_user(lead).get(transition_url(incident)), 405)


@pytest.mark.parametrize(
    ("persona", "payload"),
    [("drafter", {"status": "closed"}), ("staff", {})],
    ids=["drafter-read-only-field", "staff-empty-body"],
)
def test_non_lead_patch_is_refused_even_when_it_would_change_nothing(
    api, incident, persona, payload, request
):
    """A PATCH that carries no editable field must not answer 200 to someone who may not edit:
    a client would believe its change went through."""
    before = snapshot(incident)

    response = api.as_user(request.getfixturevalue(persona)).patch(
        detail_url(incident), payload, format="json"
    )

    assert_error(response, 403)
    assert snapshot(incident) == before


def test_superuser_can_step_in_and_change_the_status(api, incident, make_user):
    root = make_user("root", is_staff=True, is_superuser=True)

    response = api.as_user(root).post(transition_url(incident), {"status": "active"}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["my_role"] is None
    incident.refresh_from_db()
    assert incident.status == "active"
    assert entries(incident)[-1].actor == root
