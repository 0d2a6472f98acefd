"""Incident room at scale: the room page of an incident with many timeline entries and
statements, against the same room empty, in the same process and run.

    .venv/bin/python bench/room.py [--entries 10000] [--statements 200] [--repeats 15]
                                   [--database-url URL] [--redis-url URL] [--profile]

Seeds two incidents with the same cell (a lead, a drafter, two approvers, a spokesperson,
an observer): one empty (just declared and staffed), one with --statements statements
brought through the real actions to a mix of states (a tenth drafts, a tenth in review, a
tenth approved, a tenth withdrawn, the rest published) and --entries timeline notes
(inserted in bulk, hash-chained and checkpointed as the actions would). Then, with the
Django test client (the whole middleware stack, the lead signed in), fetches alternately
the empty and the loaded room --repeats times, and likewise the statements panel's live
re-fetch and the statements API's first page. Prints, for each, the median time, the
response size and the query count of both incidents, and the ratios (goal for the room:
loaded <= 2x empty in time, <= 100 KB).

Production mode by default (PostgreSQL + Redis, a scratch database created if missing and
never dropped: each run adds its own incidents); `--database-url sqlite:////tmp/x.sqlite3`
runs it embedded instead. `--profile` samples the loaded room's requests with pyinstrument
(pip install '.[bench]') and prints where the time goes. Bounded: measuring stops after
--seconds even if fewer repeats were made.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

KINDS = ("note", "key_event", "public_reaction", "amplification", "decision")


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=10_000, help="timeline entries seeded")
    parser.add_argument("--statements", type=int, default=200, help="statements seeded")
    parser.add_argument("--repeats", type=int, default=15, help="requests per page (median)")
    parser.add_argument("--seconds", type=float, default=120, help="time limit for measuring")
    parser.add_argument(
        "--database-url",
        default="postgres://postgres@127.0.0.1:5432/crisiscell_bench_room",
        help="PostgreSQL (created if missing), or sqlite:////path for the embedded mode",
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/8")
    parser.add_argument(
        "--profile", action="store_true", help="pyinstrument profile of the loaded room"
    )
    return parser.parse_args()


def environment(args) -> dict:
    env = {
        "SECRET_KEY": "bench-" + "x" * 60,
        "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
        "SECURE_SSL_REDIRECT": "false",
        "LOG_LEVEL": "WARNING",
        "DB_CONN_MAX_AGE": "0",
        "DB_POOL_MAX_SIZE": "0",
        "DJANGO_SETTINGS_MODULE": "crisiscell.settings",
        # Notices and reminders the seeding causes run inline (nobody has an address).
        "CELERY_TASK_ALWAYS_EAGER": "true",
    }
    if args.database_url.startswith("sqlite:"):
        env.update(CRISISCELL_MODE="embedded", SQLITE_PATH=args.database_url.split(":///", 1)[1])
    else:
        env.update(
            CRISISCELL_MODE="production", DATABASE_URL=args.database_url, REDIS_URL=args.redis_url
        )
    return env


def create_database(url: str) -> None:
    if url.startswith("sqlite:"):
        return
    import psycopg
    from psycopg import sql

    server, name = url.rsplit("/", 1)
    with psycopg.connect(f"{server}/postgres", autocommit=True) as db:
        if not db.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            db.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def staffed_incident(users, title: str):
    from incidents import actions

    lead = users["lead"]
    incident = actions.incident_declare(
        actor=lead,
        title=title,
        category="public_statement",
        origin="online",
        platforms=["x", "instagram"],
        severity=2,
    )
    for name, role, function in [
        ("drafter", "drafter", ""),
        ("approver", "approver", "other"),
        ("approver2", "approver", "other"),
        ("spokesperson", "spokesperson", ""),
        ("observer", "observer", ""),
    ]:
        actions.member_add(
            incident=incident, actor=lead, user=users[name], role=role, function=function
        )
    return incident


def add_statements(incident, users, count: int) -> None:
    """`count` statements through the actions: a tenth each drafts, in review, approved
    and withdrawn, the rest published (a long crisis answers many posts)."""
    from statements import actions

    drafter, approver = users["drafter"], users["approver"]
    for n in range(count):
        text = (
            f"Reply {n}: we are aware of the post and are looking into it with the team "
            "concerned. We will share what we learn here as soon as we can."
        )
        statement = actions.statement_create(
            incident=incident,
            actor=drafter,
            kind="reply",
            channel="x",
            language="en",
            text=text,
            reply_to_account=f"@someone{n}",
        )
        state = n % 10
        if state == 0:
            continue
        if state == 3:
            actions.statement_withdraw(statement=statement, actor=drafter)
            continue
        statement = actions.statement_submit(statement=statement, actor=drafter)
        if state == 1:
            continue
        statement = actions.statement_approve(
            statement=statement, actor=approver, revision=statement.revision
        )
        if state == 2:
            continue
        actions.statement_publish(
            statement=statement, actor=users["spokesperson"], url=f"https://x.com/brand/{n}"
        )


def add_entries(incident, users, count: int, *, key_every: int = 50) -> None:
    """`count` notes after the last entry, chained and checkpointed as the actions do, in
    bulk (a few seconds for 10,000 instead of minutes); one in `key_every` a key event."""
    from django.db import transaction
    from django.utils import timezone

    from incidents import chains
    from incidents.models import ChainCheckpoint, TimelineEntry

    authors = [users[name] for name in ("lead", "drafter", "approver", "spokesperson")]
    with transaction.atomic():
        last = TimelineEntry.objects.filter(incident=incident).order_by("-seq").first()
        seq, prev = last.seq, last.hash
        now = timezone.now()
        rows = []
        for n in range(count):
            seq += 1
            entry = TimelineEntry(
                incident=incident,
                seq=seq,
                kind=KINDS[n % len(KINDS)],
                text=f"Observation {n}: the post was shared again by an account with "
                "many followers; replies are mostly critical, a few defend the brand.",
                actor=authors[n % len(authors)],
                occurred_at=now,
                recorded_at=now,
                key_event=n % key_every == 0,
                prev_hash=prev,
            )
            entry.hash = prev = entry.compute_hash()
            rows.append(entry)
        TimelineEntry.objects.bulk_create(rows, batch_size=1000)
        chain = chains.chain_name(chains.TIMELINE, incident.pk)
        ChainCheckpoint.objects.filter(chain=chain).update(
            count=seq, head=prev, signature=chains.sign(chain, seq, prev), signed_at=now
        )


def seed(args):
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    call_command("migrate", verbosity=0)  # also makes the stock policies
    if os.environ["CRISISCELL_MODE"] == "production":  # the manifest the pages link through
        call_command("collectstatic", verbosity=0, interactive=False)
    stamp = time.time_ns()
    names = ("lead", "drafter", "approver", "approver2", "spokesperson", "observer")
    users = {
        name: get_user_model().objects.create_user(
            f"room-{name}-{stamp}", first_name=name.title(), last_name="Bench"
        )
        for name in names
    }
    empty = staffed_incident(users, "Room benchmark: empty")
    loaded = staffed_incident(users, "Room benchmark: loaded")
    started = time.monotonic()
    add_statements(loaded, users, args.statements)
    add_entries(loaded, users, args.entries)
    print(f"Seeded in {time.monotonic() - started:.0f} s.", flush=True)
    return users["lead"], empty, loaded


def measure(client, urls: dict, repeats: int, deadline: float) -> dict:
    """{label: (median ms, bytes, queries)}, fetching the urls in turn `repeats` times
    after one warm-up each, so noise falls on all of them alike."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    times = {label: [] for label in urls}
    sizes, queries = {}, {}
    for url in urls.values():
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
    for _ in range(repeats):
        for label, url in urls.items():
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                response = client.get(url)
                times[label].append((time.perf_counter() - started) * 1000)
            sizes[label] = len(response.content)
            queries[label] = len(captured.captured_queries)
        if time.monotonic() > deadline:
            break
    return {key: (statistics.median(times[key]), sizes[key], queries[key]) for key in urls}


def profile(client, url: str, repeats: int) -> None:
    try:
        from pyinstrument import Profiler
    except ImportError:
        sys.exit("--profile needs pyinstrument: .venv/bin/pip install '.[bench]'")
    profiler = Profiler(interval=0.0005)
    with profiler:
        for _ in range(repeats):
            client.get(url)
    print(profiler.output_text(unicode=True, color=False, show_all=False))


def main():
    args = parse_args()
    os.environ.update(environment(args))
    create_database(args.database_url)
    import django

    django.setup()
    from django.test import Client

    print(f"Seeding {args.entries} entries and {args.statements} statements…", flush=True)
    lead, empty, loaded = seed(args)
    client = Client()
    client.force_login(lead)
    pages = {
        "room": "/incidents/{}/",
        "statements panel": "/incidents/{}/statements/",
        "statements API": "/api/incidents/{}/statements/",
    }
    urls = {}
    for page, url in pages.items():
        urls[(page, "empty")] = url.format(empty.pk)
        urls[(page, "loaded")] = url.format(loaded.pk)
    results = measure(client, urls, args.repeats, time.monotonic() + args.seconds)
    print(
        f"\n{args.entries} entries, {args.statements} statements; median of up to "
        f"{args.repeats} requests each, in-process (test client, all middleware), lead"
    )
    header = f"{'page':<18} {'empty':>24} {'loaded':>24} {'time x':>7} {'size x':>7}"
    print(header)
    print("-" * len(header))
    for page in pages:
        e_ms, e_bytes, e_queries = results[(page, "empty")]
        l_ms, l_bytes, l_queries = results[(page, "loaded")]
        print(
            f"{page:<18} {e_ms:7.1f} ms {e_bytes / 1024:6.1f} KB {e_queries:3d} q "
            f"{l_ms:7.1f} ms {l_bytes / 1024:6.1f} KB {l_queries:3d} q "
            f"{l_ms / e_ms:6.2f}x {l_bytes / e_bytes:6.2f}x"
        )
    room_ms, room_bytes, _ = results[("room", "loaded")]
    ratio = room_ms / results[("room", "empty")][0]
    print(
        f"\nGoal (room): <= 2x the empty room's time ({ratio:.2f}x: "
        f"{'met' if ratio <= 2 else 'NOT met'}), <= 100 KB ({room_bytes / 1024:.1f} KB: "
        f"{'met' if room_bytes <= 100 * 1024 else 'NOT met'})"
    )
    if args.profile:
        print("\nProfile of the loaded room:")
        profile(client, urls[("room", "loaded")], args.repeats)


if __name__ == "__main__":
    main()
