"""From notify() to the person, through the outbox's workers (incidents.outbox.actions.
messages_deliver) and local fakes: an SMTP server (aiosmtpd) and an Apprise JSON webhook.
Runs once the outbox's delivery side is there (tests/outbox/fakes.py)."""

from datetime import timedelta
from email.header import decode_header, make_header

import pytest
from django.utils import timezone

from incidents.notifications import actions
from incidents.notifications.choices import NotificationKind
from incidents.notifications.models import Notification
from incidents.outbox.choices import Status
from incidents.outbox.models import OutboundMessage

from .conftest import SITE

fakes = pytest.importorskip("tests.outbox.fakes", reason="the outbox's delivery side")
outbox_actions = pytest.importorskip("incidents.outbox.actions")
if not hasattr(outbox_actions, "messages_deliver"):
    pytest.skip("the outbox's workers are not there yet", allow_module_level=True)

pytestmark = pytest.mark.usefixtures("with_emails")


@pytest.fixture
def smtp(settings):
    server = fakes.FakeSMTP().up()
    for name, value in server.settings().items():
        setattr(settings, name, value)
    yield server
    server.down()


@pytest.fixture
def webhook():
    hook = fakes.FakeWebhook()
    yield hook
    hook.close()


def deliver_everything(rounds=20):
    """Run the workers until nothing is pending, each round far enough ahead that any
    back-off is over (the last attempt fails for good)."""
    later = timezone.now()
    for _ in range(rounds):
        later += timedelta(hours=3)
        keys = list(
            OutboundMessage.objects.filter(status=Status.PENDING).values_list("key", flat=True)
        )
        if not keys:
            return
        outbox_actions.messages_deliver(keys=keys, now=later)
    raise AssertionError("messages still pending")


def ready_to_publish(incident, users, actor):
    actions.notify(
        users=users,
        kind=NotificationKind.READY_TO_PUBLISH,
        subject="Holding statement (X)",
        url="/statements/7/",
        incident=incident,
        body="We are aware of the post.",
        actor=actor,
        key="statement:7:approved",
    )


def test_each_hand_off_reaches_its_person_by_email_and_chat(
    incident, lead, spokesperson, approver, smtp, webhook
):
    actions.chat_target_add(actor=spokesperson, label="Phone", url=webhook.url("spokesperson"))
    actions.chat_target_add(
        actor=lead, incident=incident, label="#crisis-room", url=webhook.url("cell")
    )

    ready_to_publish(incident, [spokesperson], approver)
    deliver_everything()

    (mail,) = smtp.received
    assert mail["to"] == ["spokesperson@example.com"]
    subject = str(make_header(decode_header(mail["subject"])))
    assert "Approved, ready to publish: Holding statement (X)" in subject
    assert f"{SITE}/statements/7/" in mail["body"]
    assert sorted(r["path"] for r in webhook.received) == ["/cell", "/spokesperson"]
    assert all(f"{SITE}/statements/7/" in str(r["json"]) for r in webhook.received)


def test_a_refused_email_reaches_the_lead_in_the_bell(incident, lead, approver, drafter, smtp):
    smtp.refuse_all("550 5.1.1 no such mailbox")

    actions.notify(
        users=[approver],
        kind=NotificationKind.REVIEW_REQUESTED,
        subject="Holding statement (X)",
        url="/statements/7/",
        incident=incident,
        actor=drafter,
    )
    deliver_everything()

    (notice,) = Notification.objects.filter(user=lead, kind=NotificationKind.DELIVERY_FAILED)
    assert "approver@example.com" in notice.subject
    assert "550" in notice.subject
    assert notice.url == f"/incidents/{incident.pk}/"
    # Bell only: no e-mail about an e-mail.
    assert not OutboundMessage.objects.filter(user=lead).exists()


def test_a_broken_chat_webhook_reaches_the_lead_by_email(
    incident, lead, approver, drafter, smtp, webhook
):
    actions.chat_target_add(actor=approver, label="Phone", url=webhook.url("approver"))
    webhook.status = 404

    actions.notify(
        users=[approver],
        kind=NotificationKind.REVIEW_REQUESTED,
        subject="Holding statement (X)",
        url="/statements/7/",
        incident=incident,
        actor=drafter,
    )
    deliver_everything()

    (notice,) = Notification.objects.filter(user=lead, kind=NotificationKind.DELIVERY_FAILED)
    assert "JSON — Phone (approver)" in notice.subject
    assert "127.0.0.1" not in notice.subject
    recipients = sorted(to for m in smtp.received for to in m["to"])
    assert recipients == ["approver@example.com", "lead@example.com"]
