"""Celery tasks of the outbox: take keys, call the actions. `queue_delivery` is how the
actions hand messages to the workers, by task name, after commit."""

import logging

from celery import current_app, shared_task
from django.conf import settings

from . import actions

logger = logging.getLogger("incidents.outbox")

DELIVER_TASK = "incidents.outbox.tasks.deliver"
SWEEP_TASK = "incidents.outbox.tasks.sweep"  # Celery beat, every minute (settings.py)


def queue_delivery(keys: list[str]) -> None:
    """Queue one delivery task per batch of OUTBOX_BATCH_SIZE keys. With
    CELERY_TASK_ALWAYS_EAGER (embedded mode) the batches are sent here and now. Never
    raises: a broker outage (or an error while delivering inline) is logged, the messages
    stay pending and the sweep queues them again."""
    keys = list(dict.fromkeys(keys))
    size = max(settings.OUTBOX_BATCH_SIZE, 1)
    for start in range(0, len(keys), size):
        batch = keys[start : start + size]
        try:
            current_app.signature(DELIVER_TASK, args=(batch,)).delay()
        except Exception:
            logger.exception("Could not queue %s outgoing message(s); the sweep will", len(batch))


@shared_task(name=DELIVER_TASK, ignore_result=True)
def deliver(keys: list[str]) -> None:
    actions.messages_deliver(keys=keys)


@shared_task(name=SWEEP_TASK, ignore_result=True)
def sweep() -> None:
    actions.messages_sweep()
