"""Timeline writes: how many `POST /api/incidents/<id>/timeline/` per second does the
production server take, against a bare psycopg INSERT of the same rows in the same run, and
how long does each POST hold the incident lock?

    .venv/bin/python bench/timeline_write.py [--writers 1 10] [--seconds 5] [--rounds 3]
        [--database-url postgres://postgres@127.0.0.1:5432/cc_writes_bench]
        [--redis-url redis://127.0.0.1:6379/6] [--port 8812] [--profile 300]

The server is uvicorn started as the Procfile starts it (production settings, one worker
process, `--lifespan off`, no WebSocket deflate), in a process of its own, on --port; the
writers are threads of this process, each with its own keep-alive HTTP connection and API
token, all posting notes to one incident (the crisis-room case: every writer queues on the
same incident lock). The baseline, in the same run, is the same number of threads each
inserting the same rows (same columns and indexes, one INSERT and COMMIT per row, psycopg
autocommit) into a scratch copy of the timeline table: what one committed row costs the
database without the application.

Printed per writer count: POSTs/s, bare INSERTs/s and their ratio; the server process's CPU
per POST (from /proc, so PostgreSQL's and Redis's own CPU are not in it); and, measured in
the server by a wrapper this script installs around `actions.lock_incident` (the bench
only), how long each POST waited for the lock and then held it (from the row lock granted
to the end of COMMIT), with the CPU the request's thread used meanwhile. Nobody watches the
incident: the live event still goes through the channel layer (Redis), to no one.

--py-spy: samples the server process (py-spy, on-CPU samples only) while the writers post,
and prints the share of its CPU spent in each part of a POST (a frame counts every sample
it is on the stack of). --profile N: afterwards, N POSTs in this process through Django's
test client under pyinstrument (wall clock; the same stack minus uvicorn, but its channel
layer sends open a new event loop and Redis connection each, which the server does not).

Each writer count runs --rounds rounds (POST phase, then INSERT phase) and prints the
medians, so that every ratio compares phases a few seconds apart on a shared machine.
Bounded: each phase runs --seconds (at most 60), at most 10 rounds. Needs PostgreSQL and
Redis; creates the database if missing (never drops it) and re-creates its scratch table.
See docs/benchmarks.md, "Timeline writes".
"""

import argparse
import http.client
import itertools
import json
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TICK = os.sysconf("SC_CLK_TCK")
STATS_PATH = "/__bench__/lock-stats"
TEXT = "Reposted by a journalist with 40k followers; replies are turning hostile."
BARE_TABLE = "bench_bare_timeline"
BARE_PHASES = itertools.count(1)  # each bare phase writes an incident id of its own
# The server gets this environment, not the one `prepare` gives this process for itself.
ENVIRON = dict(os.environ)


def parse_args():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--database-url",
        default="postgres://postgres@127.0.0.1:5432/cc_writes_bench",
        help="PostgreSQL database of the run (created if missing)",
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/6", help="channel layer")
    parser.add_argument("--port", type=int, default=8812, help="the server's port")
    parser.add_argument(
        "--writers", type=int, nargs="+", default=[1, 10], help="concurrent writers, per run"
    )
    parser.add_argument("--seconds", type=float, default=5, help="per phase (at most 60)")
    parser.add_argument(
        "--rounds", type=int, default=3, help="POST and INSERT phases alternated (at most 10)"
    )
    parser.add_argument("--profile", type=int, default=0, help="POSTs to profile in-process")
    parser.add_argument(
        "--py-spy",
        action="store_true",
        help="sample the server with py-spy during the POST phases; print where its CPU went",
    )
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.seconds = max(1.0, min(args.seconds, 60.0))
    args.rounds = max(1, min(args.rounds, 10))
    args.writers = [max(1, min(n, 50)) for n in args.writers]
    return args


def server_env(args) -> dict:
    """Production settings with their defaults (the database pool of DB_POOL_MAX_SIZE=10
    per process), unless this script's own environment sets them."""
    return {
        **ENVIRON,
        "CRISISCELL_MODE": "production",
        "DATABASE_URL": args.database_url,
        "REDIS_URL": args.redis_url,
        "SECRET_KEY": "bench-" + "x" * 60,
        "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
        "SECURE_SSL_REDIRECT": "false",
        "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "crisiscell.settings",
    }


# --- The server process (uvicorn, with the lock timer) -------------------------------------


def serve(args) -> None:
    """uvicorn as the Procfile runs it, plus a wrapper timing the incident lock and a
    route answering (and resetting) those timings."""
    import django

    django.setup()
    import uvicorn
    from django.db import transaction

    from crisiscell.asgi import application
    from incidents import actions

    samples: list[tuple[float, float, float]] = []
    original = actions.lock_incident

    def timed_lock(incident):
        asked = time.perf_counter()
        locked = original(incident)
        granted, cpu = time.perf_counter(), time.thread_time()

        def committed():  # the first on_commit callback: runs right after COMMIT
            samples.append(
                (granted - asked, time.perf_counter() - granted, time.thread_time() - cpu)
            )

        transaction.on_commit(committed)
        return locked

    actions.lock_incident = timed_lock

    async def app(scope, receive, send):
        if scope["type"] == "http" and scope["path"] == STATS_PATH:
            body = json.dumps(samples[:]).encode()
            samples.clear()
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": body})
            return
        await application(scope, receive, send)

    uvicorn.run(
        app,
        host="127.0.0.1",
        port=args.port,
        lifespan="off",
        ws_per_message_deflate=False,
        log_level="warning",
        access_log=False,
    )


# --- This process: database, server, writers -----------------------------------------------


def prepare(args, writers: int) -> tuple[int, list[str]]:
    """The database (created if missing, migrated), an incident whose cell has `writers`
    drafters, and their tokens."""
    import psycopg
    from psycopg import sql

    url = urlsplit(args.database_url)
    name = url.path.lstrip("/")
    with psycopg.connect(url._replace(path="/postgres").geturl(), autocommit=True) as db:
        if not db.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            db.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    os.environ.update(server_env(args), DB_POOL_MAX_SIZE="0", DB_CONN_MAX_AGE="0")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from rest_framework.authtoken.models import Token

    from incidents import actions

    call_command("migrate", verbosity=0)
    run = uuid.uuid4().hex[:8]
    users = get_user_model().objects
    lead = users.create_user(f"writes-lead-{run}")
    incident = actions.incident_declare(
        actor=lead, title="Timeline writes bench", category="public_statement", origin="online"
    )
    tokens = []
    for n in range(writers):
        user = users.create_user(f"writes-{run}-{n}")
        actions.member_add(incident=incident, actor=lead, user=user, role="drafter")
        tokens.append(Token.objects.create(user=user).key)
    connection.close()
    return incident.pk, tokens


def start_server(args) -> subprocess.Popen:
    command = [sys.executable, __file__, "--serve", "--port", str(args.port)]
    server = subprocess.Popen(command, cwd=ROOT, env=server_env(args), start_new_session=True)  # noqa: S603
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{args.port}{STATS_PATH}", timeout=1)
            return server
        except OSError:
            time.sleep(0.3)
        if server.poll() is not None:
            sys.exit(f"The server exited with {server.returncode} (is port {args.port} free?)")
    stop(server)
    sys.exit("The server did not start within 30 s")


def stop(server: subprocess.Popen) -> None:
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)


def process_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def lock_stats(args) -> list[tuple[float, float, float]]:
    with urllib.request.urlopen(f"http://127.0.0.1:{args.port}{STATS_PATH}", timeout=10) as r:
        return json.loads(r.read())


def run_posts(args, incident_id: int, tokens: list[str], seconds: float) -> dict:
    """Each writer posts notes back to back until the deadline."""
    path = f"/api/incidents/{incident_id}/timeline/"
    body = json.dumps({"kind": "note", "text": TEXT})
    counts, errors = [0] * len(tokens), []
    barrier = threading.Barrier(len(tokens) + 1)
    deadline = [0.0]

    def writer(index: int, token: str) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=30)
        headers = {"Content-Type": "application/json", "Authorization": f"Token {token}"}
        barrier.wait()
        while time.monotonic() < deadline[0]:
            conn.request("POST", path, body, headers)
            response = conn.getresponse()
            response.read()
            if response.status != 201:
                errors.append(response.status)
                return
            counts[index] += 1
        conn.close()

    threads = [threading.Thread(target=writer, args=(i, t)) for i, t in enumerate(tokens)]
    for thread in threads:
        thread.start()
    deadline[0] = time.monotonic() + seconds
    started = time.monotonic()
    barrier.wait()
    for thread in threads:
        thread.join()
    return {"count": sum(counts), "elapsed": time.monotonic() - started, "errors": errors}


def run_bare(args, writers: int, seconds: float) -> dict:
    """The same rows, INSERTed and committed one by one into a copy of the timeline table
    (each phase on an incident id of its own, so its seqs and hashes are new)."""
    import hashlib

    import psycopg
    from psycopg.types.json import Jsonb

    counts = [0] * writers
    barrier = threading.Barrier(writers + 1)
    deadline = [0.0]
    incident_id = next(BARE_PHASES)
    insert = (
        f"INSERT INTO {BARE_TABLE} (incident_id, seq, kind, text, actor_id, occurred_at,"  # noqa: S608
        " recorded_at, key_event, data, prev_hash, hash)"
        " VALUES (%s, %s, 'note', %s, %s, now(), now(), false, %s, %s, %s)"
    )

    def writer(index: int) -> None:
        with psycopg.connect(args.database_url, autocommit=True) as db:
            prev, phase = "0" * 64, uuid.uuid4().hex
            barrier.wait()
            seq = index * 10_000_000
            while time.monotonic() < deadline[0]:
                seq += 1
                digest = hashlib.sha256(f"{phase}{prev}{seq}".encode()).hexdigest()
                db.execute(insert, [incident_id, seq, TEXT, index + 1, Jsonb({}), prev, digest])
                prev = digest
                counts[index] += 1

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(writers)]
    for thread in threads:
        thread.start()
    deadline[0] = time.monotonic() + seconds
    started = time.monotonic()
    barrier.wait()
    for thread in threads:
        thread.join()
    return {"count": sum(counts), "elapsed": time.monotonic() - started}


def prepare_bare(args) -> None:
    import psycopg

    with psycopg.connect(args.database_url, autocommit=True) as db:
        # Same columns, identity, checks and indexes; no foreign keys and no triggers.
        db.execute(f"DROP TABLE IF EXISTS {BARE_TABLE}")
        db.execute(f"CREATE TABLE {BARE_TABLE} (LIKE incidents_timelineentry INCLUDING ALL)")


def ms(values: list[float]) -> str:
    if not values:
        return "-"
    values = sorted(values)
    p95 = values[min(len(values) - 1, int(len(values) * 0.95))]
    return f"{statistics.median(values) * 1000:.2f} / {p95 * 1000:.2f}"


# Parts of a POST, as (label, substring of a py-spy frame "function (file:line)").
PARTS = [
    ("event loop (uvicorn, asgiref hand-offs)", "Server.run ("),
    ("request thread (Django, sync)", "thread_handler (asgiref/sync.py"),
    ("  view: TimelineView.post", "post (incidents/api/views.py"),
    ("    authentication (token)", "authenticate ("),
    ("    visible_incident", "visible_incident ("),
    ("    request parsing + validation", "is_valid ("),
    ("    action timeline_add_entry", "timeline_add_entry ("),
    ("      lock_incident (SELECT FOR UPDATE)", "lock_incident ("),
    ("      permission check (rules.require)", "require (incidents/rules.py"),
    ("      timeline_record", "timeline_record ("),
    ("        next_link", "next_link ("),
    ("        compute_hash", "compute_hash ("),
    ("        entry INSERT", "save (incidents/models.py"),
    ("        chains.anchor (sign + UPDATE)", "anchor (incidents/chains.py"),
    ("          Ed25519 sign", "sign (incidents/chains.py"),
    ("        follow_timeline", "follow_timeline ("),
    ("      COMMIT", "DatabaseWrapper.commit ("),
    ("      after commit: callbacks", "run_and_clear_commit_hooks ("),
    ("        live event: build (entry_event)", "entry_event ("),
    ("          of which render fragments", "fragments (incidents/events.py"),
    ("        live event: channel-layer send", "_send (incidents/events.py"),
    ("    serializers (event and answer)", "to_representation (rest_framework/serializers.py"),
    ("  DRF + middleware around the view", None),
]


def spy_summary(path: Path) -> None:
    totals: dict[str, int] = {}
    samples = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        samples += int(count)
        for label, needle in PARTS:
            if needle and needle in stack:
                totals[label] = totals.get(label, 0) + int(count)
    if not samples:
        print("py-spy recorded nothing")
        return
    handler = totals.get(PARTS[1][0], 0)
    totals[PARTS[-1][0]] = handler - totals.get(PARTS[2][0], 0)
    print(f"\nServer samples holding the GIL (py-spy --gil, {samples}), share of them:")
    for label, _needle in PARTS:
        print(f"{label:<44} {totals.get(label, 0) / samples * 100:5.1f} %")


def profile(args, incident_id: int, token: str) -> None:
    from django.db import connection
    from django.test import Client
    from pyinstrument import Profiler

    client = Client(HTTP_AUTHORIZATION=f"Token {token}")
    path = f"/api/incidents/{incident_id}/timeline/"
    for _ in range(20):  # warm the caches (templates, translations, urls)
        client.post(path, {"kind": "note", "text": TEXT}, content_type="application/json")
    profiler = Profiler(interval=0.0005)
    cpu = time.process_time()
    profiler.start()
    for _ in range(args.profile):
        client.post(path, {"kind": "note", "text": TEXT}, content_type="application/json")
    profiler.stop()
    cpu = time.process_time() - cpu
    connection.close()
    print(
        f"\nIn-process profile: {args.profile} POSTs, {cpu / args.profile * 1000:.1f} ms CPU each"
    )
    print(profiler.output_text(unicode=False, color=False, show_all=False))


def measure(args, server, incident_id: int, tokens: list[str]) -> tuple:
    """--rounds alternations of a POST phase and a bare INSERT phase: each round's ratio
    compares two phases a few seconds apart, and the medians smooth a shared machine."""
    posts, bares, ratios, cpus, samples = [], [], [], [], []
    for _round in range(args.rounds):
        cpu = process_cpu(server.pid)
        result = run_posts(args, incident_id, tokens, args.seconds)
        cpu = process_cpu(server.pid) - cpu
        if result["errors"]:
            sys.exit(f"POSTs failed: {result['errors'][:5]}")
        samples += lock_stats(args)
        bare = run_bare(args, len(tokens), args.seconds)
        posts.append(result["count"] / result["elapsed"])
        bares.append(bare["count"] / bare["elapsed"])
        ratios.append(posts[-1] / bares[-1])
        cpus.append(cpu / max(result["count"], 1) * 1000)
    median = statistics.median
    return (
        len(tokens),
        median(posts),
        median(bares),
        median(ratios),
        median(cpus),
        ms([s[0] for s in samples]),
        ms([s[1] for s in samples]),
        ms([s[2] for s in samples]),
    )


def main():
    args = parse_args()
    if args.serve:
        serve(args)
        return
    incident_id, tokens = prepare(args, max(args.writers))
    prepare_bare(args)
    server = start_server(args)
    rows = []
    spy = spy_file = None
    try:
        run_posts(args, incident_id, tokens[:1], 2.0)  # warm-up
        lock_stats(args)
        if args.py_spy:
            spy_file = Path(f"/tmp/timeline_write_{args.port}.spy")  # noqa: S108
            spy = subprocess.Popen(  # noqa: S603
                [str(Path(sys.executable).with_name("py-spy")), "record", "--pid",
                 str(server.pid), "--format", "raw", "--rate", "250", "--nonblocking", "--gil",
                 "--output", str(spy_file)],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
        for writers in args.writers:
            rows.append(measure(args, server, incident_id, tokens[:writers]))
    finally:
        if spy is not None:
            spy.send_signal(signal.SIGINT)
            spy.wait(timeout=30)
        stop(server)
    print(
        f"\nTimeline POSTs against bare INSERTs, {args.rounds} x {args.seconds:g} s per phase,"
        " one incident (rates, ratio, CPU: median of the rounds; times: median / p95 ms)"
    )
    header = (
        "writers", "POSTs/s", "INSERTs/s", "ratio", "server CPU ms/POST",
        "lock wait", "lock held", "CPU under lock",
    )  # fmt: skip
    print(" | ".join(header))
    for row in rows:
        n, post, bare, ratio, cpu, wait, held, held_cpu = row
        print(f"{n} | {post:.1f} | {bare:.0f} | {ratio:.3f} | {cpu:.1f} | {wait} | {held}", end="")
        print(f" | {held_cpu}")
    if spy_file is not None:
        spy_summary(spy_file)
    if args.profile:
        profile(args, incident_id, tokens[0])


if __name__ == "__main__":
    main()
