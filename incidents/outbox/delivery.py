"""The delivery policy: how long to wait before the next attempt, and who hears of a message
that could not be delivered. The state changes themselves are actions (actions.py)."""

import logging
import random
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import transaction

logger = logging.getLogger("incidents.outbox")

# Called with the rows that just failed for good, in the transaction that marks them
# failed: `handler(messages: list[OutboundMessage]) -> None`. The notifications app
# registers one that tells the incident's lead (or the sender) in the app.
_failure_handlers: list[Callable] = []


def register_failure_handler(handler: Callable) -> None:
    """Call `handler(messages)` whenever messages fail for good (after their last attempt,
    or at once for a permanent refusal). Register from an `AppConfig.ready()`. A handler
    that raises is logged and does not undo the failure nor stop the other handlers."""
    if handler not in _failure_handlers:
        _failure_handlers.append(handler)


def unregister_failure_handler(handler: Callable) -> None:
    if handler in _failure_handlers:
        _failure_handlers.remove(handler)


def failed(messages: list) -> None:
    """Tell every registered handler; each in its own savepoint."""
    if not messages:
        return
    for handler in list(_failure_handlers):
        try:
            with transaction.atomic():
                handler(messages)
        except Exception:
            logger.exception("Outbox failure handler %r raised", handler)


def backoff(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failed attempt (1, 2...): base x 2^(attempts-1),
    capped, times a random factor in [0.5, 1) so that messages that failed together (a
    mail server outage) do not all come back at the same second."""
    base = max(settings.OUTBOX_BACKOFF_BASE_SECONDS, 1)
    delay = min(settings.OUTBOX_BACKOFF_CAP_SECONDS, base * 2 ** min(max(attempts - 1, 0), 30))
    return timedelta(seconds=delay * random.uniform(0.5, 1.0))


def lease() -> timedelta:
    return timedelta(seconds=max(settings.OUTBOX_LEASE_SECONDS, 10))
