"""Celery tasks of the crisis center: take ids, call the actions."""

import logging

from celery import current_app, shared_task

from . import actions, promises

logger = logging.getLogger(__name__)

NOTIFY_TASK = "incidents.crisiscenter.tasks.notify_subscribers"


def queue_notification(statement_id: int) -> None:
    """After the COMMIT that published a crisis center statement: e-mail the subscribers
    (inline with CELERY_TASK_ALWAYS_EAGER). Never raises into the publishing request."""
    try:
        current_app.signature(NOTIFY_TASK, args=(statement_id,)).delay()
    except Exception:
        logger.exception("Could not queue the subscribers' e-mails of statement %s", statement_id)


@shared_task(name=NOTIFY_TASK, ignore_result=True)
def notify_subscribers(statement_id: int) -> None:
    actions.update_notify(statement_id=statement_id)


@shared_task(name="incidents.crisiscenter.tasks.sweep_promises", ignore_result=True)
def sweep_promises() -> dict:
    """Run by Celery beat every minute (CELERY_BEAT_SCHEDULE): promised updates due soon are
    reminded, lapsed ones recorded missed; once each, whatever the number of runs."""
    return promises.sweep()
