"""Writes of the outbox. Producers call `enqueue` inside their own transaction: the messages
exist exactly when the action that caused them commits, and are handed to the workers only
after that commit. Nothing is ever sent from inside a request or an action."""

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from .choices import Channel
from .models import MAX_BODY, MAX_LABEL, MAX_SUBJECT, OutboundMessage


@dataclass(frozen=True)
class Outgoing:
    """A message to send: `key` makes it idempotent (the same key twice is one message)."""

    channel: Channel
    recipient: str
    key: str
    body: str
    subject: str = ""
    label: str = ""
    user: object = None
    incident: object = None


def enqueue(*messages: Outgoing, actor=None, now=None) -> int:
    """Write the messages (one INSERT for all; a key already queued is skipped) and hand them
    to the workers after commit. Returns how many were given to the INSERT."""
    if not messages:
        return 0
    now = now or timezone.now()
    OutboundMessage.objects.bulk_create(
        [
            OutboundMessage(
                key=m.key,
                channel=m.channel,
                recipient=m.recipient,
                recipient_label=m.label[:MAX_LABEL],
                subject=" ".join(m.subject.split())[:MAX_SUBJECT],
                body=m.body[:MAX_BODY],
                user=m.user,
                sender=actor,
                incident=m.incident,
                created_at=now,
                next_attempt_at=now,
            )
            for m in messages
        ],
        ignore_conflicts=True,
    )
    keys = [m.key for m in messages]
    transaction.on_commit(lambda: _hand_to_workers(keys))
    return len(messages)


def _hand_to_workers(keys: list[str]) -> None:
    """Queue the delivery of the messages with these keys (the worker side: tasks.py)."""
    from .tasks import queue_delivery  # the delivery side; written by the outbox's worker

    queue_delivery(keys)
