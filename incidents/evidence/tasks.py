"""Celery tasks of the evidence locker: take ids, call actions. Queued after commit."""

from celery import shared_task

from . import actions


@shared_task(ignore_result=True)
def make_display_copies(item_id: int) -> None:
    actions.evidence_store_display_copies(item_id=item_id)


@shared_task(ignore_result=True)
def capture_url(job_id: int) -> None:
    actions.evidence_capture_run(job_id=job_id)
