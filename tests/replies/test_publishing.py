"""Replies and publishing: the "copy the approved text and open the post" box shows exactly
when publishing cannot post on the mention's platform (no active brand account there), and
a reply posted through publishing answers the mention's post (tests/publishing's fake
Mastodon server, the outbox's worker run by the test)."""

import pytest
from django.urls import reverse

from incidents.publishing import actions as publishing_actions
from incidents.replies import actions
from incidents.replies.models import Triage
from statements import actions as statement_actions
from tests.publishing import conftest as publishing_fixtures
from tests.publishing.conftest import deliver_due

# Publishing's fixtures (its fake Mastodon server, a brand account, the outbox run inline).
_publishing = publishing_fixtures._publishing
account_admin = publishing_fixtures.account_admin
mastodon = publishing_fixtures.mastodon
mastodon_account = publishing_fixtures.mastodon_account
publish = publishing_fixtures.publish

pytestmark = pytest.mark.django_db

MENTION_URL = "https://other.example/@angry/987"
TEXT = "Sorry about your lid: send us a private message and we replace it today."


@pytest.fixture
def approved_on_mastodon(incident, attach_mentions, drafter, approver):
    (mention,) = attach_mentions(
        incident, {"text": "My lid cracked. Refund?", "platform": "mastodon", "url": MENTION_URL}
    )
    statement = actions.reply_write(incident=incident, mention=mention, actor=drafter, text=TEXT)
    statement_actions.statement_submit(statement=statement, actor=drafter)
    statement = statement_actions.statement_approve(statement=statement, actor=approver, revision=1)
    return mention, statement


def binding(client, statement) -> str:
    return client.get(reverse("statement-detail", args=[statement.pk])).content.decode()


def test_the_copy_box_shows_exactly_when_no_active_account_can_post(
    approved_on_mastodon, browser_client, spokesperson, mastodon_account, account_admin
):
    _mention, statement = approved_on_mastodon
    client = browser_client.as_user(spokesperson)
    assert "In reply to" in binding(client, statement)
    assert "reply-approved-text" not in binding(client, statement)  # publishing posts it

    mastodon_account.active = False
    publishing_actions.account_save(account=mastodon_account, actor=account_admin)
    body = binding(client, statement)
    assert "Copy the approved text and open the post" in body
    assert "The brand has no account on Mastodon" in body


def test_mastodon_without_a_brand_account_gets_the_copy_box(
    approved_on_mastodon, browser_client, spokesperson
):
    _mention, statement = approved_on_mastodon
    body = binding(browser_client.as_user(spokesperson), statement)
    assert "Copy the approved text and open the post" in body
    assert f'href="{MENTION_URL}"' in body


def test_a_reply_published_through_publishing_answers_the_mentions_post(
    approved_on_mastodon, mastodon, mastodon_account, publish, spokesperson
):
    mention, statement = approved_on_mastodon
    assert statement.reply_to_url == MENTION_URL
    mastodon.remote[MENTION_URL] = "4242"  # the post, as the brand's instance knows it
    publish(statement=statement, account=mastodon_account, actor=spokesperson)  # no in_reply_to
    deliver_due()

    [search] = [r for r in mastodon.requests if r["path"] == "/api/v2/search"]
    assert search["query"]["q"] == MENTION_URL
    [status] = mastodon.statuses
    assert status["in_reply_to_id"] == "4242" and status["text"] == TEXT
    triage = Triage.objects.get(mention=mention)
    assert triage.outcome == "answered" and triage.decided_by == spokesperson
