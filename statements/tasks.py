"""Celery tasks: thin, they call actions. Registered in every process (statements/apps.py)."""

from celery import shared_task

from . import actions


@shared_task(ignore_result=True)
def escalate_late_approvals() -> int:
    """Celery beat, every minute: escalate approval steps past their deadline (once per
    statement, revision and step). Returns how many were escalated."""
    return actions.approvals_escalate_late()
