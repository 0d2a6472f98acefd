"""The embedded mode's Celery beat: runs CELERY_BEAT_SCHEDULE's jobs inside the web process.

`make run` is one uvicorn process with eager Celery and the in-memory channel layer, and no
broker for a `celery beat` to send to. The periodic jobs (task and action-item reminders,
evidence requeue, approval escalations, outbox sweep, listening spike detection) run here
instead, when
settings.EMBEDDED_SCHEDULER is on (the embedded default; refused in production, where the
Procfile's Celery beat and worker run them). The ASGI lifespan (crisiscell/asgi.py) starts
it on the server's event loop and stops it on shutdown.

Why inside the web process: a job's live events (a signal opening, a bell notification) go
through the channel layer, and the in-memory layer only reaches consumers of its own
process; a scheduler in another process would write the rows and lose every live update.

- When: Celery's own schedule objects (`celery.schedules.schedule`/`crontab`, `is_due`),
  the first run one interval after start, as beat does.
- How: each job is its Celery task run inline (`Task.apply`), one after the other in one
  dedicated thread, so a job never overlaps itself (nor another) and a slow one never
  blocks the event loop. A job's `async_to_sync` calls (live events) run on the server's
  loop, as a view's do. Every job is idempotent (see their tasks), so a doubled or missed
  run is harmless.
- Failures: an exception is logged with its traceback and the next jobs run; the failed
  job runs again at its next interval.
- Shutdown: no job starts after stop() is asked; the one running finishes (a thread cannot
  be interrupted; the jobs are short and bounded).
"""

import asyncio
import contextlib
import copy
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime

from asgiref.sync import sync_to_async
from celery.schedules import BaseSchedule, maybe_schedule
from django.db import close_old_connections, connections

logger = logging.getLogger("crisiscell.scheduler")

# Seconds between two looks at the schedule at most (beat's max_interval is 300 s; the
# shortest job here is every minute).
MAX_SLEEP_SECONDS = 60.0
# Characters of a job's result in its log line.
RESULT_LOG_CHARS = 200


@dataclass
class Job:
    """One CELERY_BEAT_SCHEDULE entry: its name, the task it runs and when."""

    name: str
    task: str
    schedule: BaseSchedule
    last_run_at: datetime
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)


def run_task(task: str, args: tuple, kwargs: dict):
    """Run the Celery task `task` (its registered name) here and now, whatever the broker
    settings; its exception is raised. Returns what the task returns."""
    from crisiscell.celery import app

    close_old_connections()  # as around a request: no broken or expired connection
    try:
        return app.tasks[task].apply(args=args, kwargs=kwargs, throw=True).result
    finally:
        close_old_connections()


def check_tasks(names) -> None:
    """Raise LookupError naming the schedule's tasks that are not registered (a typo in
    CELERY_BEAT_SCHEDULE stops `make run` at start rather than failing every minute)."""
    from crisiscell.celery import app

    # The apps' tasks modules, as crisiscell/celery.py's autodiscover_tasks() says (not
    # loader.import_default_modules(): through Celery's Django fixup it runs django.setup()
    # again, which configures logging anew).
    app.autodiscover_tasks(force=True)
    unknown = sorted(set(names) - set(app.tasks))
    if unknown:
        raise LookupError(f"CELERY_BEAT_SCHEDULE names unknown tasks: {', '.join(unknown)}")


class Scheduler:
    """Runs the due jobs of a Celery beat schedule ({name: {"task", "schedule", "args",
    "kwargs"}}; "schedule" in seconds, a timedelta or a celery schedule/crontab).

    `now` returns the current aware datetime (UTC; default Celery's clock), `run` runs a
    task by name (default run_task): both replaceable, so tests drive a fake clock without
    sleeping. tick() is synchronous; serve() is the loop for an asyncio event loop.
    """

    def __init__(
        self,
        beat_schedule: dict,
        *,
        now: Callable[[], datetime] | None = None,
        run: Callable = run_task,
    ):
        from crisiscell.celery import app

        self.now = now or app.now
        self.run = run
        started = self.now()
        self.jobs = []
        for name, entry in beat_schedule.items():
            # A copy: the schedule objects of the settings are not ours to change.
            when = copy.copy(maybe_schedule(entry["schedule"], app=app))
            when.nowfun = self.now
            self.jobs.append(
                Job(
                    name=name,
                    task=entry["task"],
                    schedule=when,
                    last_run_at=started,
                    args=tuple(entry.get("args") or ()),
                    kwargs=dict(entry.get("kwargs") or {}),
                )
            )
        self._stopping = threading.Event()
        self._executor = None
        self._stop_event = None
        self._task = None

    def tick(self) -> float:
        """Run every job that is due, one after the other, then return the seconds until
        the next one is due (at most MAX_SLEEP_SECONDS). Never raises for a job's error."""
        for job in self.jobs:
            if self._stopping.is_set():
                break
            if job.schedule.is_due(job.last_run_at)[0]:
                # Stamped before running, as beat does: a failing job waits its interval.
                job.last_run_at = self.now()
                self._run_job(job)
        waits = [job.schedule.is_due(job.last_run_at)[1] for job in self.jobs]
        return max(0.0, min([MAX_SLEEP_SECONDS, *waits]))

    def _run_job(self, job: Job) -> None:
        started = time.monotonic()
        try:
            result = self.run(job.task, job.args, job.kwargs)
        except Exception:
            logger.exception("Scheduled job %s (%s) failed", job.name, job.task)
        else:
            logger.info(
                "Scheduled job %s done in %.2f s: %s",
                job.name,
                time.monotonic() - started,
                repr(result)[:RESULT_LOG_CHARS],
            )

    async def serve(self) -> None:
        """Tick in the job thread, sleep until the next job is due, until stop()."""
        stop = self._stop_event
        tick = sync_to_async(self.tick, thread_sensitive=False, executor=self._executor)
        while not stop.is_set():
            try:
                delay = await tick()
            except Exception:  # a bug here, not in a job: keep the schedule alive
                logger.exception("The embedded scheduler failed; retrying")
                delay = MAX_SLEEP_SECONDS
            with contextlib.suppress(TimeoutError):  # the next job is due
                await asyncio.wait_for(stop.wait(), timeout=delay)

    def start(self) -> None:
        """Start serving on the running event loop (call from a coroutine)."""
        names = ", ".join(f"{job.name} ({job.schedule})" for job in self.jobs)
        logger.info("Embedded scheduler started: %s", names or "no jobs")
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="scheduler")
        self._stop_event = asyncio.Event()
        self._task = asyncio.get_running_loop().create_task(self.serve())

    async def stop(self) -> None:
        """Ask no new job to start, wait for the running one, close the thread's database
        connections and the thread."""
        if self._task is None:
            return
        self._stopping.set()
        self._stop_event.set()
        await self._task
        await sync_to_async(
            connections.close_all, thread_sensitive=False, executor=self._executor
        )()
        self._executor.shutdown(wait=True)
        self._task = None
        logger.info("Embedded scheduler stopped")


async def lifespan(scope, receive, send):
    """The ASGI lifespan protocol (uvicorn `--lifespan on`, as `make run` serves): starts
    the scheduler with CELERY_BEAT_SCHEDULE when settings.EMBEDDED_SCHEDULER is on, stops
    it on shutdown. Startup fails (the server does not start) on an unknown task name."""
    from django.conf import settings

    scheduler = None
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            try:
                if settings.EMBEDDED_SCHEDULER:
                    beat = settings.CELERY_BEAT_SCHEDULE
                    check_tasks(entry["task"] for entry in beat.values())
                    scheduler = Scheduler(beat)
                    scheduler.start()
            except Exception as exc:
                logger.exception("The embedded scheduler could not start")
                await send({"type": "lifespan.startup.failed", "message": str(exc)})
                return
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            if scheduler is not None:
                await scheduler.stop()
            await send({"type": "lifespan.shutdown.complete"})
            return
