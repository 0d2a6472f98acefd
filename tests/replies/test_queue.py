"""The queue's order (followers of the brand first, then replies to the brand, reach, age),
its filters, and the coverage; constant query counts."""

import re

import pytest

from incidents.replies import actions, selectors
from statements import actions as statement_actions

pytestmark = pytest.mark.django_db


def needs_answer(incident, mentions, actor):
    for m in mentions:
        actions.triage_set(
            incident=incident,
            mention=m,
            actor=actor,
            author_type="unhappy_customer",
            needs_answer="yes",
        )


def test_followers_of_the_brand_first_then_replies_then_reach_then_age(
    incident, attach_mentions, drafter
):
    # Posted in this order (oldest first).
    old_small, big, follower, replier, old_small_2, unknown = attach_mentions(
        incident,
        {"text": "refund?", "author_followers": 10},
        {"text": "refund?", "author_followers": 90_000 - 1, "author_follows_brand": False},
        {"text": "refund?", "author_followers": 5, "author_follows_brand": True},
        {"text": "refund?", "author_followers": 50, "reply_to_brand": True},
        {"text": "refund?", "author_followers": 10},
        {"text": "refund?"},
    )
    needs_answer(incident, [old_small, big, follower, replier, old_small_2, unknown], drafter)
    order = list(selectors.queue(incident))
    assert order == [follower, replier, big, old_small, old_small_2, unknown]


def test_views_and_filters(incident, attach_mentions, drafter):
    fr, en, defender, untouched, troll = attach_mentions(
        incident,
        {"text": "Remboursement ?", "language": "fr", "platform": "facebook"},
        {"text": "Refund?", "language": "en"},
        {"text": "Great support", "language": "en"},
        {"text": "Tea time", "language": "en"},
        {"text": "lol this brand", "language": "en"},
    )
    needs_answer(incident, [fr, en], drafter)
    # A troll triaged as needing no answer is not lost: it waits among the handled, where
    # "no public answer" and why can still be recorded.
    actions.triage_set(
        incident=incident, mention=troll, actor=drafter, author_type="troll", needs_answer="no"
    )
    actions.triage_set(
        incident=incident,
        mention=defender,
        actor=drafter,
        author_type="defender",
        needs_answer="no",
    )
    assert set(selectors.queue(incident)) == {fr, en}
    assert list(selectors.queue(incident, language="fr")) == [fr]
    assert list(selectors.queue(incident, platform="facebook")) == [fr]
    assert list(selectors.queue(incident, author_type="troll")) == []
    assert list(selectors.queue(incident, view="to_triage")) == [untouched]
    assert list(selectors.queue(incident, view="defenders")) == [defender]
    actions.decide(
        incident=incident, mention=en, actor=drafter, outcome="customer_service", reason="Ticket 1"
    )
    assert set(selectors.queue(incident, view="handled")) == {en, troll}
    assert selectors.view_counts(incident) == {
        "attached": 5,
        "to_answer": 1,
        "to_triage": 1,
        "defenders": 1,
        "handled": 2,
    }


def test_coverage(incident, attach_mentions, drafter, declare):
    a, b, c, troll = attach_mentions(
        incident,
        {"text": "Refund?", "platform": "x"},
        {"text": "Refund?", "platform": "facebook"},
        {"text": "Refund?", "platform": "facebook"},
        {"text": "clowns"},
    )
    needs_answer(incident, [a, b, c], drafter)
    actions.triage_set(
        incident=incident, mention=troll, actor=drafter, author_type="troll", needs_answer="no"
    )
    actions.decide(
        incident=incident, mention=troll, actor=drafter, outcome="no_answer", reason="Troll"
    )
    actions.decide(incident=incident, mention=a, actor=drafter, outcome="private", reason="DM")
    coverage = selectors.coverage(incident)
    assert (coverage.attached, coverage.needing, coverage.answered, coverage.percent) == (
        4,
        3,
        1,
        33,
    )
    assert coverage.open == 2
    assert coverage.open_by_type == [("unhappy_customer", 2)]
    assert coverage.open_by_platform == [("facebook", 2)]
    assert coverage.oldest_open_at == b.posted_at
    assert coverage.median_seconds is not None and coverage.median_seconds > 0
    # Another incident's mentions never count.
    other = declare(title="Another incident")
    assert selectors.coverage(other).attached == 0


def test_a_person_answered_straight_from_to_triage_counts_in_the_coverage(
    incident, attach_mentions, drafter, approver, spokesperson
):
    """A reply written without deciding "needs an answer" first, then published, left the
    coverage at "—"; answering says the person needed it (not a "no answer" decision)."""
    replied, private, ignored = attach_mentions(
        incident, {"text": "Refund?"}, {"text": "Refund!"}, {"text": "meh"}
    )
    statement = actions.reply_write(
        incident=incident, mention=replied, actor=drafter, text="We replace it today."
    )
    statement_actions.statement_submit(statement=statement, actor=drafter)
    statement_actions.statement_approve(statement=statement, actor=approver, revision=1)
    statement_actions.statement_publish(
        statement=statement, actor=spokesperson, url="https://example.org/post/1"
    )
    actions.decide(
        incident=incident, mention=private, actor=drafter, outcome="private", reason="DM"
    )
    actions.decide(
        incident=incident, mention=ignored, actor=drafter, outcome="no_answer", reason="Noise"
    )
    coverage = selectors.coverage(incident)
    assert (coverage.needing, coverage.answered, coverage.percent) == (2, 2, 100)
    assert coverage.median_seconds is not None
    assert set(selectors.queue(incident, view="handled")) == {replied, private, ignored}


@pytest.mark.parametrize("size", [5, 50])
def test_a_queue_page_and_the_coverage_cost_constant_queries(
    incident, attach_mentions, drafter, size, django_assert_max_num_queries
):
    mentions = attach_mentions(
        incident, *[{"text": "Refund?", "author_handle": f"@p{n % 3}"} for n in range(size)]
    )
    needs_answer(incident, mentions[: size // 2], drafter)
    actions.claim(incident=incident, mention=mentions[0], actor=drafter)
    # The page (the mentions, their triages, their live replies, authors' counts, the live
    # claims and pending replies, the playbook's handling advice) and the coverage (four).
    with django_assert_max_num_queries(11):
        page = list(selectors.queue(incident)[: selectors.PAGE_SIZE])
        items = selectors.page_items(incident, page)
        selectors.coverage(incident)
    assert len(items) == min(size // 2, selectors.PAGE_SIZE)
    assert items[0].triage is not None


# One author written three ways on X, the same name on Mastodon, and someone else.
ONE_AUTHOR_THREE_WAYS = (
    {"text": "Liars.", "author_handle": "@Anti_KX"},
    {"text": "Liars again.", "author_handle": "anti_kx"},
    {"text": "Still liars.", "author_handle": "@anti_kx"},
    {"text": "Liars.", "author_handle": "anti_kx", "platform": "mastodon"},
    {"text": "Refund?", "author_handle": "@someone"},
)


def test_an_authors_posts_are_counted_as_one_person_whatever_the_handles_case(
    incident, attach_mentions
):
    """ "N posts here" follows the rule that an author is one person (rules.author_key):
    "@Anti_KX", "anti_kx" and "@anti_kx" on one platform are one author; the same name on
    another platform is someone else."""
    first, _, _, elsewhere, alone = attach_mentions(incident, *ONE_AUTHOR_THREE_WAYS)
    items = {i.mention.pk: i for i in selectors.page_items(incident, [first, elsewhere, alone])}
    assert items[first.pk].author_posts == 3
    assert items[elsewhere.pk].author_posts == 1
    assert items[alone.pk].author_posts == 1


def test_n_posts_here_leads_to_that_persons_posts_in_every_part_of_the_queue(
    incident, attach_mentions, drafter, browser_client, api
):
    """The chip is a link: the author filter shows one person's posts (same platform,
    handle whatever its case and "@"), triaged or not, and nobody else's; the API reads the
    same filter."""
    first, second, third, elsewhere, _other = attach_mentions(incident, *ONE_AUTHOR_THREE_WAYS)
    needs_answer(incident, [second], drafter)  # in "To answer"; the others "To triage"
    client = browser_client.as_user(drafter)
    url = f"/incidents/{incident.pk}/replies/"

    page = client.get(url + "?view=to_triage").text
    link = 'href="?view=to_triage&amp;author=%40Anti_KX&amp;platform=x"'
    assert link in page

    page = client.get(url + "?view=to_triage&author=%40Anti_KX&platform=x").text
    shown = {int(pk) for pk in re.findall(r'id="mention-(\d+)"', page)}
    assert shown == {first.pk, second.pk, third.pk}
    assert "<strong>3</strong> posts by <strong>@Anti_KX</strong>" in page
    assert 'class="is-current"' not in page  # every part of the queue, not one tab
    assert 'name="author" value="Anti_KX"' in page  # the other filters keep it
    assert 'href="?view=to_triage&amp;author=Anti_KX">Clear</a>' in page  # and "Clear"

    page = client.get(url + "?view=to_triage&author=Anti_KX&platform=x&type=troll").text
    assert "<strong>0</strong> posts by <strong>@Anti_KX</strong> match the filters below" in page

    # A handle past the limit is ignored, not the tab and the other filters.
    page = client.get(url + "?view=to_triage&platform=mastodon&author=" + "a" * 201).text
    assert 'class="is-current">To triage' in page
    shown = {int(pk) for pk in re.findall(r'id="mention-(\d+)"', page)}
    assert shown == {elsewhere.pk}

    body = (
        api.as_user(drafter)
        .get(
            f"/api/incidents/{incident.pk}/replies/", {"author": "anti_kx", "platform": "mastodon"}
        )
        .json()
    )
    assert [r["mention"]["id"] for r in body["results"]] == [elsewhere.pk]
    too_long = api.get(f"/api/incidents/{incident.pk}/replies/", {"author": "a" * 201})
    assert too_long.status_code == 400 and "author" in too_long.json()["errors"]
