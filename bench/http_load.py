"""HTTP load: C concurrent clients against the web process started as the Procfile starts it
(uvicorn, WEB_CONCURRENCY workers, production settings, its database pool), for a fixed
time; prints requests per second, p50/p99 latency per kind of request, the 5xx answers and
the connection errors. Each --workers value is a phase of the same run, so the first (by
default 1 worker) is the baseline of the others.

    .venv/bin/python bench/http_load.py [--clients 200] [--seconds 30] [--workers 1 2]
        [--port 8816] [--database-url postgres://postgres@127.0.0.1:5432/crisiscell_bench_load]
        [--redis-url redis://127.0.0.1:6379/4]

Each client is a member (drafter) of one of --incidents incidents, each with --entries
timeline entries, and loops without pause (closed loop) until the time is up:
  room      GET /incidents/<id>/ (session cookie), the incident room page
  list      GET /api/incidents/ (token)
  timeline  GET /api/incidents/<id>/timeline/ (token), the first page
  post      POST /api/incidents/<id>/timeline/ (token), a note: one request in --post-every
The kinds are drawn at random with the weights of --mix. The clients run in --client-procs
processes of their own (aiohttp); the CPU each side used is printed.

Needs PostgreSQL and Redis on loopback; creates the database if missing (never drops it).
Bounded: --seconds per phase, 30 s per request at most. Exits 1 on any 5xx or connection
error.
"""

import argparse
import asyncio
import multiprocessing
import os
import random
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.stack import (  # noqa: E402
    WebServer,
    create_database,
    machine_busy,
    percentiles,
    process_cpu,
    production_env,
)

KINDS = ("room", "list", "timeline", "post")


def parse_args():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=200, help="concurrent clients")
    parser.add_argument("--seconds", type=float, default=30, help="duration of each phase")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2],
                        help="uvicorn workers of each phase (WEB_CONCURRENCY)")  # fmt: skip
    parser.add_argument("--mix", default="room=2,list=3,timeline=4",
                        help="relative weights of the GETs")  # fmt: skip
    parser.add_argument("--post-every", type=int, default=20, help="one request in K posts")
    parser.add_argument("--pool-max", type=int, default=10,
                        help="the server's DB_POOL_MAX_SIZE (connections per worker)")  # fmt: skip
    parser.add_argument("--pool-timeout", type=int, default=None,
                        help="the server's DB_POOL_TIMEOUT (default: the settings')")  # fmt: skip
    parser.add_argument("--server-log", default="", metavar="PATH",
                        help="append the server's output (errors) to this file")  # fmt: skip
    parser.add_argument("--incidents", type=int, default=5)
    parser.add_argument("--entries", type=int, default=100, help="timeline entries each")
    parser.add_argument("--client-procs", type=int, default=2)
    parser.add_argument("--port", type=int, default=8816)
    parser.add_argument(
        "--database-url", default="postgres://postgres@127.0.0.1:5432/crisiscell_bench_load"
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/4")
    return parser.parse_args()


def prepare(args) -> list[tuple[int, str, str]]:
    """Migrates, then makes the incidents and one drafter per client: (incident id,
    session cookie, API token) each."""
    create_database(args.database_url)
    os.environ.update(
        production_env(
            args.database_url,
            args.redis_url,
            # This process needs one connection, not a pool.
            DB_POOL_MAX_SIZE="0",
            DB_CONN_MAX_AGE="0",
            DJANGO_SETTINGS_MODULE="crisiscell.settings",
        )
    )
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from rest_framework.authtoken.models import Token

    from incidents import actions

    call_command("migrate", verbosity=0)
    call_command("collectstatic", verbosity=0, interactive=False)
    User = get_user_model()
    stamp = time.time_ns()
    incidents = []
    for n in range(args.incidents):
        lead = User.objects.create_user(f"load-lead-{stamp}-{n}", password=None)
        incident = actions.incident_declare(
            actor=lead, title=f"Load {n}", category="other", origin="online", activate=True
        )
        for e in range(args.entries):
            actions.timeline_add_entry(incident=incident, actor=lead, kind="note", text=f"n{e}")
        incidents.append((incident, lead))
    clients = []
    for n in range(args.clients):
        incident, lead = incidents[n % len(incidents)]
        user = User.objects.create_user(f"load-{stamp}-{n}", password=None)
        actions.member_add(incident=incident, actor=lead, user=user, role="drafter")
        browser = Client()
        browser.force_login(user)  # a session without a password or a login
        token = Token.objects.create(user=user).key
        clients.append((incident.pk, browser.cookies["sessionid"].value, token))
    connection.close()
    return clients


# --- Clients, in processes of their own -----------------------------------------------------


def client_process(conn, port, users, weights, post_every, seconds, seed):
    conn.send(asyncio.run(_clients(port, users, weights, post_every, seconds, seed)))


async def _clients(port, users, weights, post_every, seconds, seed):
    import aiohttp

    base = f"http://127.0.0.1:{port}"
    samples = {kind: [] for kind in KINDS}
    failures = {"5xx": 0, "4xx": 0, "errors": 0}
    deadline = time.monotonic() + seconds
    gets = [kind for kind in KINDS if kind in weights]

    async def client(n, incident_id, cookie, token, http):
        rng = random.Random(seed * 100_000 + n)
        count = 0
        while time.monotonic() < deadline:
            count += 1
            if post_every and rng.random() < 1 / post_every:
                kind = "post"
            else:
                kind = rng.choices(gets, [weights[k] for k in gets])[0]
            if kind == "room":
                method, url = "GET", f"/incidents/{incident_id}/"
                headers = {"Cookie": f"sessionid={cookie}"}
            else:
                headers = {"Authorization": f"Token {token}"}
                method, url = "GET", f"/api/incidents/{incident_id}/timeline/"
                if kind == "list":
                    url = "/api/incidents/"
                elif kind == "post":
                    method = "POST"
            body = {"kind": "note", "text": f"load {n} {count}"} if method == "POST" else None
            start = time.monotonic()
            try:
                async with http.request(method, base + url, json=body, headers=headers) as reply:
                    await reply.read()
                    status = reply.status
            except Exception:  # a refused or reset connection, a timeout: counted
                failures["errors"] += 1
                continue
            if time.monotonic() > deadline:
                break  # answered after the end: not part of the phase
            samples[kind].append((time.monotonic() - start) * 1000)
            if status >= 500:
                failures["5xx"] += 1
            elif status >= 400:
                failures["4xx"] += 1

    async with aiohttp.ClientSession(
        timeout=aiohttp.ClientTimeout(total=30),
        connector=aiohttp.TCPConnector(limit=0),
        cookie_jar=aiohttp.DummyCookieJar(),
    ) as http:
        await asyncio.gather(*(client(n, *user, http) for n, user in enumerate(users)))
    return samples, failures, os.getpid()


class ConnectionWatch(threading.Thread):
    """The most connections the server held to its database (pg_stat_activity), sampled."""

    def __init__(self, database_url):
        super().__init__(daemon=True)
        self.database_url, self.most, self.done = database_url, 0, threading.Event()

    def run(self):
        import psycopg

        name = urlsplit(self.database_url).path.lstrip("/")
        with psycopg.connect(self.database_url, autocommit=True) as db:
            while not self.done.is_set():
                row = db.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = %s "
                    "AND pid <> pg_backend_pid()",
                    [name],
                ).fetchone()
                self.most = max(self.most, row[0])
                time.sleep(0.05)

    def stop(self) -> int:
        self.done.set()
        self.join(timeout=5)
        return self.most


def run_phase(args, users, workers, env, weights):
    context = multiprocessing.get_context("spawn")
    with WebServer(args.port, workers, env, log=args.server_log) as server:
        time.sleep(1)
        before = time.monotonic(), server.cpu(), machine_busy()
        watch = ConnectionWatch(args.database_url)
        watch.start()
        procs = []
        for n in range(args.client_procs):
            parent, child = context.Pipe()
            share = users[n :: args.client_procs]
            process = context.Process(
                target=client_process,
                args=(child, args.port, share, weights, args.post_every, args.seconds, n),
                daemon=True,
            )
            process.start()
            procs.append((process, parent))
        samples = {kind: [] for kind in KINDS}
        failures = {"5xx": 0, "4xx": 0, "errors": 0}
        clients_cpu = 0.0
        for process, conn in procs:
            if not conn.poll(args.seconds + 60):
                process.kill()
                raise RuntimeError("A client process did not finish in time")
            worker_samples, worker_failures, pid = conn.recv()
            clients_cpu += process_cpu(pid)
            process.join(timeout=10)
            for kind, values in worker_samples.items():
                samples[kind] += values
            for key, value in worker_failures.items():
                failures[key] += value
        wall = time.monotonic() - before[0]
        connections = watch.stop()
        busy, total = (a - b for a, b in zip(machine_busy(), before[2], strict=True))
        return {
            "workers": workers,
            "samples": samples,
            "failures": failures,
            "seconds": args.seconds,
            "wall": wall,
            "server_cpu": server.cpu() - before[1],
            "clients_cpu": clients_cpu,
            "machine": busy / total * 100 if total else 0,
            "connections": connections,
        }


def report(args, phases):
    print(
        f"\nHTTP load on {os.cpu_count()} cores: {args.clients} concurrent clients, closed loop, "
        f"{args.seconds:g} s per phase, the Procfile's web process; latency in ms; CPU seconds "
        "during the phase (server: every uvicorn process; clients: their processes)."
    )
    columns = "{:>7} {:<9} {:>8} {:>7} {:>7} {:>7} {:>7}"
    print(columns.format("workers", "request", "requests", "req/s", "p50", "p99", "max"))
    bad = 0
    base = None
    for phase in phases:
        every = [v for values in phase["samples"].values() for v in values]
        for kind in (*KINDS, "all"):
            values = every if kind == "all" else phase["samples"][kind]
            p50, p99, top = percentiles(values)
            rate = len(values) / phase["seconds"]
            print(columns.format(phase["workers"], kind, len(values), f"{rate:.1f}",
                                 f"{p50:.0f}", f"{p99:.0f}", f"{top:.0f}"))  # fmt: skip
        f = phase["failures"]
        rate = len(every) / phase["seconds"]
        base = base or rate
        bad += f["5xx"] + f["errors"]
        print(
            f"        5xx {f['5xx']}, 4xx {f['4xx']}, connection errors {f['errors']}; "
            f"req/s {rate / base:.2f}x the first phase's; CPU: server {phase['server_cpu']:.1f} s,"
            f" clients {phase['clients_cpu']:.1f} s, machine {phase['machine']:.0f}% busy; "
            f"most database connections {phase['connections']} "
            f"(pools: {phase['workers']} x {args.pool_max})"
        )
    return bad


def main():
    args = parse_args()
    weights = {}
    for part in args.mix.split(","):
        kind, _, weight = part.partition("=")
        if kind not in KINDS[:3]:
            sys.exit(f"--mix: unknown request {kind!r} (room, list, timeline)")
        weights[kind] = float(weight)
    users = prepare(args)
    env = production_env(args.database_url, args.redis_url, DB_POOL_MAX_SIZE=str(args.pool_max))
    phases = [run_phase(args, users, workers, env, weights) for workers in args.workers]
    sys.exit(1 if report(args, phases) else 0)


if __name__ == "__main__":
    main()
