"""Celery tasks: thin, they call the detection runner."""

from celery import shared_task
from django.utils import timezone

from . import detection, events, selectors


@shared_task(ignore_result=True)
def detect_signals() -> dict:
    """Celery beat, every minute (the embedded scheduler too): evaluate the active watches'
    new minutes and open, update or close their signals (detection.detect). Idempotent: a
    minute is evaluated once. Then, when a planned campaign started or ended on its own
    since the previous pass, the open Listening pages refresh (events.py)."""
    since = selectors.detector_last_pass()
    now = timezone.now()
    done = detection.detect(now=now)
    events.publish_if_campaigns_turned(since, now)
    return done
