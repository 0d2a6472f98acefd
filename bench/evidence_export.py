"""Evidence export benchmark: how long a bundle of many small items takes from the request
to "ready", against a bare ZIP of the same files made in the same run, how long the request
itself takes, and what a timeline POST costs while the export is being built.

    .venv/bin/python bench/evidence_export.py [--items 1000] [--exports 3] [--posts 30]
                                              [--database NAME] [--redis-url URL]

Production mode on loopback: a scratch PostgreSQL database (created if missing, never
dropped), Redis as the broker and channel layer, and one Celery worker process started
here (`--pool solo`), as `make stack` runs it. This process stores the items through the
evidence actions (display copies made inline), then, through the API in-process (token
auth, the whole Django stack):

1. posts --posts timeline notes with no export running (the baseline latency);
2. --exports times: asks for an export of every item (the request's own time), then posts
   notes while the worker builds it, until the export is ready; "request -> ready" is from
   the start of the request to the worker's `finished_at`;
3. zips the same originals (read from storage, stored uncompressed as the bundle stores
   them) into a temporary file, --exports times: the bare baseline;
4. builds one more export in this process, counting its queries (10 items, then all).

Prints medians, the ratio request -> ready / bare zip (goal <= 10), and the same ratio in
CPU seconds (the worker process's, from /proc, against the bare zip's): on a shared machine
the wall-clock ratio moves with the load (a 40 ms zip fits between other processes' turns,
a 500 ms export does not), the CPU ratio much less. Bounded: the worker gets --seconds per
export. Needs Linux, PostgreSQL (user postgres) and Redis.
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1000, help="evidence items to export")
    parser.add_argument(
        "--pixels", type=int, default=32, help="side of each item's noise PNG (32: ~3 KB)"
    )
    parser.add_argument("--exports", type=int, default=3, help="exports measured (median)")
    parser.add_argument("--posts", type=int, default=30, help="baseline timeline POSTs")
    parser.add_argument("--gap", type=float, default=0.02, help="seconds between POSTs")
    parser.add_argument("--seconds", type=float, default=300, help="time limit per export")
    parser.add_argument("--pg-url", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--database", default="crisiscell_bench_export")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/4")
    return parser.parse_args()


def environment(args, media: str) -> dict:
    return {
        **os.environ,
        "CRISISCELL_MODE": "production",
        "DATABASE_URL": f"{args.pg_url}/{args.database}",
        "REDIS_URL": args.redis_url,
        "SECRET_KEY": "bench-" + "x" * 60,
        "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
        "SECURE_SSL_REDIRECT": "false",
        "MEDIA_ROOT": media,
        "LOG_LEVEL": "WARNING",
        "DB_POOL_MAX_SIZE": "0",
        "DB_CONN_MAX_AGE": "0",
        "DJANGO_SETTINGS_MODULE": "crisiscell.settings",
    }


def create_database(args) -> None:
    import psycopg

    with psycopg.connect(f"{args.pg_url}/postgres", autocommit=True) as db:
        found = db.execute("SELECT 1 FROM pg_database WHERE datname = %s", [args.database])
        if not found.fetchone():
            db.execute(
                psycopg.sql.SQL("CREATE DATABASE {}").format(psycopg.sql.Identifier(args.database))
            )


def small_pngs(n: int, side: int):
    """n distinct PNGs of side x side noise (32: ~3 KB each; noise does not compress)."""
    import io

    from PIL import Image

    for _ in range(n):
        out = io.BytesIO()
        Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)).save(out, "PNG")
        yield out.getvalue()


def prepare(args):
    """An incident whose lead and drafter hold tokens, with --items items (thumbnails made
    inline). Returns (incident, lead, lead's token, drafter's token)."""
    from django.contrib.auth import get_user_model
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.core.management import call_command
    from rest_framework.authtoken.models import Token

    from crisiscell.celery import app as celery_app
    from incidents import actions
    from incidents.evidence import actions as evidence_actions

    call_command("migrate", verbosity=0)
    users = get_user_model().objects
    stamp = time.time_ns()
    lead = users.create_user(f"export-bench-lead-{stamp}", first_name="Bench", last_name="Lead")
    drafter = users.create_user(f"export-bench-drafter-{stamp}")
    incident = actions.incident_declare(
        actor=lead,
        title="Export benchmark",
        category="public_statement",
        origin="online",
        platforms=["x"],
        severity=2,
    )
    actions.member_add(incident=incident, actor=lead, user=drafter, role="drafter")
    celery_app.conf.task_always_eager = True  # display copies inline, not in the worker
    try:
        batch = []
        for n, data in enumerate(small_pngs(args.items, args.pixels), start=1):
            batch.append(SimpleUploadedFile(f"shot-{n}.png", data, content_type="image/png"))
            if len(batch) == 100 or n == args.items:
                evidence_actions.evidence_attach(
                    incident=incident, actor=lead, files=batch, metadata={"kind": "post"}
                )
                batch = []
    finally:
        celery_app.conf.task_always_eager = False
    tokens = [Token.objects.create(user=user).key for user in (lead, drafter)]
    return incident, lead, *tokens


def start_worker(env: dict) -> subprocess.Popen:
    command = [
        sys.executable, "-m", "celery", "-A", "crisiscell", "worker", "--pool", "solo",
        "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel", "warning",
    ]  # fmt: skip
    return subprocess.Popen(  # noqa: S603
        command, cwd=ROOT, env=env, start_new_session=True, stdout=subprocess.DEVNULL
    )


def stop(process: subprocess.Popen) -> None:
    import signal

    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)


def client_for(token: str):
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def post_note(client, incident_id: int, text: str) -> float:
    """One timeline POST through the API; its duration in ms."""
    started = time.perf_counter()
    response = client.post(
        f"/api/incidents/{incident_id}/timeline/", {"kind": "note", "text": text}, format="json"
    )
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 201:
        sys.exit(f"timeline POST answered {response.status_code}: {response.content[:200]}")
    return elapsed


def wait_ready(export_id: int, deadline: float, on_wait=None):
    from incidents.evidence.models import EvidenceExport

    while time.monotonic() < deadline:
        export = EvidenceExport.objects.get(pk=export_id)
        if export.status == "ready":
            return export
        if export.status == "failed":
            sys.exit(f"export {export_id} failed: {export.error}")
        if on_wait:
            on_wait()
        else:
            time.sleep(0.02)
    sys.exit(f"export {export_id} was not ready in time (is the worker running?)")


def request_export(client, incident_id: int, items=None) -> tuple[int, float, float]:
    """Ask for an export through the API: (its id, wall-clock start, request ms)."""
    wall = time.time()
    started = time.perf_counter()
    body = {"items": items} if items else {}
    response = client.post(f"/api/incidents/{incident_id}/evidence/export/", body, format="json")
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 202:
        sys.exit(f"export request answered {response.status_code}: {response.content[:200]}")
    return response.json()["id"], wall, elapsed


def bare_zip(items) -> tuple[float, float]:
    """(wall seconds, CPU seconds) to ZIP the originals (stored, as the bundle stores them)
    to a temporary file."""
    started, cpu = time.perf_counter(), time.process_time()
    with tempfile.TemporaryFile() as out, zipfile.ZipFile(out, "w") as archive:
        for item in items:
            with item.file.open("rb") as original, archive.open(f"{item.label}.png", "w") as to:
                shutil.copyfileobj(original, to, 1024 * 1024)
    return time.perf_counter() - started, time.process_time() - cpu


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def queries_of_a_build(incident, lead, items) -> int:
    """Queries of one export's build and record, run in this process (the worker's code)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from incidents.evidence import actions as evidence_actions
    from incidents.evidence.actions import export as export_module

    queue = export_module.queue_task_after_commit
    export_module.queue_task_after_commit = lambda *args: None  # built here, not queued
    try:
        export = evidence_actions.evidence_export_request(
            incident=incident, actor=lead, item_ids=[item.pk for item in items]
        )
    finally:
        export_module.queue_task_after_commit = queue
    with CaptureQueriesContext(connection) as queries:
        evidence_actions.evidence_export_build(export_id=export.pk)
    return len(queries)


def ms(values) -> str:
    return f"{statistics.median(values):7.1f} ms" if values else "      —"


def main():
    args = parse_args()
    media = tempfile.mkdtemp(prefix="crisiscell-bench-export-")
    env = environment(args, media)
    os.environ.update(env)
    create_database(args)
    import django

    django.setup()
    from crisiscell.celery import app as celery_app
    from incidents.evidence.models import EvidenceItem

    worker = None
    try:
        print(f"Storing {args.items} items…", flush=True)
        incident, lead, lead_token, drafter_token = prepare(args)
        celery_app.control.purge()  # messages left by an earlier run
        worker = start_worker(env)
        lead_api, drafter_api = client_for(lead_token), client_for(drafter_token)
        items = list(EvidenceItem.objects.filter(incident=incident).order_by("number"))
        sizes = sum(item.size for item in items)

        # Warm-up: the worker starts, imports, renders once (not measured).
        warm, _wall, _ms = request_export(lead_api, incident.pk, items=[items[0].pk])
        wait_ready(warm, time.monotonic() + 120)

        baseline = []
        for n in range(args.posts):
            baseline.append(post_note(drafter_api, incident.pk, f"Baseline {n}"))
            time.sleep(args.gap)

        requests, totals, waits, builds, during, worker_cpu = [], [], [], [], [], []
        for run in range(args.exports):
            cpu_before = cpu_seconds(worker.pid)
            export_id, wall, request_ms = request_export(lead_api, incident.pk)
            requests.append(request_ms)
            posted = []

            def post_meanwhile(posted=posted, run=run):
                posted.append(post_note(drafter_api, incident.pk, f"During export {run}"))
                time.sleep(args.gap)

            export = wait_ready(export_id, time.monotonic() + args.seconds, post_meanwhile)
            worker_cpu.append(cpu_seconds(worker.pid) - cpu_before)
            # POSTs answered after the export was ready do not count as "during".
            finished = export.finished_at.timestamp()
            totals.append(finished - wall)
            waits.append((export.snapshot_at - export.requested_at).total_seconds())
            builds.append((export.finished_at - export.snapshot_at).total_seconds())
            during.extend(posted[:-1] if len(posted) > 1 else posted)
        zips = [bare_zip(items) for _ in range(args.exports)]
        zip_cpu = statistics.median(cpu for _wall, cpu in zips)
        zips = [zip_wall for zip_wall, _cpu in zips]
        stop(worker)
        worker = None

        few = queries_of_a_build(incident, lead, items[:10])
        every = queries_of_a_build(incident, lead, items)
    finally:
        if worker is not None:
            stop(worker)
        shutil.rmtree(media, ignore_errors=True)

    total, bare = statistics.median(totals), statistics.median(zips)
    print()
    print(f"items: {len(items)}, {sizes / 1e6:.1f} MB of originals, {os.cpu_count()} CPUs")
    print(f"bundle: {export.size / 1e6:.1f} MB")
    print(f"exports measured: {args.exports} (medians below)")
    print(f"request (POST /export/, 202):       {ms(requests)}")
    print(f"request -> ready:                   {total * 1000:7.0f} ms")
    print(f"  of which waiting for the worker:  {statistics.median(waits) * 1000:7.0f} ms")
    print(f"  of which build and record:        {statistics.median(builds) * 1000:7.0f} ms")
    print(f"bare zip of the same files:         {bare * 1000:7.0f} ms")
    print(f"ratio request -> ready / bare zip:  {total / bare:7.1f}   (goal <= 10)")
    export_cpu = statistics.median(worker_cpu)
    print(f"worker CPU for the export:          {export_cpu * 1000:7.0f} ms")
    print(f"CPU of the bare zip:                {zip_cpu * 1000:7.0f} ms")
    print(f"ratio of CPU, worker / bare zip:    {export_cpu / max(zip_cpu, 1e-3):7.1f}")
    print(f"timeline POST, no export:           {ms(baseline)}  (max {max(baseline):.1f} ms)")
    if during:
        print(
            f"timeline POST, during the export:   {ms(during)}  (max {max(during):.1f} ms, "
            f"{len(during)} posts)"
        )
    print(f"worker queries, 10 items / {len(items)} items: {few} / {every}")


if __name__ == "__main__":
    main()
