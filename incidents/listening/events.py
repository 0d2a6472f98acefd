"""Live updates of the listening page: after mentions are stored, attached or detached, a
signal changes, a watch or a planned campaign is saved, or a planned campaign starts or
ends on its own (publish_if_campaigns_turned, after each detection pass), every open
listening page refreshes its panels (panels.SIGNAL_PANELS["listening-changed"]).

Design (the cheapest correct one with what exists): a per-person signal, sent to the
people who may read listening data (rules.can_view_listening: the permission given
directly, through a group, or a superuser), on their own channel group (events.user_group)
that every signed-in page already listens to (ws/me/, or the room's socket). No new group
and no change to the consumers: a person whose permission is withdrawn stops being sent the
signal (at most one trailing publish later, below), and the refresh itself is a page
request checked like any other.

Cost bound: one query for the readers (at most MAX_READERS) and one channel message each,
at most once per THROTTLE_SECONDS in a process (a connector stores mentions every few
seconds; a page refreshing faster than that helps nobody), besides the forced ones (a
signal opened or closed, a watch or a campaign saved: rare, and shown at once). The
throttle cuts on both edges: the first change of a window is announced at once, and the
changes it cut are announced when the window ends, by one trailing publish per window
(`_TRAILING_KEY`, claimed with cache.add, says one is planned; a daemon threading.Timer
sends it, to the readers read when it was planned, and starts the next window). So the
last mention of a burst is on the pages within THROTTLE_SECONDS, even on a quiet watch
where the next one comes hours later.

Per process: both keys are in the default cache, the process's own memory
(settings.CACHES): each process (a collector, a Celery worker, a web worker; embedded
mode's one process) announces its own changes, so no process relies on another's timer.
A process that ends within a window loses its trailing publish (the pages show the
change at their next refresh, or after a reconnect).

Where the trailing publish is sent from: a change made in a thread that serves an event
loop (a view's, the embedded scheduler's: asgiref's sync_to_async) is sent on that loop,
as the change's own publish would have been (the in-memory channel layer of embedded mode
delivers on it only); elsewhere (a collector, a Celery worker: Redis), from the timer.

Called after commit only (publish_listening_changed): a rolled-back change is never
announced, nor its trailing publish planned. Never raises: the change stands whatever
happens to the live update.
"""

import asyncio
import logging
import threading
import time

from asgiref.sync import async_to_sync, sync_to_async
from django.core.cache import cache
from django.db import transaction

from incidents import events

from . import rules

logger = logging.getLogger(__name__)

LISTENING_CHANGED = "listening-changed"
THROTTLE_SECONDS = 3
MAX_READERS = 500
# Holds the end of the window (time.time()) while a publish is throttled.
_THROTTLE_KEY = "listening:changed:throttle"
# Held while this process has a trailing publish planned for the window.
_TRAILING_KEY = "listening:changed:trailing"
# This process's planned trailing publish, if any (the tests cancel it).
_trailing_timer: threading.Timer | None = None


def reader_ids() -> list[int]:
    """The active people who may read listening data (one query)."""
    users = rules.listening_readers().order_by("pk")
    return list(users.values_list("pk", flat=True)[:MAX_READERS])


def _send(user_ids) -> None:
    for user_id in user_ids:
        events.publish_user_signal(user_id, LISTENING_CHANGED)


def publish_now(force: bool = False) -> None:
    """Tell the readers' pages to refresh the listening panels: at once when no publish was
    sent in the last THROTTLE_SECONDS (or `force`: a signal that opened or closed is always
    announced), else once when that window ends (the trailing publish)."""
    try:
        window_end = time.time() + THROTTLE_SECONDS
        if cache.add(_THROTTLE_KEY, window_end, timeout=THROTTLE_SECONDS) or force:
            _send(reader_ids())
        elif cache.add(_TRAILING_KEY, 1, timeout=2 * THROTTLE_SECONDS):
            _plan_trailing()
        # Else a trailing publish is planned, and sent after this change's commit.
    except Exception:
        logger.exception("Could not publish the listening update")


def _plan_trailing() -> None:
    """Start the timer of the trailing publish, due when the window ends. Holding
    _TRAILING_KEY (until it fires, or twice the window should its thread be lost)."""
    global _trailing_timer
    try:
        end = cache.get(_THROTTLE_KEY)
        wait = end - time.time() if isinstance(end, int | float) else 0.0
        timer = threading.Timer(
            min(max(wait, 0.0), THROTTLE_SECONDS),
            _fire,
            args=(reader_ids(), _serving_loop()),
        )
        timer.daemon = True
        timer.start()
        _trailing_timer = timer
    except Exception:
        cache.delete(_TRAILING_KEY)  # the next change plans it again
        raise


async def _running_loop() -> asyncio.AbstractEventLoop:
    return asyncio.get_running_loop()


def _serving_loop() -> asyncio.AbstractEventLoop | None:
    """The event loop whose sync work this thread does (asgiref runs async_to_sync there),
    or None: without one, async_to_sync runs on a new loop, closed once done."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        pass
    loop = async_to_sync(_running_loop)()
    return None if loop.is_closed() else loop


def _fire(user_ids, loop) -> None:
    """The timer's end of the window: the trailing publish, on `loop` while it runs."""
    if loop is not None and loop.is_running():
        coroutine = sync_to_async(_trailing, thread_sensitive=False)(user_ids)
        try:
            asyncio.run_coroutine_threadsafe(coroutine, loop)
            return
        except RuntimeError:  # closed meanwhile (the server stopped)
            coroutine.close()
    _trailing(user_ids)


def _trailing(user_ids) -> None:
    """Start the next window, then send: a change committed from now on plans the next
    trailing publish (so none is left unannounced), and a change that found this one
    planned committed before it is sent."""
    try:
        cache.set(_THROTTLE_KEY, time.time() + THROTTLE_SECONDS, timeout=THROTTLE_SECONDS)
        cache.delete(_TRAILING_KEY)
        _send(user_ids)
    except Exception:
        logger.exception("Could not publish the listening update")


def publish_if_campaigns_turned(since, now) -> bool:
    """After a detection pass (tasks.detect_signals): a planned campaign that started or
    ended on its own since the previous pass (`since`) changed the watches' "Planned
    campaign running until…" (the listening-changed panels): announced, forced, as saving
    one is. Outside any transaction (a worker). Whether it was announced; never raises."""
    from . import selectors

    try:
        turned = selectors.campaign_boundary_between(since, now)
    except Exception:
        logger.exception("Could not read the planned campaigns' boundaries")
        return False
    if turned:
        publish_listening_changed(force=True)
    return turned


def publish_listening_changed(force: bool = False) -> None:
    """After the current transaction commits (at once outside one): a rolled-back change
    must never have been announced."""
    transaction.on_commit(lambda: publish_now(force))
