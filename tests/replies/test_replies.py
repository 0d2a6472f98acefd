"""Replies: statements of kind "individual reply" bound to one mention. Written from the
queue (page and API), one live reply per mention, "In reply to" on the statement page,
published -> answered (coverage, median), the platforms' limits at submission, batch
review through statements' single approval action."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from incidents import actions as incident_actions
from incidents.errors import Conflict, InvalidInput, NotAllowed
from incidents.models import TimelineEntry
from incidents.replies import actions, selectors
from incidents.replies.models import Reply, Triage
from statements import actions as statement_actions
from statements.limits import graphemes, length

pytestmark = pytest.mark.django_db

TEXT = "Sorry about your lid: send us a private message and we replace it today."


def api_url(incident, suffix=""):
    return f"/api/incidents/{incident.pk}/replies/{suffix}"


def write(incident, mention, actor, text=TEXT, **extra):
    return actions.reply_write(incident=incident, mention=mention, actor=actor, text=text, **extra)


def in_review(incident, mentions, author):
    """A submitted reply to each mention, written by `author`."""
    out = []
    for mention in mentions:
        statement = write(incident, mention, author, text=f"Answer to {mention.author_handle}.")
        out.append(statement_actions.statement_submit(statement=statement, actor=author))
    return out


# --- Writing a reply --------------------------------------------------------------------


def test_the_page_writes_a_reply_bound_to_the_mention(incident, mention, browser_client, drafter):
    client = browser_client.as_user(drafter)
    page = client.get(reverse("reply-queue", args=[incident.pk]) + "?view=to_triage")
    assert "Write a reply" in page.content.decode()
    response = client.post(
        reverse("reply-write", args=[incident.pk, mention.pk]), {"text": TEXT, "back": ""}
    )
    reply = Reply.objects.select_related("statement", "triage").get()
    statement = reply.statement
    assert response.status_code == 302
    assert response["Location"] == reverse("statement-detail", args=[statement.pk])
    assert (statement.kind, statement.channel, statement.language, statement.status) == (
        "reply",
        "x",
        "en",
        "draft",
    )
    assert statement.text == TEXT and statement.author == drafter
    assert statement.reply_to_account == mention.author_handle
    assert statement.reply_to_url == mention.url
    assert reply.triage.mention == mention and reply.created_by == drafter
    # The writer now holds the mention: the others see who answers.
    assert reply.triage.claimed_by == drafter
    kinds = list(TimelineEntry.objects.filter(incident=incident).values_list("kind", flat=True))
    assert "statement_drafted" in kinds and "mention_claimed" in kinds

    detail = client.get(response["Location"]).content.decode()
    assert "In reply to" in detail
    assert mention.text in detail and mention.author_handle in detail
    # Not approved yet: nothing to copy and open.
    assert "reply-approved-text" not in detail

    queue = client.get(reverse("reply-queue", args=[incident.pk]) + "?view=to_triage")
    body = queue.content.decode()
    assert reverse("statement-detail", args=[statement.pk]) in body
    assert "Draft" in body and 'class="reply-write"' not in body  # no second reply form


def test_a_reply_to_an_author_with_the_longest_handle_gets_a_title_that_fits(
    incident, mention, drafter
):
    """A handle may be 200 characters, as a title may: "Reply to " + it is cut, not refused
    by the database (PostgreSQL checks the length; a break-it pass found it)."""
    type(mention).objects.filter(pk=mention.pk).update(author_handle="h" * 200)
    mention.refresh_from_db()
    statement = write(incident, mention, drafter)
    statement.refresh_from_db()
    assert len(statement.title) == 200 and statement.title.startswith("Reply to hhh")
    assert statement.title.endswith("…") and statement.reply_to_account == "h" * 200


def test_the_api_writes_a_reply_and_the_item_shows_its_status(incident, mention, api, drafter):
    client = api.as_user(drafter)
    response = client.post(api_url(incident, f"{mention.pk}/reply/"), {"text": TEXT}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    statement_id = body["statement"]
    assert body["item"]["reply"] == {
        "statement": statement_id,
        "status": "draft",
        "revision": 1,
        "published_url": "",
    }
    assert "reply" not in body["item"]["available_actions"]
    again = client.post(api_url(incident, f"{mention.pk}/reply/"), {"text": TEXT}, format="json")
    assert again.status_code == 409
    assert again.json()["statement"] == statement_id
    # Submitted: the queue says "in review".
    assert client.post(f"/api/statements/{statement_id}/submit/").status_code == 200
    item = client.get(api_url(incident, f"{mention.pk}/")).json()
    assert item["reply"]["status"] == "in_review"


def test_one_live_reply_per_mention_and_a_withdrawn_one_frees_it(incident, mention, drafter, lead):
    first = write(incident, mention, drafter)
    with pytest.raises(Conflict, match="already has a reply"):
        write(incident, mention, drafter, text="Another answer")
    with pytest.raises(Conflict, match="is answering"):  # and the writer holds it
        write(incident, mention, lead, text="Another answer")
    statement_actions.statement_withdraw(statement=first, actor=drafter)
    second = write(incident, mention, drafter, text="A better answer")
    assert second.pk != first.pk
    assert Reply.objects.filter(triage__mention=mention).count() == 2
    item = selectors.item(incident, mention)
    assert item.reply.statement == second


def test_who_may_write_and_on_what(incident, attach_mentions, drafter, observer, lead):
    mention, handled, forum = attach_mentions(
        incident,
        {"text": "Where is my refund?", "language": "pt"},
        {"text": "lol clowns"},
        {"text": "KX-200 lid cracked", "platform": "forum", "language": "fr"},
    )
    with pytest.raises(NotAllowed):
        write(incident, mention, observer)
    actions.claim(incident=incident, mention=mention, actor=lead)
    with pytest.raises(Conflict, match="is answering"):
        write(incident, mention, drafter)
    actions.release(incident=incident, mention=mention, actor=lead)
    # A language statements are not written in: the site's.
    assert write(incident, mention, drafter).language == "en"
    actions.decide(
        incident=incident, mention=handled, actor=drafter, outcome="no_answer", reason="Troll"
    )
    with pytest.raises(Conflict, match="Already handled"):
        write(incident, handled, drafter)
    # A forum is no statement channel: the writer chooses one.
    with pytest.raises(InvalidInput, match="choose the channel"):
        write(incident, forum, drafter)
    statement = write(incident, forum, drafter, channel="email")
    assert (statement.channel, statement.language) == ("email", "fr")


# --- Published -> answered ---------------------------------------------------------------


def test_a_published_reply_answers_the_mention(
    incident, attach_mentions, drafter, approver, spokesperson
):
    mention, other = attach_mentions(
        incident, {"text": "Refund?", "language": "en"}, {"text": "Refund too?", "language": "en"}
    )
    for m in (mention, other):
        actions.triage_set(
            incident=incident,
            mention=m,
            actor=drafter,
            author_type="unhappy_customer",
            needs_answer="yes",
        )
    statement = write(incident, mention, drafter)
    statement = statement_actions.statement_submit(statement=statement, actor=drafter)
    statement = statement_actions.statement_approve(
        statement=statement, actor=approver, revision=statement.revision
    )
    assert Triage.objects.get(mention=mention).outcome == "open"  # approved is not answered
    published_at = timezone.now()
    statement = statement_actions.statement_publish(
        statement=statement,
        actor=spokesperson,
        url="https://x.com/brand/status/1",
        published_at=published_at,
    )
    triage = Triage.objects.get(mention=mention)
    assert triage.outcome == "answered"
    assert triage.decided_by == spokesperson and triage.decided_at == published_at
    assert triage.claimed_by is None
    entry = TimelineEntry.objects.filter(incident=incident, kind="reply_decided").get()
    assert entry.data["outcome"] == "answered" and entry.data["statement"] == statement.pk
    coverage = selectors.coverage(incident)
    assert (coverage.needing, coverage.answered, coverage.percent) == (2, 1, 50)
    mention.refresh_from_db()
    assert coverage.median_seconds == pytest.approx(
        (published_at - mention.posted_at).total_seconds()
    )


def test_a_published_statement_that_is_not_a_reply_changes_no_triage(
    incident, mention, make_statement
):
    make_statement(state="published")
    assert not Triage.objects.exists()


def test_the_approved_reply_shows_the_text_to_copy_and_the_post(
    incident, mention, drafter, approver, spokesperson, browser_client
):
    statement = write(incident, mention, drafter)
    statement_actions.statement_submit(statement=statement, actor=drafter)
    statement_actions.statement_approve(statement=statement, actor=approver, revision=1)
    page = browser_client.as_user(spokesperson).get(
        reverse("statement-detail", args=[statement.pk])
    )
    body = page.content.decode()
    assert "Copy the approved text and open the post" in body
    # The exact text shown once, with one copy button (the statement page's).
    assert body.count("Copy the approved text</button>") == 1
    assert body.count('<blockquote class="statement-text"') == 1
    assert f'href="{mention.url}"' in body and "Open the post" in body


# --- The platforms' limits, before review ----------------------------------------------------


def test_the_platforms_count_their_way():
    url = "https://example.com/" + "a" * 200
    assert length(url, "mastodon") == 23
    assert length(f"hi @bob@mastodon.social {url}", "mastodon") == len("hi @bob ") + 23
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
    assert graphemes(family) == 1 and length(family * 3, "bluesky") == 3
    assert length("👍🏽🇫🇷é", "bluesky") == 3
    assert length("😀" * 10, "x") == 20  # X weighs emoji 2


@pytest.mark.parametrize(
    ("platform", "fits", "too_long", "limit"),
    [
        # X: weighted, an emoji counts 2.
        ("x", "😀" * 140, "😀" * 141, 280),
        # Mastodon: a URL counts 23 whatever its length.
        (
            "mastodon",
            "a" * 470 + " https://example.com/" + "p" * 300,
            "a" * 480 + " https://example.com/" + "p" * 300,
            500,
        ),
        # Bluesky: graphemes (a ZWJ family is one).
        (
            "bluesky",
            "\U0001f468\u200d\U0001f469\u200d\U0001f467" * 300,
            "a" * 301,
            300,
        ),
    ],
)
def test_a_reply_over_the_platform_limit_is_refused_at_submission(
    incident, attach_mentions, drafter, api, browser_client, platform, fits, too_long, limit
):
    ok, long_api, long_page = attach_mentions(
        incident, *[{"text": f"Refund {n}?", "platform": platform} for n in range(3)]
    )
    statement = write(incident, ok, drafter, text=fits)
    assert statement_actions.statement_submit(statement=statement, actor=drafter).status == (
        "in_review"
    )
    refused = write(incident, long_api, drafter, text=too_long)
    response = api.as_user(drafter).post(f"/api/statements/{refused.pk}/submit/")
    assert response.status_code == 400
    message = response.json()["detail"]
    assert f"{limit}-character limit" in message
    refused.refresh_from_db()
    assert refused.status == "draft"
    # The page says the same.
    on_page = write(incident, long_page, drafter, text=too_long)
    page = browser_client.as_user(drafter).post(
        reverse("statement-submit", args=[on_page.pk]), follow=True
    )
    assert message.split(".")[0] in page.content.decode()
    on_page.refresh_from_db()
    assert on_page.status == "draft"


# --- Batch review --------------------------------------------------------------------------


def test_batch_review_mixes_approvals_returns_and_a_stale_revision(
    incident, attach_mentions, drafter, approver, api
):
    mentions = attach_mentions(incident, *[{"text": f"Refund {n}?"} for n in range(4)])
    a, b, c, d = in_review(incident, mentions, drafter)
    # The drafter edits c after the approver read revision 1.
    statement_actions.statement_edit(
        statement=c, actor=drafter, text="Answer, corrected.", base_revision=1
    )
    response = api.as_user(approver).post(
        api_url(incident, "review/"),
        {
            "items": [
                {"statement": a.pk, "revision": 1, "decision": "approve"},
                {
                    "statement": b.pk,
                    "revision": 1,
                    "decision": "request_changes",
                    "comment": "Tone",
                },
                {"statement": c.pk, "revision": 1, "decision": "approve"},
                {"statement": d.pk, "revision": 1, "decision": "approve", "comment": "OK"},
            ]
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    results = response.json()["results"]
    assert [(r["statement"], r["ok"], r["status"]) for r in results] == [
        (a.pk, True, "approved"),
        (b.pk, True, "changes_requested"),
        (c.pk, False, "in_review"),
        (d.pk, True, "approved"),
    ]
    assert "changed since you read it" in results[2]["error"]
    assert results[2]["revision"] == 2
    # Each decision is a real review of the exact revision, with its timeline entry.
    kinds = TimelineEntry.objects.filter(incident=incident).values_list("kind", flat=True)
    assert list(kinds).count("statement_approved") == 2
    assert list(kinds).count("statement_changes_requested") == 1


def test_batch_review_keeps_four_eyes_and_roles(
    incident, attach_mentions, drafter, approver, observer, lead, make_user, api, browser_client
):
    # A second approver, so that the approver's own reply can be submitted at all.
    incident_actions.member_add(
        incident=incident, actor=lead, user=make_user(), role="approver", function="other"
    )
    mentions = attach_mentions(incident, *[{"text": f"Refund {n}?"} for n in range(2)])
    own, other = in_review(incident, mentions[:1], approver) + in_review(
        incident, mentions[1:], drafter
    )
    results = actions.review_batch(
        incident=incident,
        actor=approver,
        items=[
            {"statement": own.pk, "revision": 1, "decision": "approve"},
            {"statement": other.pk, "revision": 1, "decision": "approve"},
        ],
    )
    assert [r["ok"] for r in results] == [False, True]
    assert "four-eyes" in results[0]["error"]
    own.refresh_from_db()
    assert own.status == "in_review"
    # Neither an observer nor a drafter reviews.
    item = {"statement": own.pk, "revision": 1, "decision": "approve"}
    for user in (observer, drafter):
        response = api.as_user(user).post(
            api_url(incident, "review/"), {"items": [item]}, format="json"
        )
        assert response.status_code == 403
    page = browser_client.as_user(observer).post(
        reverse("reply-review", args=[incident.pk]),
        {"pick": [own.pk], f"revision-{own.pk}": 1, "decision": "approve"},
        follow=True,
    )
    assert "Only approvers" in page.content.decode()
    own.refresh_from_db()
    assert own.status == "in_review"


def test_batch_review_refuses_bad_batches(incident, approver, api):
    client = api.as_user(approver)
    url = api_url(incident, "review/")
    too_many = [{"statement": n, "revision": 1, "decision": "approve"} for n in range(51)]
    assert client.post(url, {"items": too_many}, format="json").status_code == 400
    assert client.post(url, {"items": []}, format="json").status_code == 400
    no_comment = [{"statement": 1, "revision": 1, "decision": "request_changes"}]
    response = client.post(url, {"items": no_comment}, format="json")
    assert response.status_code == 400 and "comment" in response.json()["detail"]
    twice = [{"statement": 1, "revision": 1, "decision": "approve"}] * 2
    assert client.post(url, {"items": twice}, format="json").status_code == 400
    unknown = client.post(
        url,
        {"items": [{"statement": 999_999, "revision": 1, "decision": "approve"}]},
        format="json",
    )
    assert unknown.status_code == 200 and unknown.json()["results"][0]["ok"] is False
    # Ids no database holds, or no ids: refused, never a 500.
    for item in (
        {"statement": 10**20, "revision": 1, "decision": "approve"},
        {"statement": 1, "revision": -1, "decision": "approve"},
    ):
        refused = client.post(url, {"items": [item]}, format="json")
        assert refused.status_code == 400, item
        assert "a statement id and a revision number are required" in refused.json()["detail"]


def test_the_review_page_lists_and_applies(
    incident, attach_mentions, drafter, approver, browser_client
):
    mentions = attach_mentions(incident, *[{"text": f"Refund {n}?"} for n in range(3)])
    a, b, c = in_review(incident, mentions, drafter)
    client = browser_client.as_user(approver)
    page = client.get(reverse("reply-review", args=[incident.pk])).content.decode()
    for statement, mention in zip((a, b, c), mentions, strict=True):
        assert f'name="pick" value="{statement.pk}"' in page
        assert statement.text in page and mention.text in page
    statement_actions.statement_edit(statement=b, actor=drafter, text="New text.", base_revision=1)
    response = client.post(
        reverse("reply-review", args=[incident.pk]),
        {
            "pick": [a.pk, b.pk],
            f"revision-{a.pk}": 1,
            f"revision-{b.pk}": 1,
            "decision": "request_changes",
            "comment": "Say when.",
        },
        follow=True,
    )
    body = response.content.decode()
    assert "1 reply reviewed." in body
    assert f"Reply {b.pk}:" in body and "changed since you read it" in body
    a.refresh_from_db(), b.refresh_from_db(), c.refresh_from_db()
    assert (a.status, b.status, c.status) == ("changes_requested", "in_review", "in_review")
    nothing = client.post(
        reverse("reply-review", args=[incident.pk]), {"decision": "approved"}, follow=True
    )
    assert "Tick at least one reply." in nothing.content.decode()
    # The drafter sees the list without checkboxes (four-eyes).
    mine = browser_client.as_user(drafter).get(reverse("reply-review", args=[incident.pk]))
    assert 'name="pick"' not in mine.content.decode()


def test_a_batch_of_30_costs_per_reply_what_a_batch_of_5_does(
    incident, attach_mentions, drafter, approver
):
    mentions = attach_mentions(incident, *[{"text": f"Refund {n}?"} for n in range(35)])
    statements = in_review(incident, mentions, drafter)
    costs = {}
    for batch in (statements[:5], statements[5:]):
        items = [{"statement": s.pk, "revision": 1, "decision": "approve"} for s in batch]
        with CaptureQueriesContext(connection) as queries:
            results = actions.review_batch(incident=incident, actor=approver, items=items)
        assert [r["ok"] for r in results] == [True] * len(batch)
        costs[len(batch)] = len(queries)
    # Each item is one whole approval action (locks, review, chain, timeline, hand-off):
    # a bounded cost per reply, the same whatever the batch's size, plus a constant.
    per_reply = (costs[30] - costs[5]) / 25
    assert per_reply <= 40, costs
    assert costs[5] <= 5 * per_reply + 5, costs
