"""Live updates of the listening page: after mentions are stored (or a signal changes),
every open listening page refreshes its panels (panels.SIGNAL_PANELS["listening-changed"]).

Design (the cheapest correct one with what exists): a per-person signal, sent to the
people who may read listening data (rules.can_view_listening: the permission given
directly, through a group, or a superuser), on their own channel group (events.user_group)
that every signed-in page already listens to (ws/me/, or the room's socket). No new group
and no change to the consumers: a person whose permission is withdrawn stops being sent the
signal at once, and the refresh itself is a page request checked like any other.

Cost bound: one query for the readers (at most MAX_READERS) and one channel message each,
at most once per THROTTLE_SECONDS (a connector stores mentions every few seconds; a page
refreshing faster than that helps nobody). A burst cut by the throttle is shown by the next
publish, or by the page's own refresh after a reconnect. Never raises: the mentions are
stored whatever happens to the live update.
"""

import logging

from django.core.cache import cache
from django.db import transaction

from incidents import events

from . import rules

logger = logging.getLogger(__name__)

LISTENING_CHANGED = "listening-changed"
THROTTLE_SECONDS = 3
MAX_READERS = 500
_THROTTLE_KEY = "listening:changed:throttle"


def reader_ids() -> list[int]:
    """The active people who may read listening data (one query)."""
    users = rules.listening_readers().order_by("pk")
    return list(users.values_list("pk", flat=True)[:MAX_READERS])


def publish_now(force: bool = False) -> None:
    """Tell the readers' pages to refresh the listening panels (throttled, unless `force`:
    a signal that opened or closed is always announced)."""
    try:
        if not cache.add(_THROTTLE_KEY, 1, timeout=THROTTLE_SECONDS) and not force:
            return
        for user_id in reader_ids():
            events.publish_user_signal(user_id, LISTENING_CHANGED)
    except Exception:
        logger.exception("Could not publish the listening update")


def publish_listening_changed(force: bool = False) -> None:
    """After the current transaction commits (at once outside one): a rolled-back ingest
    must never have been announced."""
    transaction.on_commit(lambda: publish_now(force))
