"""Fan-out benchmark: how long from the start of the request that writes a timeline entry
until each of N WebSocket clients watching the incident has it, on the production stack
(PostgreSQL, Redis channel layer, the Procfile's web process), against a bare
channel_layer.group_send to the same clients in the same run.

    .venv/bin/python bench/fanout.py [--clients 200] [--rate 20] [--steady 200]
        [--burst 100] [--workers 2] [--port 8815]
        [--database-url postgres://postgres@127.0.0.1:5432/crisiscell_bench_fanout]
        [--redis-url redis://127.0.0.1:6379/2]

Phases, for each N of --clients:

1. bare group_send at --rate per second (--steady events), then the same number at once:
   the baselines (no HTTP, no database; a payload as big as a real event's).
2. API at --rate per second: --steady writes sent open-loop by concurrent posters (each
   one at t0 + i/rate whatever the previous ones do); every --panel-every-th write is a
   severity change (which names panels to refresh), the others notes. Prints the rate
   actually achieved (writes completed / time from the first send to the last answer).
3. API burst: --burst writes sent at once.
4. Resync storm: every client drops its socket, --storm-missed notes are written, then all
   N reconnect at once and resync as live.js does; the time until every client has every
   entry, and the HTTP errors.

Delays run from just before the HTTP request is sent (the poster's clock) to the arrival at
each client (CLOCK_MONOTONIC, shared by every process of the machine); an entry a client
only got through a resync arrives when that resync's answer does. "lost" counts (entry,
client) pairs missing --wait seconds after the phase.

The clients behave like the room page (static/js/live.js): they apply events in seq order,
resync with `?after=<last seq>` on a gap or a reconnect (following X-Timeline-More), and
GET every panel an event or a resync names (X-Refresh-Panels), at the URL the room page
gives that panel (its data-panel element's hx-get, read from the page as the browser
does). Those GETs are counted with their failures. The clients run in --client-procs
processes of their own; the CPU each side used is printed, so a reader can see who had the
two cores.

Needs PostgreSQL and Redis on loopback. Creates the database if missing (never drops it).
Bounded: every wait has a timeout. Exits 1 if a request failed with a 5xx or a socket
could not connect.
"""

import argparse
import asyncio
import contextlib
import html
import json
import multiprocessing
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.stack import (  # noqa: E402
    WebServer,
    create_database,
    machine_busy,
    percentiles,
    process_cpu,
    production_env,
    slug,
)

# Every clock below is CLOCK_MONOTONIC, which all processes of the machine share.
now = time.monotonic


def parse_args():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, nargs="+", default=[200], help="N watchers")
    parser.add_argument("--rate", type=float, default=20, help="writes per second (steady)")
    parser.add_argument("--steady", type=int, default=200, help="writes in the steady phase")
    parser.add_argument("--burst", type=int, default=100, help="writes sent at once")
    parser.add_argument(
        "--panel-every",
        type=int,
        default=0,
        help="every K-th write of the API phases changes the severity (its event names the "
        "header and checklist panels, which every client then GETs); 0: notes only",
    )
    parser.add_argument("--storm-missed", type=int, default=50, help="entries missed")
    parser.add_argument("--wait", type=float, default=60, help="seconds to wait for arrivals")
    parser.add_argument("--idle", type=float, default=10,
                        help="seconds with the pages open and nothing written, first")  # fmt: skip
    parser.add_argument("--workers", type=int, default=2, help="uvicorn workers (Procfile)")
    parser.add_argument("--client-procs", type=int, default=2, help="processes of clients")
    parser.add_argument("--port", type=int, default=8815)
    parser.add_argument(
        "--database-url", default="postgres://postgres@127.0.0.1:5432/crisiscell_bench_fanout"
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/2")
    parser.add_argument("--layer", choices=["pubsub", "core"], default=None,
                        help="channel layer (default: the production settings')")  # fmt: skip
    parser.add_argument("--deflate", action="store_true",
                        help="let uvicorn compress WebSocket messages (Procfile: off)")  # fmt: skip
    parser.add_argument("--html-bytes", type=int, default=2600,
                        help="fragment bytes of a baseline event (a real one's size)")  # fmt: skip
    parser.add_argument("--server-log", default="", metavar="PATH",
                        help="append the server's output (errors) to this file")  # fmt: skip
    parser.add_argument("--profile", metavar="DIR",
                        help="py-spy each worker in each phase (collapsed stacks in DIR; needs "
                        "the bench extra)")  # fmt: skip
    return parser.parse_args()


# --- Setup (this process: Django, for the room and the baseline's group_send) -------------


def setup_django(args):
    os.environ.update(
        production_env(
            args.database_url,
            args.redis_url,
            # This process needs one connection, not a pool.
            DB_POOL_MAX_SIZE="0",
            DB_CONN_MAX_AGE="0",
            DJANGO_SETTINGS_MODULE="bench.settings",
        )
    )
    if args.layer:
        os.environ["BENCH_CHANNEL_LAYER"] = args.layer
    create_database(args.database_url)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("collectstatic", verbosity=0, interactive=False)


def make_room(n_clients: int) -> tuple[int, str, list[str]]:
    """An incident whose cell has a lead and n observers: its id, the lead's API token, one
    session cookie per observer (sessions made directly: no password, no login)."""
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from rest_framework.authtoken.models import Token

    from incidents import actions

    User = get_user_model()
    stamp = time.time_ns()
    lead = User.objects.create_user(f"bench-lead-{stamp}", password=None)
    incident = actions.incident_declare(
        actor=lead, title="Fan-out bench", category="other", origin="online", activate=True
    )
    cookies = []
    for n in range(n_clients):
        user = User.objects.create_user(f"bench-{stamp}-{n}", password=None)
        actions.member_add(incident=incident, actor=lead, user=user, role="observer")
        client = Client()
        client.force_login(user)
        cookies.append(client.cookies["sessionid"].value)
    token = Token.objects.create(user=lead).key
    connection.close()
    return incident.pk, token, cookies


def seqs_between(incident_id: int, after: int) -> list[int]:
    from django.db import connection

    from incidents.models import TimelineEntry

    seqs = list(
        TimelineEntry.objects.filter(incident_id=incident_id, seq__gt=after).values_list(
            "seq", flat=True
        )
    )
    connection.close()
    return seqs


def last_seq(incident_id: int) -> int:
    seqs = seqs_between(incident_id, 0)
    return max(seqs, default=0)


# --- WebSocket clients, in processes of their own, behaving like live.js --------------------

PANEL_TAG = re.compile(r"<[^>]*\sdata-panel=\"([^\"]+)\"[^>]*>")
HX_GET = re.compile(r"\shx-get=\"([^\"]+)\"")
ROOM = re.compile(r"<div id=\"incident-room\"[^>]*>")
SEQ = re.compile(r"data-seq=\"(\d+)\"")
# static/js/live.js's GAP_WAIT_MS: how long an early event waits for the missing one.
GAP_WAIT = 1.0


def read_room_page(page: str) -> tuple[dict[str, list[str]], str, int]:
    """What the browser reads in the room page: each panel name's URLs (the hx-get of the
    elements marked data-panel="<name> ..."), the resync URL and the last seq shown."""
    urls: dict[str, list[str]] = {}
    for tag in PANEL_TAG.finditer(page):
        found = HX_GET.search(tag.group(0))
        if found:
            for name in tag.group(1).split():
                urls.setdefault(name, []).append(html.unescape(found.group(1)))
    room = ROOM.search(page).group(0)
    timeline = html.unescape(re.search(r'data-timeline-url="([^"]+)"', room).group(1))
    seq = int(re.search(r'data-last-seq="(\d*)"', room).group(1) or 0)
    return urls, timeline, seq


class Stats:
    """HTTP requests the clients made, by kind, with their failures."""

    def __init__(self):
        self.clear()

    def clear(self):
        self.counts = {"panel": 0, "resync": 0, "5xx": 0, "4xx": 0, "errors": 0, "connect": 0}

    def answered(self, kind, status):
        self.counts[kind] += 1
        if status >= 500:
            self.counts["5xx"] += 1
        elif status >= 400:
            self.counts["4xx"] += 1


class Watcher:
    """One room page: its socket, the last seq applied, when each entry (or baseline
    message) arrived."""

    def __init__(self, world, cookie):
        self.world, self.cookie = world, cookie
        self.headers = {"Cookie": f"sessionid={cookie}"}
        self.last_seq = world.start_seq
        # The newest seq an event announced: above last_seq once the page has stopped.
        self.seen = 0
        self.arrivals: dict = {}
        self.resyncing: asyncio.Task | None = None
        # As live.js: events ahead of the next one wait here (seq -> (arrival, payload))
        # up to GAP_WAIT for the missing one, and through a resync, before being applied.
        self.early: dict = {}
        self.gap_timer: asyncio.Task | None = None
        self.ws = self.reader = None
        self.live = asyncio.Event()
        self.tasks: set[asyncio.Task] = set()

    async def connect(self):
        import websockets

        self.live.clear()
        try:
            self.ws = await websockets.connect(
                self.world.ws_url,
                origin=self.world.origin,
                additional_headers=self.headers,
                max_size=None,
                open_timeout=30,
            )
        except (OSError, websockets.InvalidHandshake, TimeoutError):
            self.world.stats.counts["connect"] += 1
            return
        self.reader = asyncio.create_task(self.read(self.ws))

    async def drop(self):
        if self.reader:
            self.reader.cancel()
        if self.ws:
            await self.ws.close()
        self.ws = self.reader = None

    async def read(self, ws):
        import websockets

        try:
            async for message in ws:
                self.on_message(now(), json.loads(message))
        except websockets.ConnectionClosed:
            pass

    def on_message(self, at, payload):
        if payload.get("type") == "presence":
            return
        if payload.get("type") == "status":
            if payload.get("live"):
                self.live.set()
                self.resync()
            return
        if "bench_id" in payload:  # the baseline's messages
            self.arrivals[payload["bench_id"]] = at
            return
        if payload.get("event") == "signal":
            self.refresh(payload.get("panels") or [])
            return
        seq = payload.get("seq")
        if not isinstance(seq, int) or seq <= self.last_seq:
            return
        self.seen = max(self.seen, seq)
        if seq > self.last_seq + 1 or self.resyncing:
            self.early[seq] = (at, payload)
            if not self.resyncing:
                self.drain()
            return
        self.apply(at, seq, payload)
        if self.early:
            self.drain()

    def apply(self, at, seq, payload):
        self.arrivals[seq] = at
        self.last_seq = seq
        self.refresh(payload.get("panels") or [])

    def drain(self):
        """live.js's drainEarly: apply what now follows on; if a hole remains, resync
        after GAP_WAIT unless the missing event comes first."""
        for seq in [s for s in self.early if s <= self.last_seq]:
            del self.early[seq]
        while self.last_seq + 1 in self.early:
            at, payload = self.early.pop(self.last_seq + 1)
            self.apply(at, self.last_seq + 1, payload)
        if self.gap_timer:
            self.gap_timer.cancel()
            self.gap_timer = None
        if self.early and not self.resyncing:
            self.gap_timer = self.spawn(self._resync_after_gap())

    async def _resync_after_gap(self):
        await asyncio.sleep(GAP_WAIT)
        self.gap_timer = None
        self.resync()

    def spawn(self, coroutine):
        task = asyncio.create_task(coroutine)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    def refresh(self, names):
        urls = {url for name in names for url in self.world.panel_urls.get(name, ())}
        for url in urls:
            self.spawn(self.get("panel", url))

    async def get(self, kind, url, headers=None):
        stats = self.world.stats
        try:
            headers = {**self.headers, "HX-Request": "true", **(headers or {})}
            async with self.world.http.get(self.world.base + url, headers=headers) as response:
                body = await response.text()
                stats.answered(kind, response.status)
                return response, body
        except Exception:  # counted, not raised
            stats.counts["errors"] += 1
            return None, ""

    def resync(self):
        if not self.resyncing:
            self.resyncing = self.spawn(self._resync())
        return self.resyncing

    async def _resync(self):
        try:
            while True:
                url = f"{self.world.timeline_url}?after={self.last_seq}"
                response, body = await self.get("resync", url)
                if response is None or response.status != 200:
                    # live.js closes the socket on a failed resync; the reconnect resyncs.
                    return
                at = now()
                seqs = [int(s) for s in SEQ.findall(body)]
                for seq in seqs:
                    self.arrivals.setdefault(seq, at)
                if seqs:
                    self.last_seq = max(self.last_seq, *seqs)
                    panels = response.headers.get("X-Refresh-Panels", "")
                    self.refresh([p.strip() for p in panels.split(",") if p.strip()])
                if not (response.headers.get("X-Timeline-More") == "true" and seqs):
                    return
        finally:
            self.resyncing = None
            self.drain()

    async def settled(self):
        """Until this page has no request in flight."""
        while self.tasks:
            await asyncio.gather(*list(self.tasks), return_exceptions=True)


class World:
    """What one client process shares: the HTTP client (one connection pool, as a browser
    per page would have its own, but cheaper), the room's panel URLs, the counters."""

    def __init__(self, port, incident_id):
        self.base = f"http://127.0.0.1:{port}"
        self.origin = self.base
        self.ws_url = f"ws://127.0.0.1:{port}/ws/incidents/{incident_id}/"
        self.room_url = f"/incidents/{incident_id}/"
        self.stats = Stats()


def client_process(conn, port, incident_id, cookies):
    asyncio.run(_client_main(conn, port, incident_id, cookies))


async def _client_main(conn, port, incident_id, cookies):
    import aiohttp

    world = World(port, incident_id)
    timeout = aiohttp.ClientTimeout(total=30)
    connector = aiohttp.TCPConnector(limit=100)
    async with aiohttp.ClientSession(
        timeout=timeout, connector=connector, cookie_jar=aiohttp.DummyCookieJar()
    ) as world.http:
        async with world.http.get(
            world.base + world.room_url, headers={"Cookie": f"sessionid={cookies[0]}"}
        ) as response:
            page = await response.text()
        world.panel_urls, world.timeline_url, world.start_seq = read_room_page(page)
        watchers = [Watcher(world, cookie) for cookie in cookies]
        started = now()
        # Pages open about together, as after a link shared in a crisis: 10 handshakes at once.
        gate = asyncio.Semaphore(10)

        async def connect(watcher):
            async with gate:
                await watcher.connect()

        await asyncio.gather(*(connect(w) for w in watchers))
        await wait_live(watchers, 120)
        connected = now() - started
        # The resyncs every page makes on connecting are not part of the first phase.
        await asyncio.gather(*(w.settled() for w in watchers))
        world.stats.clear()
        conn.send(("ready", os.getpid(), sorted(world.panel_urls), connected))
        loop = asyncio.get_running_loop()
        while True:
            command, *args = await loop.run_in_executor(None, conn.recv)
            if command == "stop":
                break
            if command == "collect":
                keys, timeout = args
                await wait_for(watchers, keys, timeout)
                found = [{k: w.arrivals[k] for k in keys if k in w.arrivals} for w in watchers]
                world.stats.counts["stuck"] = sum(w.seen > w.last_seq for w in watchers)
                conn.send((found, dict(world.stats.counts)))
                world.stats.clear()
            elif command == "settle":
                # Let the refreshes and resyncs still in flight end before the next phase.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(
                        asyncio.gather(*(w.settled() for w in watchers)), args[0]
                    )
                conn.send((sum(len(w.tasks) for w in watchers), dict(world.stats.counts)))
                world.stats.clear()
            elif command == "drop":
                await asyncio.gather(*(w.drop() for w in watchers))
                conn.send("dropped")
            elif command == "reconnect":
                keys, timeout = args
                await asyncio.gather(*(w.connect() for w in watchers))
                recovered = await wait_for(watchers, keys, timeout, record=True)
                conn.send((recovered, dict(world.stats.counts)))
                world.stats.clear()
        await asyncio.gather(*(w.drop() for w in watchers))
        for watcher in watchers:
            for task in list(watcher.tasks):
                task.cancel()
    conn.send("stopped")


async def wait_live(watchers, timeout):
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(asyncio.gather(*(w.live.wait() for w in watchers if w.ws)), timeout)


async def wait_for(watchers, keys, timeout, record=False):
    """Until every page has every key and no request in flight (or the timeout); with
    `record`, when each page got there (None: never)."""
    deadline = now() + timeout
    done_at: list[float | None] = [None] * len(watchers)
    while now() < deadline:
        for n, w in enumerate(watchers):
            if done_at[n] is None and all(k in w.arrivals for k in keys) and not w.tasks:
                done_at[n] = now()
        if all(d is not None for d in done_at):
            break
        await asyncio.sleep(0.02)
    return done_at if record else None


class Clients:
    """N room pages spread over `procs` processes."""

    def __init__(self, port, incident_id, cookies, procs):
        self.port, self.incident_id, self.cookies = port, incident_id, cookies
        self.procs = max(1, min(procs, len(cookies)))

    def __enter__(self):
        context = multiprocessing.get_context("spawn")
        self.workers = []
        for n in range(self.procs):
            parent, child = context.Pipe()
            share = self.cookies[n :: self.procs]
            process = context.Process(
                target=client_process,
                args=(child, self.port, self.incident_id, share),
                daemon=True,
            )
            process.start()
            self.workers.append((process, parent))
        self.pids, self.connected = [], 0.0
        for _process, conn in self.workers:
            if not conn.poll(300):
                self.__exit__()
                raise RuntimeError("The clients did not connect within 300 s")
            _ready, pid, self.panels, connected = conn.recv()
            self.pids.append(pid)
            # Seconds until the last page of the process was live (processes start together).
            self.connected = max(self.connected, connected)
        return self

    def __exit__(self, *exc):
        for process, conn in self.workers:
            if process.is_alive():
                conn.send(("stop",))
        for process, conn in self.workers:
            if conn.poll(30):
                conn.recv()
            process.join(timeout=10)
            if process.is_alive():
                process.kill()
                process.join(timeout=5)

    def cpu(self) -> float:
        return sum(process_cpu(pid) for pid in self.pids)

    def _ask(self, *command):
        for _process, conn in self.workers:
            conn.send(command)
        return [conn.recv() for _process, conn in self.workers]

    def collect(self, keys, timeout):
        """Arrival times of each key at each client, lost pairs, the clients' requests."""
        arrivals, lost, counts = [], 0, {}
        for found, worker_counts in self._ask("collect", list(keys), timeout):
            for page in found:
                lost += len(keys) - len(page)
                arrivals.append(page)
            add_counts(counts, worker_counts)
        return arrivals, lost, counts

    def settle(self, timeout):
        """Waits until no client has a request in flight: how many still have one, and the
        requests made meanwhile."""
        unsettled, counts = 0, {}
        for left, worker_counts in self._ask("settle", timeout):
            unsettled += left
            add_counts(counts, worker_counts)
        return unsettled, counts

    def drop(self):
        self._ask("drop")

    def reconnect(self, keys, timeout):
        done, counts = [], {}
        for recovered, worker_counts in self._ask("reconnect", list(keys), timeout):
            done += recovered
            add_counts(counts, worker_counts)
        return done, counts


def add_counts(total, more):
    for key, value in more.items():
        total[key] = total.get(key, 0) + value


# --- Writers (this process) -----------------------------------------------------------------


class Poster:
    """Sends writes open-loop: each at its scheduled time, concurrently, whatever the
    previous ones do. Records when each request started, its answer and its seq."""

    def __init__(self, port, incident_id, token):
        self.base = f"http://127.0.0.1:{port}/api/incidents/{incident_id}/"
        self.headers = {"Authorization": f"Token {token}"}

    async def __aenter__(self):
        import aiohttp

        self.http = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=60),
            connector=aiohttp.TCPConnector(limit=0),
            cookie_jar=aiohttp.DummyCookieJar(),
        )
        return self

    async def __aexit__(self, *exc):
        await self.http.close()

    async def write(self, n, panel_every):
        """A note, or every `panel_every`-th a severity change: (start, end, status, seq)."""
        if panel_every and n % panel_every == panel_every - 1:
            method, url, body = "PATCH", self.base, {"severity": 3 - (n // panel_every) % 2}
        else:
            method, url, body = "POST", self.base + "timeline/", {"kind": "note", "text": f"e{n}"}
        start = now()
        try:
            async with self.http.request(method, url, json=body, headers=self.headers) as response:
                text = await response.text()
                status = response.status
        except Exception:  # a refused or reset connection, a timeout: status 0, counted
            return start, now(), 0, None
        seq = None
        if method == "POST" and status == 201:
            seq = json.loads(text).get("seq")
        return start, now(), status, seq

    async def run(self, count, rate, panel_every):
        """`count` writes at `rate` per second (None: all at once)."""
        t0 = now() + 0.05

        async def scheduled(n):
            if rate:
                await asyncio.sleep(max(0.0, t0 + n / rate - now()))
            return await self.write(n, panel_every)

        results = await asyncio.gather(*(scheduled(n) for n in range(count)))
        return t0, results


def sample_html(total_bytes: int) -> dict:
    """Fragments for two languages adding up to about `total_bytes`, in the proportions of a
    real event's (entry, chips, countdown)."""
    part = total_bytes // 2
    return {lang: {"entry": "x" * (part * 3 // 4), "chips": "x" * (part // 10),
                   "countdown": "x" * (part - part * 3 // 4 - part // 10)}
            for lang in ("en", "fr")}  # fmt: skip


async def bare_sends(layer, incident_id, count, rate, html_bytes, tag):
    from incidents.events import event_message, incident_group

    sample = sample_html(html_bytes)
    sent = {}
    t0 = now()
    for n in range(count):
        key = f"{tag}-{n}"
        if rate:
            await asyncio.sleep(max(0.0, t0 + n / rate - now()))
        sent[key] = now()
        await layer.group_send(
            incident_group(incident_id), event_message({"bench_id": key, "html": sample})
        )
    return sent


# --- Phases ---------------------------------------------------------------------------------


def delays_of(arrivals, sent):
    return [(at - sent[key]) * 1000 for page in arrivals for key, at in page.items() if key in sent]


async def bench(args, n_clients, server, layer):
    incident_id, token, cookies = await asyncio.to_thread(make_room, n_clients)
    rows, storm = [], None
    clients = Clients(args.port, incident_id, cookies, args.client_procs)
    await asyncio.to_thread(clients.__enter__)
    try:
        await asyncio.sleep(1)
        # What N open pages cost the server when nothing is written (presence, pings).
        cpu, started = server.cpu(), now()
        await asyncio.sleep(args.idle)
        idle = (server.cpu() - cpu) / (now() - started)
        async with Poster(args.port, incident_id, token) as poster:

            async def bare(count, rate, tag):
                sent = await bare_sends(layer, incident_id, count, rate, args.html_bytes, tag)
                return sent, sent, None

            async def api(count, rate):
                before = await asyncio.to_thread(last_seq, incident_id)
                t0, results = await poster.run(count, rate, args.panel_every)
                sent = {seq: start for start, _end, status, seq in results if seq}
                every = await asyncio.to_thread(seqs_between, incident_id, before)
                return sent, every, (t0, results)

            phases = (
                (f"bare {args.rate:g}/s", lambda: bare(args.steady, args.rate, "steady")),
                (f"API {args.rate:g}/s", lambda: api(args.steady, args.rate)),
                ("bare burst", lambda: bare(args.burst, None, "burst")),
                ("API burst", lambda: api(args.burst, None)),
            )
            for name, phase in phases:
                profiler = start_profiler(args.profile, server, n_clients, name)
                started = now(), server.cpu(), clients.cpu(), machine_busy()
                sent, expected, writes = await phase()
                arrivals, lost, counts = await asyncio.to_thread(
                    clients.collect, expected, args.wait
                )
                stop_profiler(profiler)
                rows.append(row(n_clients, name, sent, arrivals, lost, counts, writes,
                                started, server, clients))  # fmt: skip
                # Requests still in flight finish (and count) before the next phase.
                rows[-1]["unsettled"], late = await asyncio.to_thread(clients.settle, 60)
                add_counts(rows[-1]["counts"], late)
                await asyncio.sleep(1)
            storm = await resync_storm(args, clients, poster, incident_id, n_clients)
            storm["idle"] = idle
            storm["connected"] = clients.connected
    finally:
        await asyncio.to_thread(clients.__exit__)
    for r in rows:
        bare_p99 = rows[0]["p99"] if "/s" in r["path"] else rows[2]["p99"]
        r["ratio"] = r["p99"] / bare_p99 if bare_p99 and bare_p99 > 0 else float("nan")
    return rows, storm


def row(n, name, sent, arrivals, lost, counts, writes, started, server, clients):
    wall = now() - started[0]
    busy, total = (a - b for a, b in zip(machine_busy(), started[3], strict=True))
    p50, p99, top = percentiles(delays_of(arrivals, sent))
    r = {
        "n": n, "path": name, "p50": p50, "p99": p99, "max": top, "lost": lost,
        "wall": wall, "server_cpu": server.cpu() - started[1],
        "clients_cpu": clients.cpu() - started[2],
        "machine": busy / total * 100 if total else 0, "counts": counts,
        "writes": "", "achieved": "", "post": float("nan"), "failed": 0,
    }  # fmt: skip
    if writes:
        t0, results = writes
        done = [(s, e, st) for s, e, st, _seq in results if 200 <= st < 300]
        r["failed"] = len(results) - len(done)
        r["statuses"] = sorted(st for _s, _e, st, _seq in results if not 200 <= st < 300)
        if done:
            r["achieved"] = len(done) / (max(e for _s, e, _st in done) - t0)
            r["post"] = percentiles([(e - s) * 1000 for s, e, _st in done])[0]
        r["writes"] = len(results)
    return r


async def resync_storm(args, clients, poster, incident_id, n_clients):
    """Every page drops its socket, misses --storm-missed entries, then all reconnect at once
    and resync; how long until the last has every entry."""
    await asyncio.to_thread(clients.drop)
    before = await asyncio.to_thread(last_seq, incident_id)
    _t0, results = await poster.run(args.storm_missed, None, 0)
    failed = sorted(status for *_x, status, _seq in results if not 200 <= status < 300)
    missed = await asyncio.to_thread(seqs_between, incident_id, before)
    started = now()
    done, counts = await asyncio.to_thread(clients.reconnect, missed, args.wait)
    recovered = [d - started for d in done if d is not None]
    return {
        "n": n_clients,
        "missed": len(missed),
        "write_failures": failed,  # their statuses (0: no answer)
        "recovered": len(recovered),
        "all": max(recovered) if len(recovered) == len(done) else float("nan"),
        "p50": percentiles(recovered)[0],
        "counts": counts,
    }


def start_profiler(folder, server, n_clients, phase):
    """py-spy sampling each of the server's workers during one phase (collapsed stacks)."""
    if not folder:
        return []
    Path(folder).mkdir(parents=True, exist_ok=True)
    py_spy = Path(sys.executable).with_name("py-spy")
    profilers = []
    for n, pid in enumerate(server.worker_pids()):
        output = Path(folder) / f"{n_clients}-{slug(phase)}-worker{n}.txt"
        profilers.append(subprocess.Popen(  # noqa: S603
            [str(py_spy), "record", "--pid", str(pid), "--format", "raw", "--rate", "250",
             "--output", str(output), "--nonblocking"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        ))  # fmt: skip
    time.sleep(1)  # attached before the phase starts
    return profilers


def stop_profiler(profilers):
    for profiler in profilers:
        profiler.send_signal(signal.SIGINT)
    for profiler in profilers:
        profiler.wait(timeout=60)


# --- Main -----------------------------------------------------------------------------------


async def amain(args, server):
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    results = []
    try:
        for n in args.clients:
            results.append(await bench(args, n, server, layer))
    finally:
        # Closes the layer's Redis connections on this loop, before it ends.
        await layer.flush()
    return results


def report(args, layer_name, results):
    print(
        f"\nFan-out on {os.cpu_count()} cores: {args.workers} uvicorn worker(s) started from the "
        f"Procfile, layer {layer_name}, permessage-deflate {'on' if args.deflate else 'off'}, "
        f"clients in {args.client_procs} process(es), every {args.panel_every or 'no'}-th API "
        "write a severity change.\nDelay in ms from the start of the request (or the bare send) "
        "to arrival at each client; p99/bare against the bare phase of the same pace; "
        "post: median ms of a write; achieved: writes answered per second; GETs: the "
        "clients' panel refreshes + resyncs (and their failures); stuck: pages left behind "
        "an entry they were told of; CPU seconds during the phase."
    )
    columns = ("{:>4} {:<11} {:>7} {:>7} {:>7} {:>5} {:>6} {:>9} {:>6} {:>12} {:>5} {:>14}"
               " {:>6} {:>6} {:>5}")  # fmt: skip
    print(columns.format("N", "path", "p50", "p99", "max", "lost", "p99/b", "writes",
                         "post", "achieved/s", "fail", "GETs", "server", "client",
                         "mach"))  # fmt: skip
    bad = 0
    for rows, _storm in results:
        for r in rows:
            c = r["counts"]
            failed = c.get("5xx", 0) + c.get("errors", 0) + c.get("4xx", 0)
            bad += c.get("5xx", 0) + c.get("errors", 0) + c.get("connect", 0) + r["failed"]
            target = "" if not r["writes"] else (args.rate if "/s" in r["path"] else "all")
            achieved = f"{r['achieved']:.1f}/{target}" if r["achieved"] != "" else ""
            gets = f"{c.get('panel', 0)}+{c.get('resync', 0)}"
            if failed:
                gets += f" (5xx {c.get('5xx', 0)}, 4xx {c.get('4xx', 0)}, "
                gets += f"no answer {c.get('errors', 0)})"
            if c.get("stuck"):
                gets += f" {c['stuck']} stuck"
            if r.get("unsettled"):
                gets += f" {r['unsettled']} unfinished"
            print(columns.format(
                r["n"], r["path"], f"{r['p50']:.0f}", f"{r['p99']:.0f}", f"{r['max']:.0f}",
                r["lost"], f"{r['ratio']:.2f}", r["writes"], f"{r['post']:.0f}", achieved,
                r["failed"], gets, f"{r['server_cpu']:.1f}", f"{r['clients_cpu']:.1f}",
                f"{r['machine']:.0f}%",
            ))  # fmt: skip
    for rows, _storm in results:
        for r in rows:
            if r.get("statuses"):
                print(f"N={r['n']}, {r['path']}: failed writes' statuses (0: no answer): "
                      f"{r['statuses']}")  # fmt: skip
    print("\nResync storm: every page drops its socket, misses entries, then all reconnect "
          "at once and resync (?after=); seconds from the reconnect to the last page having "
          "every entry.")  # fmt: skip
    for _rows, s in results:
        c = s["counts"]
        bad += c.get("5xx", 0) + c.get("errors", 0) + c.get("connect", 0) + len(s["write_failures"])
        print(
            f"N={s['n']}: all pages live {s['connected']:.1f} s after the first connect; "
            f"idle, the server used {s['idle']:.2f} s of CPU per second. "
            f"Storm: {s['missed']} entries missed; {s['recovered']}/{s['n']} pages "
            f"recovered; all in {s['all']:.2f} s (median {s['p50']:.2f} s); GETs: "
            f"{c.get('resync', 0)} resyncs + {c.get('panel', 0)} panels; 5xx {c.get('5xx', 0)}, "
            f"4xx {c.get('4xx', 0)}, connection errors {c.get('errors', 0)}, sockets refused "
            f"{c.get('connect', 0)}; writes failed: {s['write_failures'] or 0} (0: no answer)"
        )
    return bad


def main():
    args = parse_args()
    setup_django(args)
    from django.conf import settings

    layer_name = settings.CHANNEL_LAYERS["default"]["BACKEND"].rsplit(".", 1)[1]
    env = production_env(args.database_url, args.redis_url, DJANGO_SETTINGS_MODULE="bench.settings")
    if args.layer:
        env["BENCH_CHANNEL_LAYER"] = args.layer
    deflate = "--ws-per-message-deflate true" if args.deflate else ""
    with WebServer(args.port, args.workers, env, deflate, log=args.server_log) as server:
        results = asyncio.run(amain(args, server))
    bad = report(args, layer_name, results)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
