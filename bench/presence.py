"""Presence benchmark: N WebSocket clients watch one incident on the production stack
(uvicorn started as the Procfile starts it, PostgreSQL, Redis); how long until all of them
are connected, and how many presence messages per second do they receive while idle?

    .venv/bin/python bench/presence.py [--watchers 50 100 200] [--idle 45] [--port 8813]
                                       [--database cc_presence_bench] [--redis URL]
                                       [--code DIR]

Needs PostgreSQL (127.0.0.1:5432, user postgres) and Redis. `--code DIR` serves another
checkout of the project (e.g. `git archive 57c35ff | tar -x -C DIR`, the code before the
roster) with this checkout's database and settings, so one run measures both sides.

For each N: one incident, N observers (distinct people), a fresh server; the N clients
connect all at once. Reported:
- roster: time until every client has received its roster message (the server sends one
  to each newcomer that is not alone; "-" for the code before, which had none);
- everyone: time until every client knows of all N - 1 others (entries of the rosters and
  deltas, plus the rosters' count of people beyond the entries sent): what "connected"
  means for the page, and the only completion the code before has;
- idle msgs/s: presence messages received by all clients together per second, over
  `--idle` seconds once everyone is connected (the refresh period is 20 s: use >= 40);
- burst msgs per page: presence messages each page received for the burst of arrivals
  (until everyone knows everyone, plus 2 s), mean and max over the pages;
- server CPU during the idle window, in % of one core;
- the same-run baseline: the same N people open their own socket (ws/me/, the same
  authentication and access check, no presence) at once, on the same server first: the
  part of "connected" that is not presence.
Bounded in time: each phase gives up after --timeout seconds and says so.
"""

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TICK = os.sysconf("SC_CLK_TCK")


def environment(args) -> dict:
    return {
        "CRISISCELL_MODE": "production",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{args.database}",
        "REDIS_URL": args.redis,
        "SECRET_KEY": "bench-" + "x" * 60,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",
        "DB_CONN_MAX_AGE": "60",
        "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "crisiscell.settings",
    }


def prepare_database(name: str) -> None:
    import django
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as db:
        if not db.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            db.execute(f'CREATE DATABASE "{name}"')
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def make_room(n: int) -> tuple[int, list[tuple[int, str]]]:
    """An incident whose cell has a lead and n observers; its id and the observers'
    (user id, session cookie) (sessions made directly, no login)."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    from incidents import actions

    User = get_user_model()
    stamp = time.time_ns()
    lead = User.objects.create_user(f"presence-lead-{stamp}", password=None)
    incident = actions.incident_declare(
        actor=lead, title="Presence bench", category="other", origin="online", activate=True
    )
    cookies = []
    for k in range(n):
        user = User.objects.create_user(
            f"presence-{stamp}-{k}", password=None, first_name=f"Watcher {k}"
        )
        actions.member_add(incident=incident, actor=lead, user=user, role="observer")
        client = Client()
        client.force_login(user)
        cookies.append((user.pk, client.cookies["sessionid"].value))
    return incident.pk, cookies


def start_server(args, env) -> subprocess.Popen:
    # As the Procfile's `web` line, one worker, on our port.
    cmd = [sys.executable, "-m", "uvicorn", "crisiscell.asgi:application",
           "--host", "127.0.0.1", "--port", str(args.port), "--workers", "1",
           "--lifespan", "off", "--proxy-headers", "--ws-per-message-deflate", "false",
           "--log-level", "warning"]  # fmt: skip
    server = subprocess.Popen(cmd, cwd=args.code, env={**os.environ, **env})  # noqa: S603
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:  # listening (a page would need the collected static files)
            socket.create_connection(("127.0.0.1", args.port), timeout=1).close()
            return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise RuntimeError("the server did not start")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


class Watcher:
    """One page's socket: what it knows of the others, and when it got there."""

    def __init__(self, n: int, me: int):
        self.others_needed = n - 1
        self.me = me
        self.known: dict[str, int] = {}  # conn -> user
        self.more = 0
        self.roster_at = None
        self.last_roster = 0
        self.everyone_at = None
        self.count = 0
        self.ws = None

    def take(self, payload: dict, now: float) -> None:
        if payload.get("type") != "presence":
            return
        self.count += 1
        event = payload.get("event")
        if event == "roster":
            if self.roster_at is None:
                self.roster_at = now
            if payload.get("at", 0) >= self.last_roster:  # as presence.js: older ones skipped
                self.last_roster = payload.get("at", 0)
                self.known = {e["conn"]: e["user"] for e in payload["entries"]}
                self.more = payload["more"]
        elif event == "here":
            self.known[payload["conn"]] = payload["user"]
        elif event == "left":
            self.known.pop(payload["conn"], None)
        others = {user for user in self.known.values() if user != self.me}
        if self.everyone_at is None and len(others) + self.more >= self.others_needed:
            self.everyone_at = now


async def run_watchers(args, incident_id: int, cookies: list[str], server_pid: int) -> dict:
    import websockets

    url = f"ws://127.0.0.1:{args.port}/ws/incidents/{incident_id}/"
    origin = f"http://127.0.0.1:{args.port}"
    watchers = [Watcher(len(cookies), user) for user, _ in cookies]
    counting = {"on": False, "count": 0}

    async def watch(watcher, cookie):
        ws = await websockets.connect(
            url, origin=origin, additional_headers={"Cookie": f"sessionid={cookie}"},
            max_size=2**22, open_timeout=args.timeout, ping_interval=None,
        )  # fmt: skip
        watcher.ws = ws
        async for raw in ws:
            payload = json.loads(raw)
            if counting["on"] and payload.get("type") == "presence":
                counting["count"] += 1
            watcher.take(payload, time.monotonic())

    start = time.monotonic()
    tasks = [
        asyncio.create_task(watch(w, cookie))
        for w, (_user, cookie) in zip(watchers, cookies, strict=True)
    ]
    deadline = start + args.timeout
    while time.monotonic() < deadline:
        if all(w.everyone_at for w in watchers):
            break
        await asyncio.sleep(0.05)
    failed = [t for t in tasks if t.done() and t.exception()]
    rosters = [w.roster_at for w in watchers]
    everyone = [w.everyone_at for w in watchers]
    result = {
        # The first to connect may be alone: a lone page gets no roster.
        "roster": (max(filter(None, rosters)) - start)
        if sum(r is not None for r in rosters) >= len(rosters) - 1
        else None,
        "everyone": (max(everyone) - start) if all(everyone) else None,
        "errors": len(failed),
    }
    await asyncio.sleep(2)  # the arrivals' last deltas
    # Presence messages each page received for the burst of arrivals (connect + 2 s).
    result["burst_mean"] = sum(w.count for w in watchers) / len(watchers)
    result["burst_max"] = max(w.count for w in watchers)
    cpu_before = cpu_seconds(server_pid)
    counting["on"] = True
    idle_start = time.monotonic()
    await asyncio.sleep(args.idle)
    counting["on"] = False
    elapsed = time.monotonic() - idle_start
    result["idle_rate"] = counting["count"] / elapsed
    result["idle_cpu"] = 100 * (cpu_seconds(server_pid) - cpu_before) / elapsed
    for w in watchers:
        if w.ws is not None:
            await w.ws.close()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return result


async def bare_connects(args, cookies) -> float | None:
    """The same-run baseline: the same N people open their own socket (ws/me/: the same
    authentication and access check, no presence) all at once; seconds until every one has
    been told it is live, None past --timeout."""
    import websockets

    url = f"ws://127.0.0.1:{args.port}/ws/me/"
    origin = f"http://127.0.0.1:{args.port}"

    async def one(cookie):
        ws = await websockets.connect(
            url, origin=origin, additional_headers={"Cookie": f"sessionid={cookie}"},
            open_timeout=args.timeout, ping_interval=None,
        )  # fmt: skip
        async for raw in ws:
            if json.loads(raw).get("type") == "status":
                return ws

    start = time.monotonic()
    try:
        sockets = await asyncio.wait_for(
            asyncio.gather(*(one(cookie) for _user, cookie in cookies)), args.timeout
        )
    except TimeoutError:
        return None
    elapsed = time.monotonic() - start
    for ws in sockets:
        await ws.close()
    return elapsed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--watchers", type=int, nargs="+", default=[50, 100, 200])
    parser.add_argument("--idle", type=float, default=45.0, help="idle window, seconds")
    parser.add_argument("--timeout", type=float, default=60.0, help="per phase, seconds")
    parser.add_argument("--port", type=int, default=8813)
    parser.add_argument("--database", default="cc_presence_bench")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/7")
    parser.add_argument("--code", default=str(ROOT), help="checkout the server runs from")
    parser.add_argument("--label", default="", help="printed with the table")
    args = parser.parse_args()

    env = environment(args)
    os.environ.update(env)
    prepare_database(args.database)
    rows = []
    for n in args.watchers:
        incident_id, cookies = make_room(n)
        server = start_server(args, env)
        try:
            bare = asyncio.run(bare_connects(args, cookies))
            result = asyncio.run(run_watchers(args, incident_id, cookies, server.pid))
            result["bare"] = bare
        finally:
            server.terminate()
            server.wait(timeout=15)
        rows.append((n, result))
        print(f"N={n}: {result}", flush=True)

    def seconds(value):
        return "-" if value is None else f"{value:.2f} s"

    print()
    print(f"Presence, {args.label or args.code}, idle window {args.idle:.0f} s")
    print("| watchers | roster received by all | all know everyone | bare connect (ws/me/) "
          "| everyone / bare | burst msgs per page (mean / max) | idle msgs/s "
          "| msgs/s per watcher | server CPU idle | errors |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|---|")
    for n, r in rows:
        ratio = f"{r['everyone'] / r['bare']:.1f}" if r["everyone"] and r["bare"] else "-"
        print(f"| {n} | {seconds(r['roster'])} | {seconds(r['everyone'])} | "
              f"{seconds(r['bare'])} | {ratio} | "
              f"{r['burst_mean']:.1f} / {r['burst_max']} | "
              f"{r['idle_rate']:.1f} | {r['idle_rate'] / n:.2f} | {r['idle_cpu']:.0f}% "
              f"| {r['errors']} |")  # fmt: skip


if __name__ == "__main__":
    main()
