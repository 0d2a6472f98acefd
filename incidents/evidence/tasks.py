"""Celery tasks of the evidence locker: take ids, call actions. The actions queue them by
name after commit (actions.common), so the names are fixed there."""

from celery import shared_task

from . import actions
from .actions.common import CAPTURE_TASK, DISPLAY_COPIES_TASK, EXPORT_TASK


@shared_task(name=DISPLAY_COPIES_TASK, ignore_result=True)
def make_display_copies(item_id: int) -> None:
    actions.evidence_store_display_copies(item_id=item_id)


@shared_task(name=CAPTURE_TASK, ignore_result=True)
def capture_url(job_id: int) -> None:
    actions.evidence_capture_run(job_id=job_id)


@shared_task(name=EXPORT_TASK, ignore_result=True)
def build_export(export_id: int) -> None:
    actions.evidence_export_build(export_id=export_id)


@shared_task(name="incidents.evidence.tasks.requeue_stuck", ignore_result=True)
def requeue_stuck() -> None:
    """Beat: queue again captures, display copies and exports a broker outage left
    waiting, and exports whose worker went silent."""
    actions.evidence_requeue_stuck()
