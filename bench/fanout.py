"""Fan-out benchmark: how fast does a timeline entry posted through the API reach N
WebSocket clients watching the incident, on the production stack (PostgreSQL + Redis + one
ASGI process), compared with a bare channel_layer.group_send to the same clients?

    .venv/bin/python bench/fanout.py [--server uvicorn|daphne] [--clients 10 50 200]
                                     [--client-procs 2] [--layer pubsub|core]

Needs PostgreSQL (127.0.0.1:5432, user postgres) and Redis (127.0.0.1:6379). Uses its own
database `crisiscell_bench` and Redis database 2. Prints a table; see docs/benchmarks.md.

The WebSocket clients run in `--client-procs` processes of their own, so the posting
threads and the baseline's sender do not share a GIL with them, and the CPU each side used
is printed with the delays: on a small machine the clients compete with the server for the
cores, and the figures only measure the server if the clients keep up.
"""

import argparse
import asyncio
import json
import multiprocessing
import os
import re
import signal
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
    # bench/settings.py: the production settings, with the channel layer of --layer.
    "DJANGO_SETTINGS_MODULE": "bench.settings",
}
TICK = os.sysconf("SC_CLK_TCK")
# Every clock below is CLOCK_MONOTONIC, which all processes of the machine share.
now = time.monotonic


def prepare_database():
    import django
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


def start_server(kind: str, deflate: bool) -> subprocess.Popen:
    python = sys.executable
    if kind == "uvicorn":
        # As in the Procfile: no per-message compression (docs/benchmarks.md).
        cmd = [python, "-m", "uvicorn", "crisiscell.asgi:application", "--port", str(PORT),
               "--host", "127.0.0.1", "--log-level", "warning", "--lifespan", "off",
               "--ws-per-message-deflate", str(deflate).lower()]  # fmt: skip
    else:
        cmd = [python, "-m", "daphne", "-b", "127.0.0.1", "-p", str(PORT),
               "crisiscell.asgi:application"]  # fmt: skip
    server = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ})  # noqa: S603
    deadline = now() + 30
    while now() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{PORT}/accounts/login/", timeout=1)
            return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise RuntimeError(f"{kind} did not start")


def post_entry(incident_id: int, token: str, text: str) -> tuple[int, float, float]:
    """Posts a note; returns its seq, when the response arrived, and how long it took."""
    body = json.dumps({"kind": "note", "text": text}).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{PORT}/api/incidents/{incident_id}/timeline/",
        data=body,
        headers={"Content-Type": "application/json", "Authorization": f"Token {token}"},
        method="POST",
    )
    start = now()
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        seq = json.loads(response.read())["seq"]
    done = now()
    return seq, done, (done - start) * 1000


# --- CPU accounting -----------------------------------------------------------------------


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def machine_busy() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far, every core together."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    return (sum(values) - idle) / TICK, sum(values) / TICK


# --- WebSocket clients, in processes of their own ---------------------------------------

# The key of a message is read from its first bytes, not by decoding all of it: the event
# payload starts with "event", "incident_id", "seq" (events.entry_event), the baseline's
# with "bench_id". Decoding 20,000 payloads of several kB would bill the harness's CPU to
# the server.
KEY = re.compile(r'"(?:seq|bench_id)": ("?)([\w-]+)\1')


def client_process(conn, incident_id: int, cookies: list[str]) -> None:
    asyncio.run(_client_main(conn, incident_id, cookies))


async def _client_main(conn, incident_id, cookies):
    import websockets

    url = f"ws://127.0.0.1:{PORT}/ws/incidents/{incident_id}/"
    arrivals: list[dict] = [{} for _ in cookies]
    sizes: list[int] = []

    async def read(n, ws):
        mine = arrivals[n]
        async for message in ws:
            at = now()
            match = KEY.search(message, 0, 300)
            if match:
                key = match.group(2)
                mine[key if match.group(1) else int(key)] = at
                if n == 0:
                    sizes.append(len(message.encode()))

    sockets = []
    for cookie in cookies:
        sockets.append(
            await websockets.connect(
                url,
                origin=f"http://127.0.0.1:{PORT}",
                additional_headers={"Cookie": f"sessionid={cookie}"},
                max_size=None,
            )
        )
    readers = [asyncio.create_task(read(n, ws)) for n, ws in enumerate(sockets)]
    loop = asyncio.get_running_loop()
    conn.send(("ready", os.getpid()))
    while True:
        command, *args = await loop.run_in_executor(None, conn.recv)
        if command == "stop":
            break
        keys, timeout = args
        deadline = now() + timeout
        while now() < deadline and not all(all(k in a for k in keys) for a in arrivals):
            await asyncio.sleep(0.05)
        found = [{k: a[k] for k in keys if k in a} for a in arrivals]
        conn.send((found, sizes[:]))
        sizes.clear()
    for task in readers:
        task.cancel()
    for ws in sockets:
        await ws.close()
    conn.send("stopped")


class Clients:
    """N WebSocket clients spread over `procs` processes, recording when each event (by seq
    or bench id) arrives, and the CPU those processes use."""

    def __init__(self, incident_id, cookies, procs):
        self.incident_id, self.cookies = incident_id, cookies
        self.procs = max(1, min(procs, len(cookies)))

    def __enter__(self):
        context = multiprocessing.get_context("spawn")
        self.workers = []
        for n in range(self.procs):
            parent, child = context.Pipe()
            share = self.cookies[n :: self.procs]
            process = context.Process(
                target=client_process, args=(child, self.incident_id, share), daemon=True
            )
            process.start()
            self.workers.append((process, parent))
        self.pids = [conn.recv()[1] for _process, conn in self.workers]
        return self

    def __exit__(self, *exc):
        for _process, conn in self.workers:
            conn.send(("stop",))
        for process, conn in self.workers:
            if conn.poll(30):
                conn.recv()
            process.join(timeout=10)
            if process.is_alive():
                process.kill()

    def cpu(self) -> float:
        return sum(process_cpu(pid) for pid in self.pids)

    def collect(self, sent: dict, timeout=10.0):
        """Delays (ms) of every (event, client) pair, lost pairs, and message sizes."""
        for _process, conn in self.workers:
            conn.send(("wait", list(sent), timeout))
        delays, lost, sizes = [], 0, []
        for _process, conn in self.workers:
            found, worker_sizes = conn.recv()
            sizes += worker_sizes
            for arrivals in found:
                lost += len(sent) - len(arrivals)
                delays += [(at - sent[key]) * 1000 for key, at in arrivals.items()]
        return delays, lost, sizes


# --- Phases -------------------------------------------------------------------------------


def run_api(clients, incident_id, token, *, count, rate=None, burst_workers=10):
    """Post `count` entries, at `rate` per second, or all at once with `burst_workers`."""
    with ThreadPoolExecutor(max_workers=1 if rate else burst_workers) as pool:
        futures = []
        start = now()
        for n in range(count):
            futures.append(pool.submit(post_entry, incident_id, token, f"e{n}"))
            if rate:
                time.sleep(max(0.0, start + (n + 1) / rate - now()))
        results = [future.result() for future in futures]
    return (*clients.collect({seq: at for seq, at, _ms in results}), [ms for *_, ms in results])


def run_baseline(clients, incident_id, *, count, html_bytes):
    from channels.layers import get_channel_layer

    from incidents.events import event_message, incident_group

    sample = sample_html(html_bytes)

    async def send_all():
        layer = get_channel_layer()
        sent = {}
        start = now()
        for n in range(count):
            key = f"bare-{n}"
            sent[key] = now()
            message = event_message({"bench_id": key, "html": sample})
            await layer.group_send(incident_group(incident_id), message)
            await asyncio.sleep(max(0.0, start + (n + 1) * 0.02 - now()))
        return sent

    return (*clients.collect(asyncio.run(send_all())), [])


def sample_html(total_bytes: int) -> dict:
    """Fragments for two languages adding up to about `total_bytes`, in the proportions of a
    real event's (entry, chips, countdown)."""
    part = total_bytes // 2
    return {lang: {"entry": "x" * (part * 3 // 4), "chips": "x" * (part // 10),
                   "countdown": "x" * (part - part * 3 // 4 - part // 10)}
            for lang in ("en", "fr")}  # fmt: skip


def start_profiler(folder, pid, n_clients, phase):
    """py-spy sampling the server during one phase (collapsed stacks), with --profile."""
    if not folder:
        return None
    Path(folder).mkdir(parents=True, exist_ok=True)
    name = f"{n_clients}-{re.sub(r'[^a-z0-9]+', '-', phase.lower()).strip('-')}.txt"
    py_spy = Path(sys.executable).with_name("py-spy")
    profiler = subprocess.Popen(  # noqa: S603
        [str(py_spy), "record", "--pid", str(pid), "--format", "raw", "--rate", "250",
         "--output", str(Path(folder) / name), "--nonblocking"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    time.sleep(1)  # attached before the phase starts
    return profiler


def summary(delays: list[float]) -> tuple[float, float, float]:
    if not delays:
        return float("nan"), float("nan"), float("nan")
    ordered = sorted(delays)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return statistics.median(ordered), p99, ordered[-1]


def bench(args, n_clients, server_pid):
    incident_id, token, cookies = make_room(n_clients)
    phases = (
        ("bare group_send", lambda c: run_baseline(c, incident_id, count=args.baseline,
                                                   html_bytes=args.html_bytes)),
        ("API, 20/s", lambda c: run_api(c, incident_id, token, count=args.steady, rate=20)),
        ("API, burst", lambda c: run_api(c, incident_id, token, count=args.burst)),
    )  # fmt: skip
    rows = []
    with Clients(incident_id, cookies, args.client_procs) as clients:
        time.sleep(0.5)
        for name, phase in phases:
            profiler = start_profiler(args.profile, server_pid, n_clients, name)
            before = now(), process_cpu(server_pid), clients.cpu(), machine_busy()
            delays, lost, sizes, posts = phase(clients)
            if profiler:
                profiler.send_signal(signal.SIGINT)
                profiler.wait(timeout=60)
            wall = now() - before[0]
            busy, total = (a - b for a, b in zip(machine_busy(), before[3], strict=True))
            rows.append({
                "n": n_clients, "path": name, "delays": delays, "lost": lost,
                "bytes": statistics.median(sizes) if sizes else 0, "wall": wall,
                "post": statistics.median(posts) if posts else float("nan"),
                "server_cpu": process_cpu(server_pid) - before[1],
                "clients_cpu": clients.cpu() - before[2],
                "machine": busy / total * 100 if total else 0,
            })  # fmt: skip
    base_p99 = summary(rows[0]["delays"])[1]
    for row in rows:
        row["p50"], row["p99"], row["max"] = summary(row["delays"])
        row["ratio"] = row["p99"] / base_p99 if base_p99 else 0
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", choices=["uvicorn", "daphne"], default="uvicorn")
    parser.add_argument("--clients", type=int, nargs="+", default=[10, 50, 200])
    parser.add_argument("--client-procs", type=int, default=2,
                        help="processes the WebSocket clients are spread over")  # fmt: skip
    parser.add_argument("--layer", choices=["pubsub", "core"], default=None,
                        help="channel layer (default: the production settings')")  # fmt: skip
    parser.add_argument("--steady", type=int, default=100, help="entries at 20/s")
    parser.add_argument("--burst", type=int, default=100, help="entries posted at once")
    parser.add_argument("--baseline", type=int, default=100, help="bare group_send events")
    parser.add_argument(
        "--deflate",
        action="store_true",
        help="let uvicorn compress WebSocket messages (permessage-deflate), off in production",
    )
    parser.add_argument(
        "--profile",
        metavar="DIR",
        help="record the server with py-spy during each phase, one file of collapsed stacks "
        "per phase in DIR (needs the bench extra)",
    )
    parser.add_argument(
        "--html-bytes",
        type=int,
        default=2600,
        help="fragment bytes in a baseline event (as big as a real event's)",
    )
    args = parser.parse_args()

    os.environ.update(ENV)
    if args.layer:
        os.environ["BENCH_CHANNEL_LAYER"] = args.layer
    prepare_database()
    from django.conf import settings

    layer = settings.CHANNEL_LAYERS["default"]["BACKEND"].rsplit(".", 1)[1]
    server = start_server(args.server, args.deflate)
    rows = []
    try:
        for n in args.clients:
            rows += bench(args, n, server.pid)
    finally:
        server.terminate()
        server.wait(timeout=10)

    compression = {"uvicorn": "on" if args.deflate else "off"}.get(args.server, "default")
    print(f"\nFan-out on {os.cpu_count()} cores, server: {args.server}, layer: {layer}, "
          f"permessage-deflate: {compression}, "
          f"clients in {args.client_procs} process(es); delay in ms from the API response "
          "(or the bare send) to arrival at each client; post: the API call's median ms; "
          "CPU seconds during the phase")  # fmt: skip
    columns = "{:>5}  {:<16} {:>8} {:>8} {:>8} {:>6} {:>9} {:>6} {:>6} {:>6} {:>7} {:>7} {:>8}"
    print(columns.format("N", "path", "p50", "p99", "max", "lost", "p99/bare", "post", "bytes",
                         "wall", "server", "clients", "machine"))  # fmt: skip
    for r in rows:
        print(columns.format(
            r["n"], r["path"], f"{r['p50']:.1f}", f"{r['p99']:.1f}", f"{r['max']:.1f}",
            r["lost"], f"{r['ratio']:.2f}", f"{r['post']:.1f}", f"{r['bytes']:.0f}",
            f"{r['wall']:.2f}", f"{r['server_cpu']:.2f}", f"{r['clients_cpu']:.2f}",
            f"{r['machine']:.0f}%",
        ))  # fmt: skip


if __name__ == "__main__":
    main()
