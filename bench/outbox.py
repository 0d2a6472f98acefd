"""Outbox benchmark: how fast does the outbox drain queued e-mails into an SMTP server,
against a bare smtplib loop sending the same messages to the same server in the same run,
and what does `enqueue` cost inside an action?

    .venv/bin/python bench/outbox.py [--messages 10000] [--db sqlite|postgres]
                                     [--batch 100] [--enqueue-runs 500]

The SMTP server is aiosmtpd (the tests' fake server, accepting everything) in a process of
its own, so it does not share a GIL with the sender. The baseline keeps one connection for
every message (smtplib's best case); the outbox drains as one worker process does: batches
of OUTBOX_BATCH_SIZE, each claimed, sent over one connection through Django's SMTP
backend, and recorded. Celery itself is not in the loop (a task per batch adds its broker
round trip). Enqueue: one `enqueue` call of 1 and of 10 messages inside an open
transaction, as an action makes it (the hand-off to the workers after commit is not
counted: it is the worker's side).

--db sqlite uses a scratch file; --db postgres a scratch database `crisiscell_bench_outbox`
on 127.0.0.1:5432 (user postgres; created if missing, its outbox emptied at start).
Bounded: --messages at most 100,000; stops with the server's count. See
docs/benchmarks.md.
"""

import argparse
import json
import os
import smtplib
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PG = "postgres://postgres@127.0.0.1:5432"
PG_DATABASE = "crisiscell_bench_outbox"
SUBJECT = "Approval needed: holding statement"
BODY = (
    "A holding statement waits for your approval in the incident room.\n\n"
    "We are aware of the post and are looking into it. More information soon.\n"
)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--batch", type=int, default=100, help="OUTBOX_BATCH_SIZE")
    parser.add_argument("--enqueue-runs", type=int, default=500)
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)  # the server process
    args = parser.parse_args()
    args.messages = max(1, min(args.messages, 100_000))
    return args


# The SMTP server process ---------------------------------------------------------------


def serve(port: int) -> None:
    """Accept every message; answer "stats" on stdin with the counts as JSON."""
    import logging
    from email.parser import BytesHeaderParser

    from aiosmtpd.controller import Controller

    logging.getLogger("mail.log").setLevel(logging.WARNING)
    parser = BytesHeaderParser()
    ids: list[str] = []

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            ids.append(parser.parsebytes(envelope.content)["Message-ID"])
            return "250 OK"

    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", flush=True)
    for line in sys.stdin:
        if line.strip() == "stats":
            outbox = [i for i in ids if ".outbox@" in i]
            print(
                json.dumps(
                    {
                        "received": len(ids),
                        "outbox": len(outbox),
                        "outbox_distinct": len(set(outbox)),
                    }
                ),
                flush=True,
            )
    controller.stop()


class Server:
    def __init__(self, port: int):
        self.process = subprocess.Popen(  # noqa: S603
            [sys.executable, __file__, "--serve", str(port)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout.readline().strip() == "ready"

    def stats(self) -> dict:
        self.process.stdin.write("stats\n")
        self.process.stdin.flush()
        return json.loads(self.process.stdout.readline())

    def stop(self):
        self.process.stdin.close()
        self.process.wait(timeout=30)


# The benchmark -------------------------------------------------------------------------


def setup_django(args, port: int) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "crisiscell.settings"
    os.environ["LOG_LEVEL"] = "ERROR"
    os.environ["DEBUG"] = "false"  # as in production: no SQL kept for the debug page
    os.environ["EMAIL_BACKEND"] = "django.core.mail.backends.smtp.EmailBackend"
    os.environ["EMAIL_HOST"] = "127.0.0.1"
    os.environ["EMAIL_PORT"] = str(port)
    os.environ["DEFAULT_FROM_EMAIL"] = "crisis-cell@bench.example"
    os.environ["OUTBOX_BATCH_SIZE"] = str(args.batch)
    if args.db == "postgres":
        import psycopg

        with psycopg.connect(f"{PG}/postgres", autocommit=True) as db:
            exists = db.execute("SELECT 1 FROM pg_database WHERE datname = %s", [PG_DATABASE])
            if not exists.fetchone():
                db.execute(f'CREATE DATABASE "{PG_DATABASE}"')
        os.environ["DATABASE_URL"] = f"{PG}/{PG_DATABASE}"
        os.environ["DB_POOL_MAX_SIZE"] = "0"
    else:
        os.environ["SQLITE_PATH"] = str(Path(tempfile.mkdtemp()) / "bench-outbox.sqlite3")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def bare_smtplib(port: int, n: int) -> tuple[float, float]:
    """The same messages, as bytes formatted by hand (no email package), sent with
    `sendmail` over one connection: the least a sender can do. (wall, CPU) seconds."""
    started, cpu = time.perf_counter(), time.process_time()
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        for i in range(n):
            to = f"reviewer{i}@example.com"
            message = (
                f"Subject: {SUBJECT}\r\nFrom: crisis-cell@bench.example\r\nTo: {to}\r\n"
                f"Message-ID: <baseline-{i}@bench.example>\r\n"
                "Content-Type: text/plain; charset=utf-8\r\n\r\n" + BODY.replace("\n", "\r\n")
            ).encode()
            client.sendmail("crisis-cell@bench.example", [to], message)
    return time.perf_counter() - started, time.process_time() - cpu


def outbox_drain(n: int) -> tuple[float, float, int]:
    """Enqueue n e-mails, then drain them as one worker process; (wall, CPU) seconds of
    the drain and how many were marked sent."""
    from django.db import transaction

    from incidents.outbox import actions, tasks
    from incidents.outbox.actions import Outgoing
    from incidents.outbox.choices import Channel, Status
    from incidents.outbox.models import OutboundMessage

    OutboundMessage.objects.all().delete()
    tasks.queue_delivery = lambda keys: None  # the bench is the worker
    run = time.time_ns()
    for start in range(0, n, 1000):
        with transaction.atomic():
            actions.enqueue(
                *(
                    Outgoing(
                        channel=Channel.EMAIL,
                        recipient=f"reviewer{i}@example.com",
                        key=f"bench:{run}:{i}",
                        subject=SUBJECT,
                        body=BODY,
                    )
                    for i in range(start, min(start + 1000, n))
                )
            )
    keys = list(OutboundMessage.objects.order_by("pk").values_list("key", flat=True))
    batch = max(int(os.environ["OUTBOX_BATCH_SIZE"]), 1)
    started, cpu = time.perf_counter(), time.process_time()
    sent = 0
    for first in range(0, len(keys), batch):
        sent += actions.messages_deliver(keys=keys[first : first + batch])["sent"]
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    assert OutboundMessage.objects.exclude(status=Status.SENT).count() == 0
    return elapsed, cpu, sent


def enqueue_cost(size: int, runs: int) -> tuple[list[float], float, int]:
    """Wall times of `runs` enqueue calls of `size` messages, each in its own transaction
    (timed: the call only, not the commit), their mean CPU time, and the INSERTs of one
    call (counted on a call of its own: capturing queries slows them down)."""
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from incidents.outbox import actions
    from incidents.outbox.actions import Outgoing
    from incidents.outbox.choices import Channel

    run = time.time_ns()

    def messages(r):
        return [
            Outgoing(
                channel=Channel.EMAIL,
                recipient=f"reviewer{i}@example.com",
                key=f"enqueue:{run}:{size}:{r}:{i}",
                subject=SUBJECT,
                body=BODY,
            )
            for i in range(size)
        ]

    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        actions.enqueue(*messages(-1))
    inserts = sum(q["sql"].startswith("INSERT") for q in queries)
    times, cpu = [], 0.0
    for r in range(runs + 20):
        batch = messages(r)
        with transaction.atomic():  # the action's transaction, already begun by its reads
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
            started, cpu_started = time.perf_counter(), time.process_time()
            actions.enqueue(*batch)
            elapsed, cpu_used = time.perf_counter() - started, time.process_time() - cpu_started
        if r >= 20:  # warm-up runs not counted
            times.append(elapsed)
            cpu += cpu_used
    return times, cpu / runs, inserts


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.3f} ms"


def main():
    args = parse_args()
    if args.serve:
        serve(args.serve)
        return
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = Server(port)
    try:
        setup_django(args, port)
        from django.db import connection

        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        print(
            f"database: {connection.vendor}; {args.messages:,} messages; batch {args.batch}; "
            f"load average before: {load} ({os.cpu_count()} cores)",
            flush=True,
        )
        baseline, baseline_cpu = bare_smtplib(port, args.messages)
        drained, drained_cpu, sent = outbox_drain(args.messages)
        stats = server.stats()
        one, one_cpu, one_inserts = enqueue_cost(1, args.enqueue_runs)
        ten, ten_cpu, ten_inserts = enqueue_cost(10, args.enqueue_runs)
    finally:
        server.stop()
    n = args.messages
    print(
        f"bare smtplib loop (1 connection): {n / baseline:8.0f} msg/s ({baseline:.2f} s; "
        f"sender CPU {baseline_cpu / n * 1000:.2f} ms/msg)"
    )
    print(
        f"outbox drain (batches of {args.batch}): {n / drained:8.0f} msg/s ({drained:.2f} s; "
        f"worker CPU {drained_cpu / n * 1000:.2f} ms/msg), "
        f"{baseline / drained:.2f}x the baseline (goal >= 0.5x)"
    )
    duplicates = stats["outbox"] - stats["outbox_distinct"]
    print(
        f"server received {stats['received']:,}: {stats['outbox']:,} from the outbox, "
        f"{stats['outbox_distinct']:,} distinct Message-IDs ({duplicates} duplicates); "
        f"{sent:,} rows marked sent"
    )
    for size, times, cpu, inserts in [
        (1, one, one_cpu, one_inserts),
        (10, ten, ten_cpu, ten_inserts),
    ]:
        times.sort()
        print(
            f"enqueue of {size:2d} message(s) in an open transaction: median "
            f"{ms(statistics.median(times))}, p95 {ms(times[int(len(times) * 0.95)])}, "
            f"CPU {ms(cpu)}, {inserts} INSERT"
        )
    print("load average after: " + ", ".join(f"{x:.1f}" for x in os.getloadavg()))
    ok = sent == n and stats["outbox_distinct"] == n and duplicates == 0
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
