"""The timeline endpoint: manual entries, catch-up with ?after=, pagination and filters."""

import itertools
from datetime import timedelta

import pytest
from django.utils import timezone

from incidents import actions
from incidents.models import GENESIS_HASH, TimelineEntry
from tests.helpers import assert_error, dt

PAGE_SIZE = 100  # TimelinePagination.page_size


def timeline_url(incident):
    return f"/api/incidents/{incident.pk}/timeline/"


def stored(incident):
    return list(TimelineEntry.objects.filter(incident=incident).order_by("seq"))


def seqs(results):
    return [item["seq"] for item in results]


@pytest.fixture
def long_timeline(incident, lead, drafter, approver):
    """The incident's 5 system entries followed by 150 manual ones (more than a page)."""
    authors = [lead, drafter, approver]
    for n in range(150):
        actions.timeline_add_entry(
            incident=incident,
            actor=authors[n % 3],
            kind="note" if n % 10 else "decision",
            text=f"Observation {n}",
            key_event=n % 25 == 0,
        )
    assert TimelineEntry.objects.filter(incident=incident).count() == 155
    return incident


# --- Writing entries ---------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["lead", "drafter", "approver", "spokesperson"])
def test_writer_adds_a_manual_entry(api, incident, persona, request):
    user = request.getfixturevalue(persona)
    previous = stored(incident)[-1]
    before = timezone.now()

    response = api.as_user(user).post(
        timeline_url(incident),
        {"kind": "public_reaction", "text": "  Influencer defends the brand.  "},
        format="json",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert isinstance(body["seq"], int)
    assert body["seq"] == previous.seq + 1
    assert body["kind"] == "public_reaction"
    assert body["kind_label"] == "Public reaction"
    assert body["text"] == "Influencer defends the brand."
    assert body["actor"]["id"] == user.pk
    assert body["key_event"] is False
    entry = TimelineEntry.objects.get(incident=incident, seq=body["seq"])
    assert (entry.kind, entry.actor, entry.text) == (
        "public_reaction",
        user,
        "Influencer defends the brand.",
    )
    assert before <= entry.recorded_at <= timezone.now()
    assert entry.occurred_at == entry.recorded_at
    assert entry.prev_hash == previous.hash == body["prev_hash"]
    assert entry.hash == body["hash"] == entry.compute_hash()


def test_entry_response_shape(api, incident, lead):
    body = (
        api.as_user(lead)
        .post(timeline_url(incident), {"kind": "note", "text": "Shape"}, format="json")
        .json()
    )

    assert set(body) == {
        "seq",
        "kind",
        "kind_label",
        "text",
        "actor",
        "occurred_at",
        "recorded_at",
        "key_event",
        "data",
        "prev_hash",
        "hash",
    }
    assert body["actor"] == {"id": lead.pk, "username": "lead", "name": "Camille Laurent"}
    assert body["data"] == {}


def test_back_dated_entry_keeps_occurred_at_and_records_server_time(api, incident, drafter):
    occurred = (timezone.now() - timedelta(hours=5)).replace(microsecond=0)
    before = timezone.now()

    response = api.as_user(drafter).post(
        timeline_url(incident),
        {
            "kind": "amplification",
            "text": "Retweeted by a large account at 4 am.",
            "occurred_at": occurred.isoformat(),
        },
        format="json",
    )

    assert response.status_code == 201, response.content
    entry = TimelineEntry.objects.get(incident=incident, seq=response.json()["seq"])
    assert entry.occurred_at == occurred
    assert dt(response.json()["occurred_at"]) == occurred
    assert before <= entry.recorded_at <= timezone.now()
    assert dt(response.json()["recorded_at"]) == entry.recorded_at


def test_entry_dated_within_clock_skew_is_accepted(api, incident, lead):
    occurred = timezone.now() + timedelta(minutes=2)

    response = api.as_user(lead).post(
        timeline_url(incident),
        {"kind": "note", "text": "Clock a bit ahead", "occurred_at": occurred.isoformat()},
        format="json",
    )

    assert response.status_code == 201, response.content


def test_key_event_flag_is_stored(api, incident, approver):
    response = api.as_user(approver).post(
        timeline_url(incident),
        {"kind": "decision", "text": "No statement before legal review.", "key_event": True},
        format="json",
    )

    assert response.status_code == 201
    assert response.json()["key_event"] is True
    assert TimelineEntry.objects.get(incident=incident, seq=response.json()["seq"]).key_event


def test_key_event_kind_is_always_a_key_event(api, incident, lead):
    response = api.as_user(lead).post(
        timeline_url(incident), {"kind": "key_event", "text": "Press article out"}, format="json"
    )

    assert response.status_code == 201
    assert response.json()["key_event"] is True


def test_consecutive_entries_get_gap_free_seq_and_a_linked_chain(api, incident, lead):
    client = api.as_user(lead)
    created = [
        client.post(timeline_url(incident), {"kind": "note", "text": f"n{i}"}, format="json")
        for i in range(3)
    ]

    assert [r.status_code for r in created] == [201, 201, 201]
    chain = stored(incident)
    assert [e.seq for e in chain] == list(range(1, len(chain) + 1))
    assert chain[0].prev_hash == GENESIS_HASH
    for earlier, later in itertools.pairwise(chain):
        assert later.prev_hash == earlier.hash


@pytest.mark.parametrize("persona", ["observer", "staff"])
def test_observer_and_staff_get_403_when_writing(api, incident, persona, request):
    before = stored(incident)

    response = api.as_user(request.getfixturevalue(persona)).post(
        timeline_url(incident), {"kind": "note", "text": "Can I?"}, format="json"
    )

    assert_error(response, 403)
    assert stored(incident) == before


def test_outsider_gets_404_when_writing(api, incident, outsider):
    before = stored(incident)

    response = api.as_user(outsider).post(
        timeline_url(incident), {"kind": "note", "text": "Let me in"}, format="json"
    )

    assert_error(response, 404)
    assert stored(incident) == before


@pytest.mark.parametrize(
    "kind", ["declared", "status_changed", "reopened", "lead_handed_over", "member_added"]
)
def test_system_kinds_cannot_be_written_by_hand(api, incident, lead, kind):
    before = stored(incident)

    response = api.as_user(lead).post(
        timeline_url(incident), {"kind": kind, "text": "Forged"}, format="json"
    )

    assert assert_error(response, 400).startswith("kind:")
    assert stored(incident) == before


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"kind": "gossip", "text": "x"}, "kind"),
        ({"text": "No kind"}, "kind"),
        ({"kind": "note", "text": ""}, "text"),
        ({"kind": "note", "text": "   \n  "}, "text"),
        ({"kind": "note"}, "text"),
        ({"kind": "note", "text": "x" * 10_001}, "text"),
        ({"kind": "note", "text": "x", "occurred_at": "yesterday"}, "occurred_at"),
    ],
    ids=[
        "unknown-kind",
        "missing-kind",
        "empty-text",
        "blank-text",
        "missing-text",
        "text-too-long",
        "garbage-occurred-at",
    ],
)
def test_bad_entry_gets_400_naming_the_field(api, incident, drafter, payload, field):
    before = stored(incident)

    response = api.as_user(drafter).post(timeline_url(incident), payload, format="json")

    assert assert_error(response, 400).startswith(f"{field}:")
    assert field in response.json()["errors"]
    assert stored(incident) == before


def test_entry_dated_far_in_the_future_gets_400(api, incident, drafter):
    before = stored(incident)
    future = timezone.now() + timedelta(days=1)

    response = api.as_user(drafter).post(
        timeline_url(incident),
        {"kind": "note", "text": "Tomorrow's news", "occurred_at": future.isoformat()},
        format="json",
    )

    assert "future" in assert_error(response, 400)
    assert stored(incident) == before


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_timeline_entries_cannot_be_changed_through_the_api(api, incident, lead, method):
    before = stored(incident)

    response = getattr(api.as_user(lead), method)(
        timeline_url(incident), {"kind": "note", "text": "rewrite"}, format="json"
    )

    assert_error(response, 405)
    assert stored(incident) == before


# --- Reading: the whole timeline ---------------------------------------------------------


@pytest.mark.parametrize("persona", ["lead", "observer", "staff"])
def test_members_and_staff_read_the_timeline_in_seq_order(api, incident, persona, request, lead):
    response = api.as_user(request.getfixturevalue(persona)).get(timeline_url(incident))

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["next"] is None
    assert body["previous"] is None
    results = body["results"]
    assert seqs(results) == [1, 2, 3, 4, 5]
    assert [item["kind"] for item in results] == ["declared"] + ["member_added"] * 4
    assert results[0]["actor"]["id"] == lead.pk
    assert results[0]["data"]["title"] == incident.title
    assert [item["hash"] for item in results] == [e.hash for e in stored(incident)]


def test_outsider_gets_404_on_the_timeline(api, incident, outsider):
    response = api.as_user(outsider).get(timeline_url(incident))

    assert_error(response, 404)
    assert "Observation" not in response.text


def test_timeline_is_cursor_paginated_by_seq_and_next_link_works(api, long_timeline, lead):
    client = api.as_user(lead)

    first = client.get(timeline_url(long_timeline))

    assert first.status_code == 200
    page1 = first.json()
    assert seqs(page1["results"]) == list(range(1, PAGE_SIZE + 1))
    assert page1["previous"] is None
    assert "cursor=" in page1["next"]

    second = client.get(page1["next"])

    assert second.status_code == 200, second.content
    page2 = second.json()
    assert seqs(page2["results"]) == list(range(PAGE_SIZE + 1, 156))
    assert page2["next"] is None
    assert "cursor=" in page2["previous"]
    back = client.get(page2["previous"]).json()
    assert seqs(back["results"]) == seqs(page1["results"])


def test_page_size_can_be_raised_for_the_full_history(api, long_timeline, lead):
    response = api.as_user(lead).get(timeline_url(long_timeline), {"page_size": 500})

    assert response.status_code == 200
    assert seqs(response.json()["results"]) == list(range(1, 156))
    assert response.json()["next"] is None


def test_bad_cursor_gets_400_with_detail(api, long_timeline, lead):
    response = api.as_user(lead).get(timeline_url(long_timeline), {"cursor": "garbage"})

    assert_error(response, 400)
    assert response.json()["detail"] == "cursor: Invalid cursor"


# --- Reading: catching up with ?after= ---------------------------------------------------


def test_after_returns_the_later_entries_in_order_a_page_at_a_time(api, long_timeline, lead):
    client = api.as_user(lead)
    response = client.get(timeline_url(long_timeline), {"after": 3})

    assert response.status_code == 200, response.content
    body = response.json()
    assert seqs(body["results"]) == list(range(4, 4 + PAGE_SIZE))
    rest = client.get(body["next"]).json()
    assert seqs(rest["results"]) == list(range(4 + PAGE_SIZE, 156))
    assert rest["next"] is None
    assert rest["results"][-1]["text"] == "Observation 149"


def test_after_zero_starts_from_the_first_entry(api, long_timeline, observer):
    response = api.as_user(observer).get(
        timeline_url(long_timeline), {"after": 0, "page_size": 500}
    )

    assert seqs(response.json()["results"]) == list(range(1, 156))


def test_after_the_last_seq_returns_nothing(api, incident, lead):
    response = api.as_user(lead).get(timeline_url(incident), {"after": 5})

    assert response.status_code == 200
    assert response.json()["results"] == []


def test_after_picks_up_an_entry_written_since(api, incident, lead, drafter):
    api.as_user(drafter).post(
        timeline_url(incident), {"kind": "note", "text": "new"}, format="json"
    )

    results = api.as_user(lead).get(timeline_url(incident), {"after": 5}).json()["results"]

    assert seqs(results) == [6]
    assert results[0]["text"] == "new"
    assert results[0]["actor"]["id"] == drafter.pk


@pytest.mark.parametrize("value", ["abc", "-1", "1.5"])
def test_after_must_be_a_non_negative_integer(api, incident, lead, value):
    response = api.as_user(lead).get(timeline_url(incident), {"after": value})

    assert assert_error(response, 400).startswith("after:")


def test_outsider_gets_404_on_after(api, incident, outsider):
    assert_error(api.as_user(outsider).get(timeline_url(incident), {"after": 0}), 404)


# --- Filters -----------------------------------------------------------------------------


def test_kind_filter(api, long_timeline, lead):
    response = api.as_user(lead).get(timeline_url(long_timeline), {"kind": "decision"})

    results = response.json()["results"]
    assert len(results) == 15
    assert {item["kind"] for item in results} == {"decision"}
    assert seqs(results) == sorted(seqs(results))
    expected = TimelineEntry.objects.filter(incident=long_timeline, kind="decision")
    assert seqs(results) == [e.seq for e in expected.order_by("seq")]


def test_key_events_filter(api, long_timeline, lead):
    response = api.as_user(lead).get(timeline_url(long_timeline), {"key_events": "true"})

    results = response.json()["results"]
    expected = TimelineEntry.objects.filter(incident=long_timeline, key_event=True)
    assert seqs(results) == [e.seq for e in expected.order_by("seq")]
    assert len(results) == 1 + 6  # "declared" + every 25th note
    assert all(item["key_event"] for item in results)


def test_actor_filter(api, long_timeline, lead, drafter):
    response = api.as_user(lead).get(timeline_url(long_timeline), {"actor": drafter.pk})

    results = response.json()["results"]
    assert len(results) == 50
    assert {item["actor"]["id"] for item in results} == {drafter.pk}


def test_actor_filter_must_be_an_integer(api, incident, lead):
    assert assert_error(
        api.as_user(lead).get(timeline_url(incident), {"actor": "drafter"}), 400
    ).startswith("actor:")


def test_filters_combine_with_after(api, long_timeline, lead):
    response = api.as_user(lead).get(
        timeline_url(long_timeline), {"after": 100, "kind": "decision"}
    )

    results = response.json()["results"]
    expected = TimelineEntry.objects.filter(incident=long_timeline, kind="decision", seq__gt=100)
    assert seqs(results) == [e.seq for e in expected.order_by("seq")]
    assert results
    assert all(item["seq"] > 100 and item["kind"] == "decision" for item in results)


def test_filters_only_see_this_incidents_entries(api, incident, declare, lead):
    other = declare(title="Other incident")
    actions.timeline_add_entry(incident=other, actor=lead, kind="decision", text="Elsewhere")

    response = api.as_user(lead).get(timeline_url(incident), {"kind": "decision"})

    assert response.json()["results"] == []
