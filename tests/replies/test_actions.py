"""Triage, claims, decisions and thanks: one timeline entry each, the rules of who may,
double clicks that write nothing, bad input refused."""

from datetime import timedelta

import pytest
from django.utils import timezone

from incidents.errors import Conflict, InvalidInput, NotAllowed
from incidents.models import TimelineEntry
from incidents.replies import actions, rules
from incidents.replies.models import NOTE_MAX, Triage

pytestmark = pytest.mark.django_db


def entries(incident, kind):
    return list(TimelineEntry.objects.filter(incident=incident, kind=kind).order_by("seq"))


def test_triage_writes_the_row_and_one_entry(incident, mention, drafter):
    triage = actions.triage_set(
        incident=incident,
        mention=mention,
        actor=drafter,
        author_type="unhappy_customer",
        needs_answer="yes",
        note="Asked twice",
        suggested="unhappy_customer",
    )
    assert (triage.author_type, triage.needs_answer, triage.note) == (
        "unhappy_customer",
        "yes",
        "Asked twice",
    )
    assert triage.triaged_by == drafter and triage.triaged_at is not None
    (entry,) = entries(incident, "mention_triaged")
    assert entry.actor == drafter
    assert entry.data["author_type"] == "unhappy_customer"
    assert entry.data["suggested"] == "unhappy_customer"
    assert entry.data["mention"]["id"] == mention.pk
    # The same values again: nothing written.
    actions.triage_set(
        incident=incident,
        mention=mention,
        actor=drafter,
        author_type="unhappy_customer",
        needs_answer="yes",
        note="Asked twice",
    )
    assert len(entries(incident, "mention_triaged")) == 1


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"author_type": "villain", "needs_answer": "yes"}, "Unknown author type"),
        ({"author_type": "troll", "needs_answer": "maybe"}, "Unknown answer need"),
        ({"author_type": "troll", "needs_answer": "no", "note": "x" * (NOTE_MAX + 1)}, "limited"),
    ],
)
def test_bad_triage_input_is_refused_and_nothing_written(
    incident, mention, drafter, fields, message
):
    before = TimelineEntry.objects.filter(incident=incident).count()
    with pytest.raises(InvalidInput, match=message):
        actions.triage_set(incident=incident, mention=mention, actor=drafter, **fields)
    assert TimelineEntry.objects.filter(incident=incident).count() == before
    assert not Triage.objects.exists()


def test_observers_and_staff_outside_the_cell_write_nothing(incident, mention, observer, staff):
    for person in (observer, staff):
        with pytest.raises(NotAllowed):
            actions.claim(incident=incident, mention=mention, actor=person)
        with pytest.raises(NotAllowed):
            actions.triage_set(
                incident=incident,
                mention=mention,
                actor=person,
                author_type="troll",
                needs_answer="no",
            )
    assert not Triage.objects.exists()
    assert entries(incident, "mention_claimed") == []


def test_one_claimer_at_a_time_and_the_second_is_told_who(incident, mention, drafter, approver):
    assert actions.claim(incident=incident, mention=mention, actor=drafter) is True
    assert actions.claim(incident=incident, mention=mention, actor=drafter) is False  # double click
    with pytest.raises(Conflict) as refused:
        actions.claim(incident=incident, mention=mention, actor=approver)
    assert refused.value.extra["claimed_by"] == "drafter"
    assert "drafter is answering this person" in refused.value.message
    # With its zone, as every time the product writes in a sentence (the committee may
    # span time zones; a bare "14:05" left the reader guessing).
    local = timezone.localtime(Triage.objects.get().claimed_at)
    assert f"(since {local:%H:%M} {local.tzname()})" in refused.value.message
    assert len(entries(incident, "mention_claimed")) == 1


def test_an_author_with_several_posts_is_answered_by_one_person(
    incident, attach_mentions, drafter, approver
):
    """Two members claimed two posts of the same author at once and both wrote a reply
    (from a break-it pass): one person, one claim, whatever post it starts from."""
    first, second, other = attach_mentions(
        incident,
        {"text": "Your kettle leaks.", "author_handle": "@anti_kx"},
        {"text": "Still leaking, still no answer.", "author_handle": "anti_KX"},
        {"text": "Mine too.", "author_handle": "@someone_else"},
    )
    assert actions.claim(incident=incident, mention=first, actor=drafter) is True
    held = "drafter is answering @anti_KX on another of their posts"
    with pytest.raises(Conflict, match=held):
        actions.claim(incident=incident, mention=second, actor=approver)
    with pytest.raises(Conflict, match="on another of their posts"):
        actions.reply_write(incident=incident, mention=second, actor=approver, text="Sorry.")
    assert actions.claim(incident=incident, mention=other, actor=approver) is True
    # The same person may hold both; once released, the other post is free.
    assert actions.claim(incident=incident, mention=second, actor=drafter) is True
    actions.release(incident=incident, mention=first, actor=drafter)
    actions.release(incident=incident, mention=second, actor=drafter)
    assert actions.claim(incident=incident, mention=second, actor=approver) is True


def test_the_queue_says_who_holds_the_author_and_offers_neither_claim_nor_reply(
    incident, attach_mentions, drafter, approver, browser_client, api
):
    """The page and the API offered "I'm answering" on the author's other post, then the
    action refused it: one rule (rules.author_holder) for the three."""
    first, second = attach_mentions(
        incident,
        {"text": "Your kettle leaks.", "author_handle": "@anti_kx"},
        {"text": "Still leaking.", "author_handle": "@anti_kx"},
    )
    actions.claim(incident=incident, mention=first, actor=drafter)
    queue = f"/incidents/{incident.pk}/replies/?view=to_triage"
    page = browser_client.as_user(approver).get(queue).text
    assert "is answering this author on another of their posts" in page
    body = api.as_user(approver).get(f"/api/incidents/{incident.pk}/replies/?view=to_triage").json()
    items = {item["mention"]["id"]: item for item in body["results"]}
    assert items[second.pk]["author_claimed_by"]["name"] == "drafter"
    assert "claim" not in items[second.pk]["available_actions"]
    assert "reply" not in items[second.pk]["available_actions"]
    assert items[first.pk]["author_claimed_by"] is None  # its own claim says it already
    mine = api.as_user(drafter).get(f"/api/incidents/{incident.pk}/replies/?view=to_triage").json()
    assert {item["author_claimed_by"] for item in mine["results"]} == {None}


def test_one_reply_on_its_way_to_an_author_at_a_time(
    incident, attach_mentions, drafter, approver, lead, api, browser_client
):
    """After the lead released the drafter's claim, a second member wrote and published a
    second reply to the same person; and deciding "no answer" on their other post went
    through while the drafter was answering them (from a break-it pass)."""
    first, second = attach_mentions(
        incident,
        {"text": "Your kettle leaks.", "author_handle": "@Victim"},
        {"text": "Still leaking.", "author_handle": "victim"},
    )
    # The reply claims the person; deciding on their other post waits for the drafter.
    statement = actions.reply_write(incident=incident, mention=first, actor=drafter, text="Sorry.")
    with pytest.raises(Conflict, match="on another of their posts"):
        actions.decide(
            incident=incident, mention=second, actor=approver, outcome="no_answer", reason="Troll"
        )
    actions.release(incident=incident, mention=first, actor=lead)
    with pytest.raises(Conflict, match="already has a reply on its way"):
        actions.reply_write(incident=incident, mention=second, actor=approver, text="Hello.")
    body = api.as_user(approver).get(f"/api/incidents/{incident.pk}/replies/?view=to_triage")
    items = {item["mention"]["id"]: item for item in body.json()["results"]}
    assert items[second.pk]["author_reply"]["statement"] == statement.pk
    assert "reply" not in items[second.pk]["available_actions"]
    page = (
        browser_client.as_user(approver)
        .get(f"/incidents/{incident.pk}/replies/?view=to_triage")
        .text
    )
    assert "A reply to this author is on its way on another of their posts" in page
    assert f'href="/statements/{statement.pk}/"' in page


def test_a_claim_on_a_post_detached_since_holds_nobody(
    incident, attach_mentions, drafter, approver, lead
):
    """The drafter's claim on a post the lead then detached blocked the author's other
    post for everyone, and could not be released (404; from a break-it pass)."""
    from incidents.listening import actions as listening_actions

    first, second = attach_mentions(
        incident,
        {"text": "Your kettle leaks.", "author_handle": "@anti_kx"},
        {"text": "Still leaking.", "author_handle": "@anti_kx"},
    )
    actions.claim(incident=incident, mention=first, actor=drafter)
    listening_actions.mention_detach(mention=first, incident=incident, actor=lead)
    assert actions.claim(incident=incident, mention=second, actor=approver) is True


def test_the_page_says_who_holds_the_author_beside_ones_own_stale_claim(
    incident, attach_mentions, drafter, lead, browser_client
):
    """The drafter's claim had gone stale and the lead took the author's other post: the
    page offered the drafter no reply, with no word why (the API said it)."""
    first, second = attach_mentions(
        incident,
        {"text": "Your kettle leaks.", "author_handle": "@lea4"},
        {"text": "Still leaking.", "author_handle": "@lea4"},
    )
    actions.claim(incident=incident, mention=first, actor=drafter)
    Triage.objects.filter(mention=first).update(
        claimed_at=timezone.now() - timedelta(minutes=rules.CLAIM_MINUTES + 1)
    )
    actions.claim(incident=incident, mention=second, actor=lead)
    page = (
        browser_client.as_user(drafter)
        .get(f"/incidents/{incident.pk}/replies/?view=to_triage")
        .text
    )
    assert "is answering this author on another of their posts" in page


def test_the_claimer_or_the_lead_may_release(incident, mention, drafter, approver, lead):
    actions.claim(incident=incident, mention=mention, actor=drafter)
    with pytest.raises(NotAllowed, match="Only drafter or the lead"):
        actions.release(incident=incident, mention=mention, actor=approver)
    assert actions.release(incident=incident, mention=mention, actor=lead) is True
    assert actions.release(incident=incident, mention=mention, actor=lead) is False
    (entry,) = entries(incident, "mention_released")
    assert entry.data["claimer"] == "drafter"


def test_a_stale_claim_may_be_taken_over(incident, mention, drafter, approver):
    actions.claim(incident=incident, mention=mention, actor=drafter)
    Triage.objects.filter(mention=mention).update(
        claimed_at=timezone.now() - timedelta(minutes=rules.CLAIM_MINUTES + 1)
    )
    assert actions.claim(incident=incident, mention=mention, actor=approver) is True
    triage = Triage.objects.get(mention=mention)
    assert triage.claimed_by == approver
    assert entries(incident, "mention_claimed")[-1].data["taken_over_from"] == "drafter"


def test_deciding_needs_a_reason_and_clears_the_claim(incident, mention, drafter, approver):
    with pytest.raises(InvalidInput, match="reason is required"):
        actions.decide(
            incident=incident, mention=mention, actor=drafter, outcome="private", reason=" "
        )
    with pytest.raises(InvalidInput, match="Unknown decision"):
        actions.decide(
            incident=incident, mention=mention, actor=drafter, outcome="delete", reason="x"
        )
    actions.claim(incident=incident, mention=mention, actor=drafter)
    with pytest.raises(Conflict, match="drafter is answering"):
        actions.decide(
            incident=incident, mention=mention, actor=approver, outcome="private", reason="DM"
        )
    assert actions.decide(
        incident=incident, mention=mention, actor=drafter, outcome="private", reason="Sent a DM"
    )
    triage = Triage.objects.get(mention=mention)
    assert (triage.outcome, triage.outcome_reason, triage.claimed_by) == (
        "private",
        "Sent a DM",
        None,
    )
    assert triage.decided_by == drafter
    # Same decision again: nothing; another one: refused.
    assert not actions.decide(
        incident=incident, mention=mention, actor=drafter, outcome="private", reason="again"
    )
    with pytest.raises(Conflict, match="Already handled"):
        actions.decide(
            incident=incident, mention=mention, actor=drafter, outcome="no_answer", reason="x"
        )
    with pytest.raises(Conflict, match="Already handled"):
        actions.claim(incident=incident, mention=mention, actor=approver)
    (entry,) = entries(incident, "reply_decided")
    assert entry.data["outcome"] == "private" and entry.data["reason"] == "Sent a DM"


def test_only_a_defender_is_thanked_once(incident, mention, drafter):
    with pytest.raises(InvalidInput, match="supporter / defender"):
        actions.thank(incident=incident, mention=mention, actor=drafter)
    actions.triage_set(
        incident=incident, mention=mention, actor=drafter, author_type="defender", needs_answer="no"
    )
    assert actions.thank(incident=incident, mention=mention, actor=drafter, note="Replied") is True
    assert actions.thank(incident=incident, mention=mention, actor=drafter) is False
    assert Triage.objects.get(mention=mention).outcome == "thanked"
    assert len(entries(incident, "defender_thanked")) == 1


def test_a_mention_detached_meanwhile_is_a_conflict(incident, mention, drafter):
    type(mention).objects.filter(pk=mention.pk).update(incident=None)
    with pytest.raises(Conflict, match="no longer attached"):
        actions.claim(incident=incident, mention=mention, actor=drafter)
