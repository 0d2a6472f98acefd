"""Celery tasks of the playbooks: take ids (or nothing), call actions."""

from celery import shared_task

from . import actions


@shared_task(ignore_result=True)
def send_task_reminders() -> int:
    """Run by Celery beat every minute (CELERY_BEAT_SCHEDULE)."""
    return actions.tasks_send_reminders()
