"""Celery tasks of the evidence locker: take ids, call actions. The actions queue them by
name after commit (actions.common), so the names are fixed there."""

from celery import shared_task

from . import actions
from .actions.common import CAPTURE_TASK, DISPLAY_COPIES_TASK


@shared_task(name=DISPLAY_COPIES_TASK, ignore_result=True)
def make_display_copies(item_id: int) -> None:
    actions.evidence_store_display_copies(item_id=item_id)


@shared_task(name=CAPTURE_TASK, ignore_result=True)
def capture_url(job_id: int) -> None:
    actions.evidence_capture_run(job_id=job_id)


@shared_task(name="incidents.evidence.tasks.requeue_stuck", ignore_result=True)
def requeue_stuck() -> None:
    """Beat: queue again captures and display copies a broker outage left waiting."""
    actions.evidence_requeue_stuck()
