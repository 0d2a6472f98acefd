"""Chat and SMS through Apprise, against a local fake webhook (Apprise `json://` URLs), and
platform posts through the registered senders."""

import pytest
from django.utils import timezone

from incidents.outbox import hooks, senders
from incidents.outbox.actions import Outgoing
from incidents.outbox.choices import Channel, Status
from incidents.outbox.models import OutboundMessage
from tests.outbox.conftest import LATER, deliver_due, row

pytestmark = pytest.mark.django_db


def chat(url, n=1, **fields):
    return Outgoing(
        channel=Channel.CHAT,
        recipient=url,
        key=f"handoff:{n}",
        subject=fields.pop("subject", "You are now the lead"),
        body=fields.pop("body", "Camille handed you the lead of “Insensitive post”."),
        label=fields.pop("label", "Slack — Inès"),
        **fields,
    )


def test_the_webhook_gets_the_message_as_json(webhook, send_later):
    [message] = send_later(chat(webhook.url("hooks/T0K3N-SECRET")))
    assert deliver_due()["sent"] == 1
    [request] = webhook.received
    assert request["path"] == "/hooks/T0K3N-SECRET"
    assert request["json"]["title"] == "You are now the lead"
    assert request["json"]["message"] == "Camille handed you the lead of “Insensitive post”."
    assert row(message).status == Status.SENT


def test_a_500_is_retried_then_delivered(webhook, send_later, failures):
    [message] = send_later(chat(webhook.url("hooks/T0K3N-SECRET")))
    webhook.status = 500
    assert deliver_due()["retry"] == 1
    waiting = row(message)
    assert waiting.status == Status.PENDING and waiting.attempts == 1
    assert waiting.last_error.startswith("chat message to Slack — Inès not delivered: ")
    assert "500" in waiting.last_error
    assert "T0K3N-SECRET" not in waiting.last_error

    webhook.status = 200
    assert deliver_due(now=timezone.now() + LATER)["sent"] == 1
    assert len(webhook.received) == 2 and failures == []


def test_a_hanging_webhook_times_out_and_is_retried(webhook, send_later):
    # Apprise's read timeout, set in the URL (`rto`, seconds; 4 by default).
    [message] = send_later(chat(webhook.url("hook", rto=1, cto=1)))
    webhook.status = "hang"
    assert deliver_due()["retry"] == 1
    assert row(message).status == Status.PENDING


def test_an_address_apprise_cannot_use_fails_at_once(send_later, failures):
    messages = send_later(
        chat("nosuchservice://token@host", 1, label=""), chat("not a url at all", 2)
    )
    assert deliver_due()["failed"] == 2
    failed = row(messages[0])
    assert failed.status == Status.FAILED
    assert failed.last_error == (
        "chat message to nosuchservice://… not sent: the chat address cannot be used "
        "(an unknown or malformed URL)"
    )
    assert "token" not in failed.last_error
    assert len(failures) == 1 and len(failures[0]) == 2


def post(target="mastodon:@brand", n=1):
    return Outgoing(
        channel=Channel.POST,
        recipient=target,
        key=f"statement:7:publish:{n}",
        body="We are aware of the post and are looking into it.",
        label="Mastodon @brand",
    )


@pytest.fixture
def mastodon(monkeypatch):
    """A registered post sender that records what it was asked to post (and the key it
    would give the platform as its idempotency key)."""
    posted, fail = [], []

    def sender(message):
        if fail:
            raise fail.pop(0)
        posted.append({"idempotency_key": message.key, "status": message.body})

    monkeypatch.setattr(hooks, "_post_senders", {})
    hooks.register_post_sender("mastodon", sender)
    sender.posted, sender.fail = posted, fail
    return sender


def test_a_post_goes_through_its_platforms_sender_with_its_key(mastodon, send_later):
    [message] = send_later(post())
    assert deliver_due()["sent"] == 1
    [posted] = mastodon.posted
    assert posted == {"idempotency_key": message.key, "status": post().body}


def test_a_post_sender_says_whether_to_retry(mastodon, send_later, failures):
    messages = send_later(post(n=1), post(n=2))
    mastodon.fail.extend(
        [
            senders.SendError("post to Mastodon @brand not sent: 503 from the instance"),
            senders.PermanentError("post to Mastodon @brand not sent: 422 text too long"),
        ]
    )
    counts = deliver_due()
    assert (counts["retry"], counts["failed"]) == (1, 1)
    assert row(messages[1]).last_error == "post to Mastodon @brand not sent: 422 text too long"
    assert deliver_due(now=timezone.now() + LATER)["sent"] == 1
    assert [p["idempotency_key"] for p in mastodon.posted] == [messages[0].key]


def test_a_sender_that_crashes_is_retried(mastodon, send_later):
    [message] = send_later(post())
    mastodon.fail.append(KeyError("status"))
    assert deliver_due()["retry"] == 1
    assert row(message).last_error == "post to Mastodon @brand not sent: 'status'"


def test_a_post_to_a_platform_without_a_sender_fails_for_good(send_later, failures, monkeypatch):
    monkeypatch.setattr(hooks, "_post_senders", {})
    [message] = send_later(post("bluesky:brand.example"))
    assert deliver_due()["failed"] == 1
    assert row(message).last_error == (
        "post to Mastodon @brand not sent: no sender is installed for the platform “bluesky”"
    )
    assert len(failures) == 1


def test_a_chat_address_that_now_leads_inside_is_not_sent(settings, webhook):
    """Checked again at delivery: a name saved while public may resolve elsewhere now."""
    settings.CHAT_ALLOW_LOOPBACK = False
    message = OutboundMessage(
        key="inside", channel=Channel.CHAT, recipient=webhook.url("x"), body="hello"
    )
    with pytest.raises(senders.PermanentError) as refused:
        senders.send_chat(message)
    assert "private or local network address" in refused.value.reason
    assert webhook.received == []


def test_a_stored_chat_address_holding_several_is_not_sent(settings, webhook):
    """Saved before one address per row was checked: Apprise would send to each, and the
    check read only the first."""
    settings.CHAT_ALLOW_LOOPBACK = True  # the webhook is on loopback: only the list refuses
    message = OutboundMessage(
        key="several",
        channel=Channel.CHAT,
        recipient=f"{webhook.url('a')},{webhook.url('b')}",
        body="hello",
    )
    with pytest.raises(senders.PermanentError) as refused:
        senders.send_chat(message)
    assert "cannot be used" in refused.value.reason
    assert webhook.received == []


def test_a_stored_chat_address_naming_two_servers_is_not_sent(settings, webhook):
    """Stored before the check read both: Apprise posts to the host after the first @."""
    settings.CHAT_ALLOW_LOOPBACK = False
    recipient = f"json://u@127.0.0.1:{webhook.port}@example.com/x"
    message = OutboundMessage(key="two-at", channel=Channel.CHAT, recipient=recipient, body="hi")
    with pytest.raises(senders.PermanentError) as refused:
        senders.send_chat(message)
    assert "private or local network address" in refused.value.reason
    assert webhook.received == []


def test_the_server_a_sender_reads_is_checked_too():
    """Beside the URL as urlsplit reads it: the host and port Apprise's plugin will use."""
    from types import SimpleNamespace

    from incidents.addresses import sender_points_inside

    assert sender_points_inside(SimpleNamespace(host="127.0.0.1", port=8822))
    assert sender_points_inside(SimpleNamespace(host="[::1]", port="80"))
    assert sender_points_inside(SimpleNamespace(host="10.0.0.5", port=None))
    assert not sender_points_inside(SimpleNamespace(host="T1JJ3T3L2", port=None))  # a token
    assert not sender_points_inside(SimpleNamespace(host=None, port=None))
    assert sender_points_inside(SimpleNamespace(host="127.0.0.1", port=1), allow_loopback=False)
    assert not sender_points_inside(SimpleNamespace(host="127.0.0.1", port=1), allow_loopback=True)


def test_a_chat_service_s_redirect_is_not_followed(settings):
    """A webhook answering 307 to another address had the message posted there (into the
    server's network, past the checks): the redirect is the answer, nothing is followed."""
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    received = []

    class Inside(BaseHTTPRequestHandler):
        def do_POST(self):
            received.append(self.path)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    inside = HTTPServer(("127.0.0.1", 0), Inside)

    class Redirecting(BaseHTTPRequestHandler):
        def do_POST(self):
            self.send_response(307)
            self.send_header("Location", f"http://127.0.0.1:{inside.server_port}/internal")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    outside = HTTPServer(("127.0.0.1", 0), Redirecting)
    for server in (inside, outside):
        threading.Thread(target=server.serve_forever, daemon=True).start()
    settings.CHAT_ALLOW_LOOPBACK = True  # both listen on loopback: only the redirect counts
    # Even when the URL asks for redirects to be followed.
    recipient = f"json://127.0.0.1:{outside.server_port}/hook?redirect=yes"
    message = OutboundMessage(key="redirect", channel=Channel.CHAT, recipient=recipient, body="x")
    try:
        with pytest.raises(senders.SendError):
            senders.send_chat(message)
    finally:
        for server in (inside, outside):
            server.shutdown()
            server.server_close()
    assert received == []
