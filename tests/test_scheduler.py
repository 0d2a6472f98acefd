"""The embedded mode's scheduler (crisiscell/scheduler.py): CELERY_BEAT_SCHEDULE's jobs run
in the web process, driven here by a fake clock; and `make run` wires it in."""

import asyncio
import re
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from asgiref.sync import async_to_sync
from celery import shared_task
from celery.schedules import crontab
from channels.layers import get_channel_layer

from crisiscell import scheduler as embedded
from crisiscell.asgi import application

ROOT = Path(__file__).resolve().parent.parent
START = datetime(2026, 11, 30, 9, 0, 30, tzinfo=UTC)


class Clock:
    def __init__(self):
        self.now = START

    def __call__(self):
        return self.now

    def advance(self, **delta):
        self.now += timedelta(**delta)


class Recorder:
    """Runs "tasks" by name: records each call, raises for the names in `failing`."""

    def __init__(self, failing=()):
        self.calls = []
        self.failing = set(failing)

    def __call__(self, task, args, kwargs):
        self.calls.append((task, args, kwargs))
        if task in self.failing:
            raise RuntimeError(f"{task} broke")
        return f"{task} ok"


def make(schedule, **options):
    clock, run = Clock(), Recorder(**options)
    return embedded.Scheduler(schedule, now=clock, run=run), clock, run


def test_jobs_run_when_due_and_not_before():
    scheduler, clock, run = make(
        {
            "minutely": {"task": "minutely", "schedule": 60.0},
            "five": {"task": "five", "schedule": timedelta(minutes=5), "args": [1]},
        }
    )
    assert scheduler.tick() == 60  # as beat: a first run one interval after start
    assert run.calls == []
    clock.advance(seconds=59)
    assert scheduler.tick() == pytest.approx(1)
    assert run.calls == []
    clock.advance(seconds=1)
    scheduler.tick()
    assert run.calls == [("minutely", (), {})]
    clock.advance(minutes=4)
    scheduler.tick()
    assert run.calls == [("minutely", (), {}), ("minutely", (), {}), ("five", (1,), {})]


def test_a_crontab_entry_uses_the_same_clock():
    scheduler, clock, run = make({"quarter": {"task": "quarter", "schedule": crontab("*/15")}})
    clock.advance(minutes=14, seconds=29)  # 09:14:59
    scheduler.tick()
    assert run.calls == []
    clock.advance(seconds=1)  # 09:15:00
    scheduler.tick()
    assert run.calls == [("quarter", (), {})]


def test_a_failing_job_is_logged_and_the_others_still_run(caplog):
    scheduler, clock, run = make(
        {
            "first": {"task": "broken", "schedule": 60.0},
            "second": {"task": "fine", "schedule": 60.0},
        },
        failing={"broken"},
    )
    clock.advance(minutes=1)
    with caplog.at_level("INFO", logger="crisiscell.scheduler"):
        assert scheduler.tick() == 60  # the failed job waits its interval, no hot loop
    assert [task for task, _, _ in run.calls] == ["broken", "fine"]
    failed, done = caplog.records
    assert failed.levelname == "ERROR" and "first (broken) failed" in failed.getMessage()
    assert failed.exc_info[1].args == ("broken broke",)
    assert done.getMessage().startswith("Scheduled job second done in ")
    assert done.getMessage().endswith(": 'fine ok'")
    clock.advance(minutes=1)
    scheduler.tick()
    assert [task for task, _, _ in run.calls] == ["broken", "fine", "broken", "fine"]


def test_a_job_longer_than_its_interval_is_not_run_again_meanwhile_nor_caught_up():
    scheduler, clock, run = make({"slow": {"task": "slow", "schedule": 60.0}})

    def slow(task, args, kwargs):
        run.calls.append(task)
        clock.advance(minutes=5)  # five intervals pass while it runs

    scheduler.run = slow
    clock.advance(minutes=1)
    assert scheduler.tick() == 60  # measured from the start of the run it just made
    assert run.calls == ["slow"]
    clock.advance(minutes=1)
    scheduler.tick()
    assert run.calls == ["slow", "slow"]


def test_served_jobs_run_one_at_a_time_in_one_thread_off_the_event_loop():
    """Always due (interval 0): serve() runs the jobs back to back, never two at once."""
    ran = threading.Event()
    active, seen = [], []
    lock = threading.Lock()

    def job(task, args, kwargs):
        with lock:
            active.append(task)
            seen.append((len(active), threading.current_thread()))
        threading.Event().wait(0.005)  # long enough for an overlap to show
        with lock:
            active.remove(task)
        if len(seen) >= 6:
            ran.set()

    async def main():
        scheduler = embedded.Scheduler(
            {name: {"task": name, "schedule": timedelta(0)} for name in ("a", "b")}, run=job
        )
        loop_thread = threading.current_thread()
        scheduler.start()
        assert await asyncio.to_thread(ran.wait, 10)
        await scheduler.stop()
        return loop_thread

    loop_thread = asyncio.run(main())
    assert {depth for depth, _ in seen} == {1}
    threads = {thread for _, thread in seen}
    assert len(threads) == 1 and loop_thread not in threads
    assert len(seen) >= 6


def test_stopping_lets_the_running_job_finish_and_starts_no_other():
    started, release = threading.Event(), threading.Event()
    calls = []

    def job(task, args, kwargs):
        calls.append(task)
        started.set()
        release.wait(10)

    async def main():
        scheduler = embedded.Scheduler(
            {name: {"task": name, "schedule": timedelta(0)} for name in ("a", "b")}, run=job
        )
        scheduler.start()
        assert await asyncio.to_thread(started.wait, 10)
        stopping = asyncio.ensure_future(scheduler.stop())
        await asyncio.sleep(0)
        assert not stopping.done()  # waits for "a"
        release.set()
        await stopping

    asyncio.run(main())
    assert calls == ["a"]


# The lifespan, as uvicorn drives it (`--lifespan on`), with a real registered task.
PROBE_CHANNEL = "scheduler-probe"
probe_ran = threading.Event()


@shared_task(name="tests.test_scheduler.probe", ignore_result=True)
def probe() -> str:
    """Publishes a live event the way the jobs do (async_to_sync from their thread)."""
    async_to_sync(get_channel_layer().send)(PROBE_CHANNEL, {"type": "probe.ran"})
    probe_ran.set()
    return "probed"


async def run_lifespan(until):
    """Start the ASGI application's lifespan, await until(), shut it down; the messages
    the application sent."""
    inbox, sent = asyncio.Queue(), []

    async def send(message):
        sent.append(message)

    await inbox.put({"type": "lifespan.startup"})
    app = asyncio.ensure_future(application({"type": "lifespan"}, inbox.get, send))
    while not sent and not app.done():
        await asyncio.sleep(0)
    if sent[-1]["type"] == "lifespan.startup.complete":
        await until()
        await inbox.put({"type": "lifespan.shutdown"})
    await app
    return sent


async def noop():
    return None


def test_the_lifespan_runs_the_schedule_and_its_live_events_reach_this_process(settings):
    settings.EMBEDDED_SCHEDULER = True
    settings.CELERY_BEAT_SCHEDULE = {
        "probe": {"task": "tests.test_scheduler.probe", "schedule": timedelta(0)}
    }
    probe_ran.clear()
    received = []

    async def until():
        # The event a job publishes reaches a consumer on the server's own loop, as the
        # in-memory channel layer needs (it only reaches its own process and loop).
        layer = get_channel_layer()
        received.append(await asyncio.wait_for(layer.receive(PROBE_CHANNEL), 10))

    sent = asyncio.run(run_lifespan(until))
    assert [m["type"] for m in sent] == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert probe_ran.is_set()
    assert received == [{"type": "probe.ran"}]


def test_the_lifespan_starts_no_scheduler_when_the_setting_is_off(settings, monkeypatch):
    settings.EMBEDDED_SCHEDULER = False

    def refuse(*args, **kwargs):
        raise AssertionError("no scheduler when EMBEDDED_SCHEDULER is off")

    monkeypatch.setattr(embedded, "Scheduler", refuse)
    sent = asyncio.run(run_lifespan(noop))
    assert [m["type"] for m in sent] == ["lifespan.startup.complete", "lifespan.shutdown.complete"]


def test_an_unknown_task_in_the_schedule_stops_the_server_at_start(settings):
    settings.EMBEDDED_SCHEDULER = True
    settings.CELERY_BEAT_SCHEDULE = {"typo": {"task": "incidents.no_such_task", "schedule": 60}}
    sent = asyncio.run(run_lifespan(noop))
    assert sent == [
        {
            "type": "lifespan.startup.failed",
            "message": "CELERY_BEAT_SCHEDULE names unknown tasks: incidents.no_such_task",
        }
    ]


def test_every_task_of_the_real_schedule_is_registered(settings):
    embedded.check_tasks(entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values())
    assert len(settings.CELERY_BEAT_SCHEDULE) >= 5


def test_make_run_serves_with_the_lifespan_on():
    """`make run` is one uvicorn process whose lifespan starts the scheduler; the
    Procfile's production web process keeps it off (tests/test_procfile.py)."""
    recipe = (ROOT / "Makefile").read_text().split("\nrun:", 1)[1].split("\n\n", 1)[0]
    command = re.search(r"uvicorn crisiscell\.asgi:application .*", recipe).group(0)
    assert "--lifespan on" in command
    assert "--workers" not in command  # one process: its in-memory layer is everyone's


def test_the_real_schedule_runs_its_tasks_against_the_database(
    db, settings, caplog, django_assert_max_num_queries, monkeypatch
):
    """Every job of CELERY_BEAT_SCHEDULE, run as make run runs them, on an empty site."""
    # Here the jobs run in the test's own thread and transaction: keep its connection open
    # (as Django's test client does for its requests).
    monkeypatch.setattr(embedded, "close_old_connections", lambda: None)
    embedded.check_tasks(entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values())
    clock = Clock()
    scheduler = embedded.Scheduler(settings.CELERY_BEAT_SCHEDULE, now=clock)
    clock.advance(minutes=1)
    with (
        caplog.at_level("INFO", logger="crisiscell.scheduler"),
        django_assert_max_num_queries(25),  # 21 on an empty site
    ):
        scheduler.tick()
    lines = [r.getMessage() for r in caplog.records]
    assert [r.levelname for r in caplog.records] == ["INFO"] * len(settings.CELERY_BEAT_SCHEDULE)
    assert [line.split()[2] for line in lines] == list(settings.CELERY_BEAT_SCHEDULE)
    assert lines[-1].endswith("{'watches': 0, 'opened': 0, 'closed': 0}")
