"""The delivery policy: how long to wait before the next attempt, how long a worker may hold
a claimed batch. The state changes themselves are actions (actions.py); who hears of a
failure is registered in hooks.py."""

import random
from datetime import timedelta

from django.conf import settings


def backoff(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failed attempt (1, 2...): base x 2^(attempts-1),
    capped, times a random factor in [0.5, 1) so that messages that failed together (a
    mail server outage) do not all come back at the same second."""
    base = max(settings.OUTBOX_BACKOFF_BASE_SECONDS, 1)
    delay = min(settings.OUTBOX_BACKOFF_CAP_SECONDS, base * 2 ** min(max(attempts - 1, 0), 30))
    return timedelta(seconds=delay * random.uniform(0.5, 1.0))


# A platform asking for more than this (a 429's Retry-After) is asked again sooner.
MAX_RETRY_AFTER = timedelta(hours=6)


def retry_wait(attempts: int, retry_after: float | None = None) -> timedelta:
    """The back-off, or the far side's Retry-After (seconds) when it asks for longer
    (at most MAX_RETRY_AFTER)."""
    wait = backoff(attempts)
    if retry_after:
        wait = max(wait, min(timedelta(seconds=retry_after), MAX_RETRY_AFTER))
    return wait


def lease() -> timedelta:
    return timedelta(seconds=max(settings.OUTBOX_LEASE_SECONDS, 10))
