"""Fan-out benchmark: how fast does a timeline entry posted through the API reach N
WebSocket clients watching the incident, on the production stack (PostgreSQL + Redis + one
ASGI process), compared with a bare channel_layer.group_send to the same clients?

    .venv/bin/python bench/fanout.py [--server uvicorn|daphne] [--clients 10 50 200]

Needs PostgreSQL (127.0.0.1:5432, user postgres) and Redis (127.0.0.1:6379). Uses its own
database `crisiscell_bench` and Redis database 2. Prints a table; see docs/benchmarks.md.
"""

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PORT = 8765
ENV = {
    "CRISISCELL_MODE": "production",
    "DATABASE_URL": os.environ.get(
        "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/crisiscell_bench"
    ),
    "REDIS_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/2"),
    "SECRET_KEY": "bench-" + "x" * 60,
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
    "SECURE_SSL_REDIRECT": "false",
    "DB_CONN_MAX_AGE": "60",
    "LOG_LEVEL": "WARNING",
    "DJANGO_SETTINGS_MODULE": "crisiscell.settings",
}
os.environ.update(ENV)

import django  # noqa: E402


def prepare_database():
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as db:
        exists = db.execute("SELECT 1 FROM pg_database WHERE datname = 'crisiscell_bench'")
        if not exists.fetchone():
            db.execute("CREATE DATABASE crisiscell_bench")
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("collectstatic", verbosity=0, interactive=False)


def make_room(n_clients: int):
    """An incident whose cell has a lead and n observers; returns ids, token, cookies."""
    from django.contrib.auth import get_user_model
    from django.test import Client
    from rest_framework.authtoken.models import Token

    from incidents import actions

    User = get_user_model()
    stamp = time.time_ns()
    lead = User.objects.create_user(
        f"bench-lead-{stamp}", password=None
    )  # sessions are made directly: no login
    incident = actions.incident_declare(
        actor=lead, title="Fan-out bench", category="other", origin="online", activate=True
    )
    cookies = []
    for n in range(n_clients):
        user = User.objects.create_user(
            f"bench-{stamp}-{n}", password=None
        )  # sessions are made directly: no login
        actions.member_add(incident=incident, actor=lead, user=user, role="observer")
        client = Client()
        client.force_login(user)
        cookies.append(client.cookies["sessionid"].value)
    token = Token.objects.create(user=lead).key
    return incident.pk, token, cookies


def start_server(kind: str) -> subprocess.Popen:
    python = sys.executable
    if kind == "uvicorn":
        cmd = [python, "-m", "uvicorn", "crisiscell.asgi:application", "--port", str(PORT),
               "--host", "127.0.0.1", "--log-level", "warning", "--lifespan", "off"]  # fmt: skip
    else:
        cmd = [python, "-m", "daphne", "-b", "127.0.0.1", "-p", str(PORT),
               "crisiscell.asgi:application"]  # fmt: skip
    server = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ})  # noqa: S603
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{PORT}/accounts/login/", timeout=1)
            return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise RuntimeError(f"{kind} did not start")


def post_entry(incident_id: int, token: str, text: str) -> tuple[int, float]:
    body = json.dumps({"kind": "note", "text": text}).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{PORT}/api/incidents/{incident_id}/timeline/",
        data=body,
        headers={"Content-Type": "application/json", "Authorization": f"Token {token}"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        seq = json.loads(response.read())["seq"]
    return seq, time.perf_counter()


class Clients:
    """N WebSocket clients recording when each event (by seq or bench id) arrives."""

    def __init__(self, incident_id, cookies):
        self.incident_id, self.cookies = incident_id, cookies
        self.arrivals: list[dict] = [{} for _ in cookies]
        self.sockets = []

    async def __aenter__(self):
        import websockets

        url = f"ws://127.0.0.1:{PORT}/ws/incidents/{self.incident_id}/"
        for cookie in self.cookies:
            self.sockets.append(
                await websockets.connect(
                    url,
                    origin=f"http://127.0.0.1:{PORT}",
                    additional_headers={"Cookie": f"sessionid={cookie}"},
                    max_size=None,
                )
            )
        self.readers = [asyncio.create_task(self._read(n, ws)) for n, ws in enumerate(self.sockets)]
        return self

    async def _read(self, n, ws):
        async for message in ws:
            payload = json.loads(message)
            self.arrivals[n][payload.get("bench_id", payload.get("seq"))] = time.perf_counter()

    async def __aexit__(self, *exc):
        for task in self.readers:
            task.cancel()
        for ws in self.sockets:
            await ws.close()

    def delays(self, sent: dict) -> tuple[list[float], int]:
        delays, lost = [], 0
        for arrivals in self.arrivals:
            for key, at in sent.items():
                if key in arrivals:
                    delays.append((arrivals[key] - at) * 1000)
                else:
                    lost += 1
        return delays, lost


async def settle(clients, keys, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(all(k in a for k in keys) for a in clients.arrivals):
            return
        await asyncio.sleep(0.05)


async def run_api(clients, incident_id, token, *, count, rate=None, burst_workers=10):
    """Post `count` entries, at `rate` per second, or all at once with `burst_workers`."""
    loop = asyncio.get_running_loop()
    sent = {}
    with ThreadPoolExecutor(max_workers=1 if rate else burst_workers) as pool:
        futures = []
        for n in range(count):
            futures.append(loop.run_in_executor(pool, post_entry, incident_id, token, f"e{n}"))
            if rate:
                await asyncio.sleep(1 / rate)
        for seq, at in await asyncio.gather(*futures):
            sent[seq] = at
    await settle(clients, sent)
    return clients.delays(sent)


async def run_baseline(clients, incident_id, *, count):
    from channels.layers import get_channel_layer

    from incidents.events import event_message, incident_group

    layer = get_channel_layer()
    sent = {}
    for n in range(count):
        key = f"bare-{n}"
        sent[key] = time.perf_counter()
        message = event_message({"bench_id": key, "html": SAMPLE_HTML})
        await layer.group_send(incident_group(incident_id), message)
        await asyncio.sleep(0.02)
    await settle(clients, sent)
    return clients.delays(sent)


# About the size of a real event's fragments, so the bare baseline carries as many bytes.
SAMPLE_HTML = {lang: {"entry": "x" * 1500, "chips": "x" * 200, "countdown": "x" * 300}
               for lang in ("en", "fr")}  # fmt: skip


def summary(delays: list[float]) -> tuple[float, float, float]:
    if not delays:
        return float("nan"), float("nan"), float("nan")
    ordered = sorted(delays)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return statistics.median(ordered), p99, ordered[-1]


async def bench(n_clients, incident_id, token, cookies, steady, burst, baseline_count):
    rows = []
    async with Clients(incident_id, cookies) as clients:
        await asyncio.sleep(0.5)
        base = await run_baseline(clients, incident_id, count=baseline_count)
        steady_result = await run_api(clients, incident_id, token, count=steady, rate=20)
        burst_result = await run_api(clients, incident_id, token, count=burst)
    base_p99 = summary(base[0])[1]
    for name, (delays, lost) in (("bare group_send", base), ("API, 20/s", steady_result),
                                 ("API, burst", burst_result)):  # fmt: skip
        p50, p99, worst = summary(delays)
        rows.append((n_clients, name, p50, p99, worst, lost, p99 / base_p99 if base_p99 else 0))
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", choices=["uvicorn", "daphne"], default="uvicorn")
    parser.add_argument("--clients", type=int, nargs="+", default=[10, 50, 200])
    parser.add_argument("--steady", type=int, default=100, help="entries at 20/s")
    parser.add_argument("--burst", type=int, default=100, help="entries posted at once")
    parser.add_argument("--baseline", type=int, default=100, help="bare group_send events")
    args = parser.parse_args()

    prepare_database()
    server = start_server(args.server)
    rows = []
    try:
        for n in args.clients:
            incident_id, token, cookies = make_room(n)
            rows += asyncio.run(
                bench(n, incident_id, token, cookies, args.steady, args.burst, args.baseline)
            )
    finally:
        server.terminate()
        server.wait(timeout=10)

    print(f"\nFan-out on {os.cpu_count()} cores, server: {args.server}; delay in ms from the "
          "API response (or the bare send) to arrival at each client")  # fmt: skip
    print(f"{'N':>5}  {'path':<16} {'p50':>8} {'p99':>8} {'max':>8} {'lost':>6} {'p99/bare':>9}")
    for n, name, p50, p99, worst, lost, ratio in rows:
        print(f"{n:>5}  {name:<16} {p50:8.1f} {p99:8.1f} {worst:8.1f} {lost:>6} {ratio:9.2f}")


if __name__ == "__main__":
    main()
