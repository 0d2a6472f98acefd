"""What a lost broker message or a worker killed mid-send leaves behind, and how the
periodic sweep finds it: nothing is lost, nothing is sent twice by two live workers, and a
copy sent again after a crash carries the same Message-ID."""

from datetime import timedelta

import pytest
from celery.canvas import Signature
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError

from crisiscell.celery import app as celery_app
from incidents.outbox import actions, senders, tasks
from incidents.outbox.choices import Status
from incidents.outbox.models import OutboundMessage
from tests.helpers import run_concurrently
from tests.outbox.conftest import deliver_due, mail, row


def claim_and_die(message, *, now):
    """A worker claims the row, then is killed (SIGKILL, OOM) before it records anything."""
    claimed = actions._claim([message.key], token="killed-worker-claim0000000000000", now=now)
    assert [m.pk for m in claimed] == [message.pk]
    return claimed[0]


@pytest.mark.django_db
def test_a_worker_killed_mid_send_is_replaced_after_its_lease(smtp, send_later, queued, settings):
    [message] = send_later(mail())
    queued.clear()
    now = timezone.now()
    claim_and_die(message, now=now)
    assert row(message).status == Status.SENDING

    # Within the lease, the sweep leaves it alone: its worker may still be sending.
    assert actions.messages_sweep(now=now + timedelta(seconds=30))["released"] == 0
    assert queued == []

    after_lease = now + timedelta(seconds=settings.OUTBOX_LEASE_SECONDS + 1)
    done = actions.messages_sweep(now=after_lease)
    assert done == {"released": 1, "failed": 0, "queued": 1}
    assert queued == [[message.key]]
    released = row(message)
    assert released.status == Status.PENDING and released.attempts == 1
    assert "interrupted" in released.last_error

    assert actions.messages_deliver(keys=[message.key], now=after_lease)["sent"] == 1
    assert smtp.message_ids() == [senders.message_id(message.key)]  # sent once
    assert row(message).attempts == 2


@pytest.mark.django_db
def test_a_copy_sent_again_after_a_crash_has_the_same_message_id(smtp, send_later, settings):
    """The dead worker had handed the mail to the server before it died: the copy sent
    after the lease is the same message, recognisable by its Message-ID."""
    [message] = send_later(mail())
    now = timezone.now()
    claimed = claim_and_die(message, now=now)
    senders.send_emails([claimed], deadline=lambda: False)  # delivered, never recorded

    after_lease = now + timedelta(seconds=settings.OUTBOX_LEASE_SECONDS + 1)
    actions.messages_sweep(now=after_lease)
    actions.messages_deliver(keys=[message.key], now=after_lease)
    ids = smtp.message_ids()
    assert len(ids) == 2 and ids[0] == ids[1] == senders.message_id(message.key)


@pytest.mark.django_db
def test_a_worker_whose_lease_ran_out_cannot_overwrite_the_one_that_took_over(
    smtp, send_later, settings, failures
):
    [message] = send_later(mail())
    now = timezone.now()
    slow = claim_and_die(message, now=now)
    after_lease = now + timedelta(seconds=settings.OUTBOX_LEASE_SECONDS + 1)
    actions.messages_sweep(now=after_lease)
    assert actions.messages_deliver(keys=[message.key], now=after_lease)["sent"] == 1

    # The slow worker comes back with a failure: its claim is gone, it records nothing.
    counts = {"sent": 0, "retry": 0, "failed": 0}
    failure = senders.PermanentError("e-mail to legal@example.com refused: 550")
    actions._record(
        [slow],
        {slow.pk: failure},
        token="killed-worker-claim0000000000000",
        counts=counts,
        now=after_lease,
    )
    assert counts == {"sent": 0, "retry": 0, "failed": 0}
    assert row(message).status == Status.SENT and failures == []


@pytest.mark.django_db
def test_a_message_interrupted_on_its_last_attempt_fails(send_later, settings, failures):
    settings.OUTBOX_MAX_ATTEMPTS = 1
    [message] = send_later(mail())
    now = timezone.now()
    claim_and_die(message, now=now)
    done = actions.messages_sweep(now=now + timedelta(seconds=settings.OUTBOX_LEASE_SECONDS + 1))
    assert done["failed"] == 1
    assert row(message).status == Status.FAILED
    assert [[m.pk for m in told] for told in failures] == [[message.pk]]


@pytest.fixture
def broker_down(monkeypatch):
    def unreachable(self, *args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(Signature, "apply_async", unreachable)


@pytest.mark.django_db
def test_a_lost_broker_message_is_found_by_the_sweep(
    smtp, django_capture_on_commit_callbacks, broker_down, monkeypatch, settings
):
    with django_capture_on_commit_callbacks(execute=True):
        actions.enqueue(mail())  # the action commits; queueing fails (logged, not raised)
    message = OutboundMessage.objects.get()
    assert message.status == Status.PENDING and smtp.received == []

    monkeypatch.undo()  # the broker is back; the message's task was never queued
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True  # the worker: inline, within the test
    try:
        now = timezone.now()
        # A new message gets time for its own task before the sweep queues it again.
        assert actions.messages_sweep(now=now)["queued"] == 0
        later = now + timedelta(seconds=settings.OUTBOX_REQUEUE_AFTER_SECONDS + 1)
        assert actions.messages_sweep(now=later)["queued"] == 1
    finally:
        celery_app.conf.task_always_eager = eager
    assert row(message).status == Status.SENT
    assert smtp.message_ids() == [senders.message_id(message.key)]


@pytest.mark.django_db
def test_retries_that_came_due_are_queued_by_the_sweep(smtp, send_later, queued):
    [message] = send_later(mail())
    smtp.down()
    deliver_due()
    queued.clear()
    waiting = row(message)
    assert actions.messages_sweep(now=waiting.next_attempt_at - timedelta(seconds=1)) == {
        "released": 0,
        "failed": 0,
        "queued": 0,
    }
    assert actions.messages_sweep(now=waiting.next_attempt_at)["queued"] == 1
    assert queued == [[message.key]]


@pytest.mark.django_db
def test_the_sweep_is_bounded(send_later, queued, settings):
    settings.OUTBOX_SWEEP_LIMIT = 7
    settings.OUTBOX_BATCH_SIZE = 5
    send_later(*(mail(n) for n in range(20)))
    queued.clear()
    later = timezone.now() + timedelta(hours=1)
    assert actions.messages_sweep(now=later)["queued"] == 7


@pytest.mark.django_db
def test_queue_delivery_queues_one_task_per_batch(monkeypatch, settings):
    settings.OUTBOX_BATCH_SIZE = 4
    sent = []
    monkeypatch.setattr(Signature, "apply_async", lambda self, *a, **k: sent.append(self))
    tasks.queue_delivery([f"k{n}" for n in range(10)] + ["k0"])
    assert [s.task for s in sent] == [tasks.DELIVER_TASK] * 3
    assert [list(s.args[0]) for s in sent] == [
        ["k0", "k1", "k2", "k3"],
        ["k4", "k5", "k6", "k7"],
        ["k8", "k9"],
    ]
    assert tasks.SWEEP_TASK in celery_app.tasks and tasks.DELIVER_TASK in celery_app.tasks
    assert settings.CELERY_BEAT_SCHEDULE["outbox-sweep"]["task"] == tasks.SWEEP_TASK


@pytest.mark.django_db(transaction=True)
def test_concurrent_workers_send_each_message_once(smtp, settings, queued):
    """Four workers given the same keys at the same moment (a doubled task, a sweep that
    re-queued what was already queued): each message is claimed by one of them."""
    settings.OUTBOX_BATCH_SIZE = 40
    with transaction.atomic():
        actions.enqueue(*(mail(n, to=f"m{n}@example.com") for n in range(120)))
    keys = list(OutboundMessage.objects.order_by("pk").values_list("key", flat=True))

    def worker():
        claimed = 0
        for start in range(0, len(keys), 40):
            claimed += actions.messages_deliver(keys=keys[start : start + 40])["claimed"]
        return claimed

    results, _, unexpected = run_concurrently([worker] * 4)
    assert unexpected == []
    assert sum(results) == 120
    assert len(smtp.received) == 120 and len(set(smtp.message_ids())) == 120
    assert OutboundMessage.objects.filter(status=Status.SENT).count() == 120
