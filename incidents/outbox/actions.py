"""Writes of the outbox. Producers call `enqueue` inside their own transaction: the messages
exist exactly when the action that caused them commits, and are handed to the workers only
after that commit. Nothing is ever sent from inside a request or an action.

The worker's side (`messages_deliver`, `messages_sweep`) moves a row through
pending -> sending -> sent | pending (retry later) | failed, each step one short
transaction; the network is only ever used between two of them, with no lock held.
"""

import logging
import secrets
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from incidents.errors import NotAllowed
from incidents.text import one_line

from . import delivery, hooks, rules, senders
from .choices import Channel, Status
from .models import MAX_BODY, MAX_ERROR, MAX_LABEL, MAX_SUBJECT, OutboundMessage

logger = logging.getLogger("incidents.outbox")


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
    headers: dict | None = None  # extra e-mail headers (List-Unsubscribe...)


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
                subject=one_line(m.subject)[:MAX_SUBJECT],
                body=m.body[:MAX_BODY],
                headers=m.headers or {},
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


def messages_deliver(*, keys, now=None) -> dict[str, int]:
    """The worker's task: send the messages with these keys that are pending and due (at
    most OUTBOX_BATCH_SIZE; others with the keys are left alone: sent, failed, being sent
    by another worker, or not due yet). Returns {"sent", "retry", "failed", "claimed"}.

    1. Claim (one short transaction): pending -> sending, attempts + 1, a random claim
       token, the lease's end in `next_attempt_at`. On PostgreSQL the rows are picked with
       SKIP LOCKED, so concurrent workers take different rows; everywhere the UPDATE is
       conditional on the row still being pending, so a row is claimed once.
    2. Send (no transaction, no lock): senders.send, one connection per channel's batch.
    3. Record (one short transaction), only where the claim is still ours: sent (sent_at),
       pending again after the back-off (last_error), or failed for good (permanent
       refusal, or the last attempt): then the failure handlers are called.
    """
    now = now or timezone.now()
    token = secrets.token_hex(16)
    claimed = _claim(list(keys)[: _batch_size()], token=token, now=now)
    counts = {"claimed": len(claimed), "sent": 0, "retry": 0, "failed": 0}
    if not claimed:
        return counts
    started = time.monotonic()
    half_lease = delivery.lease().total_seconds() / 2

    def deadline() -> bool:
        # Half the lease spent: hand back what is left before anyone could take it over.
        return time.monotonic() - started > half_lease

    by_channel = defaultdict(list)
    for message in claimed:
        by_channel[message.channel].append(message)
    outcomes = {}
    with translation.override(settings.LANGUAGE_CODE):
        for channel, messages in by_channel.items():
            try:
                results = senders.send(channel, messages, deadline=deadline)
            except Exception as error:  # the backend itself is broken (a bad EMAIL_BACKEND)
                logger.exception("Sending a batch of %s outbox message(s) failed", len(messages))
                results = [
                    senders.SendError(
                        _("%(what)s not sent: %(error)s") % senders.describe(message, error)
                    )
                    for message in messages
                ]
            outcomes.update(zip((m.pk for m in messages), results, strict=True))
        # The caller's clock (a test's, the worker's), moved on by the time spent sending.
        done = now + timedelta(seconds=time.monotonic() - started)
        handed_back = _record(claimed, outcomes, token=token, counts=counts, now=done)
    if handed_back:
        _hand_to_workers(handed_back)
    return counts


def _batch_size() -> int:
    return max(settings.OUTBOX_BATCH_SIZE, 1)


def _claim(keys: list[str], *, token: str, now) -> list[OutboundMessage]:
    if not keys:
        return []
    with transaction.atomic():
        due = OutboundMessage.objects.filter(
            key__in=keys, status=Status.PENDING, next_attempt_at__lte=now
        ).order_by("next_attempt_at", "pk")
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True)
        ids = list(due.values_list("pk", flat=True)[: _batch_size()])
        if not ids:
            return []
        OutboundMessage.objects.filter(pk__in=ids, status=Status.PENDING).update(
            status=Status.SENDING,
            claim=token,
            attempts=F("attempts") + 1,
            last_attempt_at=now,
            next_attempt_at=now + delivery.lease(),
        )
    return list(
        OutboundMessage.objects.filter(pk__in=ids, claim=token, status=Status.SENDING).order_by(
            "next_attempt_at", "pk"
        )
    )


def _record(claimed, outcomes: dict, *, token: str, counts: dict, now) -> list[str]:
    """Write each outcome where the claim is still ours; returns the keys not tried."""
    sent = [m.pk for m in claimed if outcomes[m.pk] is None]
    not_tried = [m for m in claimed if outcomes[m.pk] is senders.NOT_TRIED]
    failures = [
        (m, outcomes[m.pk]) for m in claimed if outcomes[m.pk] not in (None, senders.NOT_TRIED)
    ]
    ours = OutboundMessage.objects.filter(claim=token, status=Status.SENDING)
    with transaction.atomic():
        if sent:
            counts["sent"] = ours.filter(pk__in=sent).update(
                status=Status.SENT, sent_at=now, last_error="", claim=""
            )
        if not_tried:
            # Not an attempt: the batch ran out of time before it got to them.
            ours.filter(pk__in=[m.pk for m in not_tried]).update(
                status=Status.PENDING, attempts=F("attempts") - 1, next_attempt_at=now, claim=""
            )
        gave_up = []
        for message, error in failures:
            final = error.permanent or message.attempts >= settings.OUTBOX_MAX_ATTEMPTS
            reason = error.reason
            if final and not error.permanent:
                reason = _("%(reason)s (gave up after %(count)s attempts)") % {
                    "reason": reason,
                    "count": message.attempts,
                }
            updated = ours.filter(pk=message.pk).update(
                status=Status.FAILED if final else Status.PENDING,
                next_attempt_at=now
                if final
                else now + delivery.retry_wait(message.attempts, error.retry_after),
                last_error=reason[:MAX_ERROR],
                claim="",
            )
            if updated:
                counts["failed" if final else "retry"] += 1
                if final:
                    gave_up.append(message.pk)
            logger.warning("Outbox message %s: %s", message.pk, reason)
        _tell_failure_handlers(gave_up)
    return [m.key for m in not_tried]


def _tell_failure_handlers(ids: list[int]) -> None:
    if ids:
        hooks.failed(
            list(
                OutboundMessage.objects.filter(pk__in=ids).select_related(
                    "incident", "user", "sender"
                )
            )
        )


def messages_sweep(*, now=None) -> dict[str, int]:
    """Celery beat, every minute (bounded by OUTBOX_SWEEP_LIMIT rows each way):

    - a row still "sending" past its lease (its worker was killed mid-send) is pending
      again, due now — or failed, if that was its last attempt; it is sent again
      (at least once: an e-mail keeps its Message-ID, a post its idempotency key);
    - pending rows that are due are queued: retries whose back-off is over, and new rows
      whose broker message never arrived (pending longer than
      OUTBOX_REQUEUE_AFTER_SECONDS). A row queued twice is still claimed once.

    Returns {"released", "failed", "queued"}."""
    now = now or timezone.now()
    limit = max(settings.OUTBOX_SWEEP_LIMIT, 1)
    interrupted = _("delivery interrupted: the worker stopped while sending; sending again")
    stuck = OutboundMessage.objects.filter(status=Status.SENDING, next_attempt_at__lte=now)
    with transaction.atomic():
        rows = list(stuck.order_by("next_attempt_at", "pk").values_list("pk", "attempts")[:limit])
        last = [pk for pk, attempts in rows if attempts >= settings.OUTBOX_MAX_ATTEMPTS]
        released = stuck.filter(pk__in=[pk for pk, _attempts in rows if pk not in last]).update(
            status=Status.PENDING, next_attempt_at=now, claim="", last_error=interrupted
        )
        gave_up = [
            pk
            for pk in last
            if stuck.filter(pk=pk).update(
                status=Status.FAILED,
                next_attempt_at=now,
                claim="",
                last_error=_(
                    "delivery interrupted: the worker stopped while sending, %(count)s times"
                )
                % {"count": settings.OUTBOX_MAX_ATTEMPTS},
            )
        ]
        _tell_failure_handlers(gave_up)
    new_enough = now - timedelta(seconds=settings.OUTBOX_REQUEUE_AFTER_SECONDS)
    keys = list(
        OutboundMessage.objects.filter(status=Status.PENDING, next_attempt_at__lte=now)
        .filter(Q(attempts__gt=0) | Q(next_attempt_at__lte=new_enough))
        .order_by("next_attempt_at", "pk")
        .values_list("key", flat=True)[:limit]
    )
    if keys:
        _hand_to_workers(keys)
    if released or gave_up:
        logger.warning("Outbox sweep: %s interrupted message(s) released", released + len(gave_up))
    return {"released": released, "failed": len(gave_up), "queued": len(keys)}


def messages_retry(*, actor, ids, now=None) -> int:
    """ "Retry now" (admin action, `outbox_status --retry-failed`): the failed or pending
    messages among `ids` are due now with a fresh count of attempts, and queued after
    commit. Sent messages and those being sent are left alone. `actor=None` is the system
    (a management command). Raises NotAllowed for anyone but active staff who may change
    outgoing messages. Returns how many were reset."""
    if not rules.can_retry_messages(actor):
        raise NotAllowed(_("Only staff who manage outgoing messages may retry them."))
    now = now or timezone.now()
    ids = list(dict.fromkeys(ids))
    keys: list[str] = []
    with transaction.atomic():
        for start in range(0, len(ids), 500):
            chunk = OutboundMessage.objects.filter(
                pk__in=ids[start : start + 500], status__in=[Status.FAILED, Status.PENDING]
            )
            found = list(chunk.values_list("key", flat=True))
            chunk.update(status=Status.PENDING, attempts=0, next_attempt_at=now, claim="")
            keys.extend(found)
        if keys:
            transaction.on_commit(lambda: _hand_to_workers(keys))
    logger.info("%s outgoing message(s) retried by %s", len(keys), actor or "the system")
    return len(keys)
