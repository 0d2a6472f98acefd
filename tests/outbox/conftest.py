"""Outbox fixtures: the fake SMTP server and webhook (tests/outbox/fakes.py), the keys
handed to the workers (recorded instead of queued, so a test runs the worker itself), and
a failure handler that remembers what it was told."""

from datetime import timedelta

import pytest
from django.utils import timezone

from incidents.outbox import actions, hooks, tasks
from incidents.outbox.actions import Outgoing
from incidents.outbox.choices import Channel, Status
from incidents.outbox.models import OutboundMessage
from tests.outbox.fakes import FakeSMTP, FakeWebhook

# Far enough ahead that any back-off (capped at OUTBOX_BACKOFF_CAP_SECONDS) is over.
LATER = timedelta(hours=3)


@pytest.fixture
def smtp(settings):
    server = FakeSMTP().up()
    for name, value in server.settings().items():
        setattr(settings, name, value)
    yield server
    server.down()


@pytest.fixture
def webhook(settings):
    settings.CHAT_ALLOW_LOOPBACK = True  # the fake webhook listens on 127.0.0.1
    hook = FakeWebhook()
    yield hook
    hook.close()


@pytest.fixture
def queued(monkeypatch):
    """The keys `queue_delivery` was given, batch by batch, instead of queueing them."""
    batches: list[list[str]] = []
    monkeypatch.setattr(tasks, "queue_delivery", lambda keys: batches.append(list(keys)))
    return batches


@pytest.fixture
def failures():
    """Every list of messages the failure handlers were told about."""
    told: list[list[OutboundMessage]] = []

    def handler(messages):
        told.append(list(messages))

    hooks.register_failure_handler(handler)
    yield told
    hooks.unregister_failure_handler(handler)


@pytest.fixture
def send_later(django_capture_on_commit_callbacks, queued):
    """enqueue in an action-like transaction, after-commit hand-off recorded (`queued`)."""

    def enqueue(*messages, actor=None):
        with django_capture_on_commit_callbacks(execute=True):
            actions.enqueue(*messages, actor=actor)
        return [OutboundMessage.objects.get(key=m.key) for m in messages]

    return enqueue


def mail(n=1, *, to="legal@example.com", key="approval", **fields) -> Outgoing:
    return Outgoing(
        channel=Channel.EMAIL,
        recipient=to,
        key=f"{key}:{n}",
        subject=fields.pop("subject", f"Approval needed #{n}"),
        body=fields.pop("body", "A holding statement waits for your approval."),
        label=fields.pop("label", to),
        **fields,
    )


def deliver_due(*, now=None, rounds=50) -> dict:
    """Run the worker over every due pending message, batch by batch, as the workers
    would; returns the summed counts."""
    now = now or timezone.now()
    total = {"claimed": 0, "sent": 0, "retry": 0, "failed": 0}
    for _ in range(rounds):
        keys = list(
            OutboundMessage.objects.filter(status=Status.PENDING, next_attempt_at__lte=now)
            .order_by("pk")
            .values_list("key", flat=True)
        )
        if not keys:
            return total
        counts = actions.messages_deliver(keys=keys, now=now)
        for name in total:
            total[name] += counts[name]
        if not counts["claimed"]:
            return total
    return total


def row(message) -> OutboundMessage:
    return OutboundMessage.objects.get(pk=message.pk)
