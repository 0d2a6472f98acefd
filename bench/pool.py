"""Connection-pool check: does the production server stay within its database pools when
many clients read at once? Starts uvicorn (--workers processes, production settings) on a
local port against a scratch PostgreSQL database, runs --clients concurrent clients reading
an incident's timeline through the API, and prints the requests made, the 5xx answers and
the most server connections seen in pg_stat_activity, against the bound
workers x DB_POOL_MAX_SIZE.

    .venv/bin/python bench/pool.py [--clients 200] [--requests 2000] [--workers 2]
                                   [--pool-max 10] [--port 8791] [--database NAME]

Bounded: stops after --requests requests or --seconds seconds, whichever comes first.
Needs PostgreSQL (--pg-url, user postgres) and Redis (--redis-url); creates the database
if missing (never drops it). Exits 1 if any 5xx or the connections went over the bound.
"""

import argparse
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=200, help="concurrent clients")
    parser.add_argument("--requests", type=int, default=2000, help="total requests, at most")
    parser.add_argument("--seconds", type=float, default=60, help="time limit of the run")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument("--pool-min", type=int, default=None, help="DB_POOL_MIN_SIZE")
    parser.add_argument(
        "--pool-max", type=int, default=10, help="DB_POOL_MAX_SIZE (0: no pool, to compare)"
    )
    parser.add_argument("--port", type=int, default=8791)
    parser.add_argument("--pg-url", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--database", default="crisiscell_bench_pool")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/3")
    return parser.parse_args()


def server_env(args, **extra) -> dict:
    return {
        **os.environ,
        "CRISISCELL_MODE": "production",
        "DATABASE_URL": f"{args.pg_url}/{args.database}",
        "REDIS_URL": args.redis_url,
        "SECRET_KEY": "bench-" + "x" * 60,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",
        "LOG_LEVEL": "WARNING",
        "DB_POOL_MIN_SIZE": str(min(2, args.pool_max) if args.pool_min is None else args.pool_min),
        "DB_POOL_MAX_SIZE": str(args.pool_max),
        **extra,
    }


def prepare(args) -> tuple[int, str]:
    """The database (created if missing, migrated) and an incident: (its id, a token)."""
    import psycopg

    with psycopg.connect(f"{args.pg_url}/postgres", autocommit=True) as db:
        found = db.execute("SELECT 1 FROM pg_database WHERE datname = %s", [args.database])
        if not found.fetchone():
            db.execute(
                psycopg.sql.SQL("CREATE DATABASE {}").format(psycopg.sql.Identifier(args.database))
            )
    # This process needs one connection, not a pool.
    os.environ.update(
        server_env(args, DB_POOL_MIN_SIZE="0", DB_POOL_MAX_SIZE="0", DB_CONN_MAX_AGE="0")
    )
    os.environ["DJANGO_SETTINGS_MODULE"] = "crisiscell.settings"
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from rest_framework.authtoken.models import Token

    from incidents import actions

    call_command("migrate", verbosity=0)
    lead = get_user_model().objects.create_user(f"pool-bench-{time.time_ns()}")
    incident = actions.incident_declare(
        actor=lead,
        title="Pool benchmark",
        category="public_statement",
        origin="online",
        platforms=["x"],
        severity=2,
    )
    for n in range(30):
        actions.timeline_add_entry(incident=incident, actor=lead, kind="note", text=f"Note {n}")
    token = Token.objects.create(user=lead).key
    connection.close()
    return incident.pk, token


def start_server(args) -> subprocess.Popen:
    command = [
        sys.executable, "-m", "uvicorn", "crisiscell.asgi:application",
        "--host", "127.0.0.1", "--port", str(args.port), "--workers", str(args.workers),
        "--lifespan", "off", "--log-level", "warning", "--no-access-log",
    ]  # fmt: skip
    server = subprocess.Popen(command, cwd=ROOT, env=server_env(args), start_new_session=True)  # noqa: S603
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            login = f"http://127.0.0.1:{args.port}/accounts/login/"
            urllib.request.urlopen(login, timeout=1)
            return server
        except urllib.error.HTTPError:
            return server  # it answers
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


class ConnectionWatch(threading.Thread):
    """Samples the server's connections to the database in pg_stat_activity."""

    def __init__(self, args):
        super().__init__(daemon=True)
        self.args, self.most, self.done = args, 0, threading.Event()

    def run(self):
        import psycopg

        with psycopg.connect(f"{self.args.pg_url}/postgres", autocommit=True) as db:
            self.max_connections = int(db.execute("SHOW max_connections").fetchone()[0])
            while not self.done.is_set():
                row = db.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = %s",
                    [self.args.database],
                ).fetchone()
                self.most = max(self.most, row[0])
                time.sleep(0.05)


def run_clients(args, incident_id: int, token: str) -> dict:
    url = f"http://127.0.0.1:{args.port}/api/incidents/{incident_id}/timeline/"
    counts = {"requests": 0, "5xx": 0, "other errors": 0}
    lock = threading.Lock()
    deadline = time.monotonic() + args.seconds

    def client():
        while time.monotonic() < deadline:
            with lock:
                if counts["requests"] >= args.requests:
                    return
                counts["requests"] += 1
            request = urllib.request.Request(url, headers={"Authorization": f"Token {token}"})
            try:
                with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                    response.read()
            except urllib.error.HTTPError as exc:
                key = "5xx" if exc.code >= 500 else "other errors"
                with lock:
                    counts[key] += 1
            except OSError:
                with lock:
                    counts["other errors"] += 1

    with ThreadPoolExecutor(max_workers=args.clients) as pool:
        for _ in range(args.clients):
            pool.submit(client)
    return counts


def main():
    args = parse_args()
    incident_id, token = prepare(args)
    server = start_server(args)
    watch = ConnectionWatch(args)
    watch.start()
    started = time.monotonic()
    try:
        counts = run_clients(args, incident_id, token)
    finally:
        elapsed = time.monotonic() - started
        watch.done.set()
        watch.join()
        stop(server)
    bound = args.workers * args.pool_max if args.pool_max else None
    print(f"clients:                {args.clients}")
    print(f"requests:               {counts['requests']} in {elapsed:.1f} s")
    print(f"5xx:                    {counts['5xx']}")
    print(f"other errors:           {counts['other errors']}")
    pools = f"pools: {args.workers} x {args.pool_max} = {bound}" if bound else "no pool"
    print(
        f"max server connections: {watch.most} ({pools}; max_connections {watch.max_connections})"
    )
    sys.exit(1 if counts["5xx"] or (bound and watch.most > bound) else 0)


if __name__ == "__main__":
    main()
