"""Celery tasks of the post-mortem: take ids (or nothing), call actions."""

from celery import shared_task

from . import actions


@shared_task(ignore_result=True)
def send_action_item_reminders() -> int:
    """Run by Celery beat every minute (CELERY_BEAT_SCHEDULE); at most one reminder per
    item and day, whatever the number of runs."""
    return actions.items_send_reminders()


@shared_task(ignore_result=True)
def send_promotion_freeze_reminders() -> int:
    """Run by Celery beat every minute (CELERY_BEAT_SCHEDULE); at most one reminder per
    resolved incident whose promotion freeze holds and day, until the lead lifts it."""
    return actions.freezes_send_reminders()
