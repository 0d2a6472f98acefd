"""Celery tasks: thin, they call the detection runner."""

from celery import shared_task

from . import detection


@shared_task(ignore_result=True)
def detect_signals() -> dict:
    """Celery beat, every minute: evaluate the active watches' new minutes and open, update
    or close their signals (detection.detect). Idempotent: a minute is evaluated once."""
    return detection.detect()
