import itertools
import json
import threading

import pytest
from django.db import connection, transaction

from incidents import actions, events
from incidents.errors import TransitionNotAllowed
from incidents.models import TimelineEntry


def test_an_action_publishes_the_stored_entry_after_commit(
    incident, lead, listener, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        actions.incident_transition(incident=incident, actor=lead, status="active")
        assert listener() == []  # nothing is live before the commit
    for callback in callbacks:
        callback()
    (message,) = listener()
    assert message["type"] == "incident.event"
    assert message["event"] == "timeline.status_changed"
    payload = json.loads(message["text"])
    stored = TimelineEntry.objects.filter(incident=incident).last()
    assert payload["event"] == "timeline.status_changed"
    assert payload["seq"] == stored.seq == payload["entry"]["seq"]
    assert payload["entry"]["hash"] == stored.hash
    assert payload["entry"]["data"] == {"old": "detected", "new": "active"}
    assert payload["incident"]["status"] == "active"


def test_a_refused_action_publishes_nothing(
    incident, lead, listener, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(TransitionNotAllowed):
        actions.incident_transition(incident=incident, actor=lead, status="resolved")
    assert listener() == []


def test_a_rolled_back_transaction_publishes_nothing(
    incident, drafter, listener, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        try:
            with transaction.atomic():
                actions.timeline_add_entry(incident=incident, actor=drafter, kind="note", text="x")
                raise RuntimeError("something later in the request failed")
        except RuntimeError:
            pass
    assert listener() == []
    assert not TimelineEntry.objects.filter(text="x").exists()


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_get_distinct_gap_free_sequence_numbers(
    declare, lead, drafter, approver
):
    incident = declare()
    for user in (drafter, approver):
        actions.member_add(incident=incident, actor=lead, user=user, role="drafter")
    barrier = threading.Barrier(3)
    errors = []

    def write(user):
        try:
            barrier.wait()
            for n in range(5):
                actions.timeline_add_entry(incident=incident, actor=user, kind="note", text=str(n))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(u,)) for u in (lead, drafter, approver)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    chain = list(TimelineEntry.objects.filter(incident=incident).order_by("seq"))
    assert [e.seq for e in chain] == list(range(1, len(chain) + 1))
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(chain))


def test_an_unreachable_channel_layer_does_not_fail_the_action(
    incident, drafter, browser_client, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    class DownLayer:
        async def group_send(self, group, message):
            raise ConnectionError("Redis is unreachable")

    monkeypatch.setattr(events, "get_channel_layer", lambda: DownLayer())
    client = browser_client.as_user(drafter)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/incidents/{incident.pk}/entries/",
            {"kind": "note", "text": "Written while Redis is down"},
            HTTP_HX_REQUEST="true",
        )
    assert response.status_code == 200
    assert TimelineEntry.objects.filter(text="Written while Redis is down").exists()
    assert "Could not publish the live event" in caplog.text


@pytest.fixture
def under_transaction(monkeypatch):
    """Records, for every template rendered and every entry or incident serialized by the
    live events and the API, whether a transaction (hence the incident lock) was open."""
    from incidents.api import serializers

    seen = []

    def watch(owner, name, label):
        original = getattr(owner, name)

        def wrapper(*args, **kwargs):
            seen.append((label, connection.in_atomic_block))
            return original(*args, **kwargs)

        monkeypatch.setattr(owner, name, wrapper)

    watch(events, "render_to_string", "render")
    watch(serializers.TimelineEntrySerializer, "to_representation", "entry")
    watch(serializers.IncidentStateSerializer, "to_representation", "incident")
    return seen


@pytest.mark.django_db(transaction=True)
def test_a_timeline_post_renders_and_serializes_nothing_while_the_incident_is_locked(
    incident, drafter, api, listener, under_transaction
):
    response = api.as_user(drafter).post(
        f"/api/incidents/{incident.pk}/timeline/", {"kind": "note", "text": "Seen at 9:02"}
    )
    assert response.status_code == 201
    (message,) = listener()
    payload = json.loads(message["text"])
    assert payload["entry"]["text"] == "Seen at 9:02"
    assert "Seen at 9:02" in payload["html"]["en"]["entry"]
    # The event was built (templates and serializers ran), and none of it in a transaction.
    assert {label for label, _ in under_transaction} == {"render", "entry", "incident"}
    assert [call for call in under_transaction if call[1]] == []


@pytest.mark.django_db(transaction=True)
def test_entries_recorded_in_one_transaction_each_send_their_own_event_in_order(
    incident, lead, api, listener, under_transaction
):
    last = TimelineEntry.objects.filter(incident=incident).order_by("-seq").first().seq
    response = api.as_user(lead).patch(
        f"/api/incidents/{incident.pk}/", {"title": "Renamed", "severity": 4}, format="json"
    )
    assert response.status_code == 200
    payloads = [json.loads(message["text"]) for message in listener()]
    assert [(p["seq"], p["event"]) for p in payloads] == [
        (last + 1, "timeline.updated"),
        (last + 2, "timeline.severity_changed"),
    ]
    assert [p["entry"]["seq"] for p in payloads] == [last + 1, last + 2]
    assert payloads[0]["entry"]["data"]["title"]["new"] == "Renamed"
    assert payloads[1]["entry"]["data"]["new"] == 4
    # The header is the incident as committed, in both events.
    assert [(p["incident"]["title"], p["incident"]["severity"]) for p in payloads] == [
        ("Renamed", 4),
        ("Renamed", 4),
    ]
    assert [call for call in under_transaction if call[1]] == []


@pytest.mark.django_db(transaction=True)
def test_the_statement_actions_build_their_events_after_commit_too(
    incident, make_statement, listener, under_transaction
):
    make_statement(state="published")
    payloads = [json.loads(message["text"]) for message in listener()]
    published = [p for p in payloads if p["event"] == "timeline.statement_published"]
    assert len(published) == 1
    # Publication stops the countdown: the event's header is the committed incident.
    assert published[0]["incident"]["first_response_at"] is not None
    assert [p["seq"] for p in payloads] == sorted(p["seq"] for p in payloads)
    assert under_transaction and [call for call in under_transaction if call[1]] == []
