"""Posting through the platforms' APIs, against the local fake servers: the exact approved
text, replies, a retry that cannot post twice, and failures that leave the statement
approved."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from crisiscell.typography import french_spacing
from incidents.notifications import actions as notifications
from incidents.notifications.models import Notification
from incidents.outbox.choices import Status
from incidents.outbox.models import OutboundMessage
from incidents.publishing.models import Publication
from incidents.publishing.platforms.bluesky import link_facets, record_key
from statements import actions as statement_actions
from statements.models import Statement
from tests.outbox.conftest import LATER, deliver_due
from tests.publishing.conftest import TEXT
from tests.publishing.fakes import BLUESKY_DID

pytestmark = pytest.mark.django_db


def fresh(obj):
    return type(obj).objects.get(pk=obj.pk)


def test_mastodon_gets_the_exact_approved_text_and_the_statement_is_published(
    publish, on_mastodon, mastodon_account, mastodon, spokesperson
):
    publication = publish(statement=on_mastodon, account=mastodon_account, actor=spokesperson)
    assert publication.status == "queued"
    assert deliver_due()["sent"] >= 1

    [status] = mastodon.statuses
    assert status["text"] == TEXT
    [post] = [r for r in mastodon.requests if r["path"] == "/api/v1/statuses"]
    assert post["headers"]["Idempotency-Key"] == publication.key
    assert post["body"]["language"] == "en"
    publication = fresh(publication)
    assert publication.status == "sent" and publication.post_id == status["id"]
    assert publication.post_url == status["url"]
    statement = fresh(on_mastodon)
    assert statement.status == "published"
    assert statement.published_url == status["url"]
    assert statement.published_by == spokesperson


def test_bluesky_gets_the_exact_approved_text_under_a_derived_record_key(
    publish, on_bluesky, bluesky_account, bsky, spokesperson
):
    publication = publish(statement=on_bluesky, account=bluesky_account, actor=spokesperson)
    deliver_due()

    [created] = bsky.created
    assert created["record"]["text"] == TEXT
    assert created["record"]["langs"] == ["en"]
    assert created["repo"] == BLUESKY_DID
    message = OutboundMessage.objects.get(key=publication.key)
    assert created["rkey"] == record_key(message.created_at, message.key)
    assert re.fullmatch(r"[234567a-j][234567a-z]{12}", created["rkey"])  # a TID
    publication = fresh(publication)
    assert publication.status == "sent"
    assert publication.post_id == f"at://{BLUESKY_DID}/app.bsky.feed.post/{created['rkey']}"
    assert fresh(on_bluesky).published_url == (
        f"https://bsky.app/profile/{BLUESKY_DID}/post/{created['rkey']}"
    )


def test_links_become_facets_counted_in_bytes():
    [facet] = link_facets("Café ☕ https://example.com/status.")
    assert facet["index"] == {"byteStart": 10, "byteEnd": 36}
    assert facet["features"][0]["uri"] == "https://example.com/status"


def test_a_mastodon_reply_names_the_mentions_post_by_its_id_on_the_brands_instance(
    publish, on_mastodon, mastodon_account, mastodon, spokesperson
):
    mention_uri = "https://other.example/users/angry/statuses/987"
    mastodon.remote[mention_uri] = "4242"
    publish(
        statement=on_mastodon, account=mastodon_account, actor=spokesperson, in_reply_to=mention_uri
    )
    deliver_due()

    [search] = [r for r in mastodon.requests if r["path"] == "/api/v2/search"]
    assert search["query"]["q"] == mention_uri and search["query"]["resolve"] in (
        "1",
        "true",
        "True",
    )
    [status] = mastodon.statuses
    assert status["in_reply_to_id"] == "4242"


def test_a_mastodon_reply_to_an_unknown_post_fails_with_the_reason(
    publish, on_mastodon, mastodon_account, mastodon, spokesperson
):
    publication = publish(
        statement=on_mastodon,
        account=mastodon_account,
        actor=spokesperson,
        in_reply_to="https://other.example/@gone/1",
    )
    deliver_due()
    publication = fresh(publication)
    assert publication.status == "failed"
    assert "was not found" in publication.error and mastodon.posts == 0
    assert fresh(on_mastodon).status == "approved"


@pytest.mark.parametrize("threaded", [False, True])
def test_a_bluesky_reply_names_its_parent_and_the_threads_root(
    threaded, publish, on_bluesky, bluesky_account, bsky, spokesperson
):
    customer = "did:plc:customer0000000000000000"
    root = bsky.add_post(customer, "3kroot000000a", "Where is my order?")
    reply = {
        "root": {"uri": root["uri"], "cid": root["cid"]},
        "parent": {"uri": root["uri"], "cid": root["cid"]},
    }
    parent = (
        bsky.add_post(customer, "3kparent0000a", "Still nothing!", reply=reply)
        if threaded
        else root
    )
    web_url = f"https://bsky.app/profile/{customer}/post/{parent['uri'].rsplit('/', 1)[1]}"
    publish(statement=on_bluesky, account=bluesky_account, actor=spokesperson, in_reply_to=web_url)
    deliver_due()

    [created] = bsky.created
    reply = created["record"]["reply"]
    assert {k: reply["root"][k] for k in ("uri", "cid")} == {"uri": root["uri"], "cid": root["cid"]}
    assert {k: reply["parent"][k] for k in ("uri", "cid")} == {
        "uri": parent["uri"],
        "cid": parent["cid"],
    }


def test_a_retry_after_a_timeout_posts_once_on_mastodon(
    publish, on_mastodon, mastodon_account, mastodon, spokesperson
):
    mastodon.hold_after_accept = 2.5  # accepted, then the answer comes after the 1 s timeout
    publication = publish(statement=on_mastodon, account=mastodon_account, actor=spokesperson)
    assert deliver_due()["retry"] == 1
    waiting = OutboundMessage.objects.get(key=publication.key)
    assert waiting.status == Status.PENDING and "did not answer within 1 s" in waiting.last_error
    assert fresh(on_mastodon).status == "approved"

    assert deliver_due(now=timezone.now() + LATER)["sent"] >= 1
    posts = [r for r in mastodon.requests if r["path"] == "/api/v1/statuses"]
    assert len(posts) == 2
    assert {p["headers"]["Idempotency-Key"] for p in posts} == {publication.key}
    assert mastodon.posts == 1
    assert fresh(publication).status == "sent"
    assert fresh(on_mastodon).status == "published"


def test_a_retry_after_a_timeout_posts_once_on_bluesky(
    publish, on_bluesky, bluesky_account, bsky, spokesperson
):
    bsky.hold_after_accept = 2.5
    publication = publish(statement=on_bluesky, account=bluesky_account, actor=spokesperson)
    assert deliver_due()["retry"] == 1
    assert deliver_due(now=timezone.now() + LATER)["sent"] >= 1

    creates = [r for r in bsky.requests if r["path"].endswith("createRecord")]
    assert len(creates) == 2 and creates[0]["body"]["rkey"] == creates[1]["body"]["rkey"]
    assert bsky.posts == 1
    publication = fresh(publication)
    assert publication.status == "sent"
    assert publication.post_id.endswith(creates[0]["body"]["rkey"])
    assert bsky.sessions == 1  # the session is kept between attempts


def test_a_refused_token_fails_at_once_and_leaves_the_statement_approved(
    publish, on_mastodon, mastodon_account, mastodon, spokesperson, lead
):
    notifications.preferences_update(actor=spokesperson, language="fr")
    mastodon.refuse_next(401, {"error": "The access token is invalid"})
    publication = publish(statement=on_mastodon, account=mastodon_account, actor=spokesperson)
    assert deliver_due()["failed"] == 1

    publication = fresh(publication)
    assert publication.status == "failed"
    assert publication.error == (
        "post to Brand on Mastodon not sent: the instance refused the access token (401): "
        "enter a new one in the admin"
    )
    statement = fresh(on_mastodon)
    assert statement.status == "approved" and statement.published_at is None
    # The requester hears of it, and the lead (the notifications' own failure notice).
    [told] = Notification.objects.filter(user=spokesperson, kind="delivery_failed")
    # In their language, naming the statement as its pages do (it has no title).
    assert told.subject == french_spacing(
        "Non publié sur Brand on Mastodon : Déclaration d\u2019attente (Mastodon)"
    )  # on one line, its no-break space kept
    assert Notification.objects.filter(user=lead, kind="delivery_failed").exists()


def test_a_bluesky_password_refused_fails_with_the_reason(
    publish, on_bluesky, bluesky_account, bsky, spokesperson, account_admin
):
    from incidents.publishing import actions

    bluesky_account.handle = "someone.else"
    actions.account_save(account=bluesky_account, actor=account_admin)
    publication = publish(statement=on_bluesky, account=bluesky_account, actor=spokesperson)
    deliver_due()
    publication = fresh(publication)
    assert publication.status == "failed"
    assert "refused the handle or app password (401)" in publication.error
    assert fresh(on_bluesky).status == "approved" and bsky.posts == 0


def test_too_long_for_the_instance_fails_with_its_words(
    publish, on_mastodon, mastodon_account, mastodon, spokesperson
):
    mastodon.refuse_next(422, {"error": "Validation failed: Text character limit of 500 exceeded"})
    publication = publish(statement=on_mastodon, account=mastodon_account, actor=spokesperson)
    deliver_due()
    publication = fresh(publication)
    assert publication.status == "failed"
    assert publication.error.endswith(
        "the instance refused the post: Validation failed: Text character limit of 500 exceeded"
    )


def test_too_long_for_bluesky_fails_with_its_words(
    publish, make_statement, bluesky_account, bsky, spokesperson
):
    bsky.refuse_next(
        400,
        {"error": "InvalidRequest", "message": "Record/text must not be longer than 300 graphemes"},
    )
    statement = make_statement(channel="bluesky", state="approved", text=TEXT)
    publication = publish(statement=statement, account=bluesky_account, actor=spokesperson)
    deliver_due()
    publication = fresh(publication)
    assert publication.status == "failed" and "300 graphemes" in publication.error


@pytest.mark.parametrize("platform", ["mastodon", "bluesky"])
def test_a_rate_limit_is_retried_after_the_platforms_retry_after(
    platform, request, publish, make_statement, spokesperson
):
    server = request.getfixturevalue("mastodon" if platform == "mastodon" else "bsky")
    account = request.getfixturevalue(f"{platform}_account")
    statement = make_statement(channel=platform, state="approved", text=TEXT)
    server.refuse_next(429, {"error": "RateLimitExceeded"}, Retry_After="1800")
    publication = publish(statement=statement, account=account, actor=spokesperson)
    now = timezone.now()
    assert deliver_due(now=now)["retry"] == 1

    message = OutboundMessage.objects.get(key=publication.key)
    assert message.status == Status.PENDING and "(429)" in message.last_error
    assert message.next_attempt_at >= now + timedelta(seconds=1790)
    assert deliver_due(now=now + timedelta(minutes=20))["claimed"] == 0  # not before
    assert deliver_due(now=now + timedelta(minutes=31))["sent"] >= 1
    assert server.posts == 1 and fresh(publication).status == "sent"


def test_a_server_error_is_retried(publish, on_mastodon, mastodon_account, mastodon, spokesperson):
    mastodon.refuse_next(503, {"error": "Down for maintenance"})
    publication = publish(statement=on_mastodon, account=mastodon_account, actor=spokesperson)
    assert deliver_due()["retry"] == 1
    assert deliver_due(now=timezone.now() + LATER)["sent"] >= 1
    assert mastodon.posts == 1 and fresh(publication).status == "sent"


def test_an_unreachable_server_is_retried(
    publish, on_mastodon, mastodon_account, mastodon, spokesperson
):
    mastodon.close()
    publication = publish(statement=on_mastodon, account=mastodon_account, actor=spokesperson)
    assert deliver_due()["retry"] == 1
    message = OutboundMessage.objects.get(key=publication.key)
    assert message.last_error.endswith("the instance is unreachable")
    assert fresh(publication).status == "queued"


def test_a_statement_changed_after_it_was_queued_is_not_posted(
    publish, on_mastodon, mastodon_account, mastodon, spokesperson, drafter
):
    publication = publish(statement=on_mastodon, account=mastodon_account, actor=spokesperson)
    statement_actions.statement_edit(
        statement=on_mastodon, actor=drafter, text=TEXT + " Edited.", base_revision=1
    )
    deliver_due()
    assert mastodon.posts == 0
    publication = fresh(publication)
    assert publication.status == "failed" and "changed since it was queued" in publication.error


def test_try_again_after_a_failure_uses_the_same_message(
    publish, on_mastodon, mastodon_account, mastodon, spokesperson
):
    mastodon.refuse_next(401)
    first = publish(statement=on_mastodon, account=mastodon_account, actor=spokesperson)
    deliver_due()
    assert fresh(first).status == "failed"

    again = publish(statement=on_mastodon, account=mastodon_account, actor=spokesperson)
    assert again.pk == first.pk and again.status == "queued" and again.tries == 2
    assert deliver_due()["sent"] >= 1
    assert OutboundMessage.objects.filter(key=first.key).count() == 1
    assert mastodon.posts == 1 and fresh(first).status == "sent"


def test_a_double_click_queues_one_post(
    publish, on_mastodon, mastodon_account, mastodon, spokesperson
):
    first = publish(statement=on_mastodon, account=mastodon_account, actor=spokesperson)
    second = publish(statement=on_mastodon, account=mastodon_account, actor=spokesperson)
    assert first.pk == second.pk
    assert Publication.objects.count() == 1
    assert OutboundMessage.objects.filter(channel="post").count() == 1
    deliver_due()
    third = publish(statement=fresh(on_mastodon), account=mastodon_account, actor=spokesperson)
    assert third.pk == first.pk and third.status == "sent"
    assert mastodon.posts == 1
    assert Statement.objects.get(pk=on_mastodon.pk).status == "published"
