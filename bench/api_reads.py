"""API reads benchmark: what one read of the API costs against a bare Django view that
reads the same rows with one raw SELECT and returns them as JSON, in the same process and
run, through the same middleware stack and session authentication.

    .venv/bin/python bench/api_reads.py [--rows 25] [--entries 10000] [--statements 25]
                                        [--repeat 300] [--seconds 60]
                                        [--database-url postgres://.../cc_reads]
                                        [--profile]

Endpoints (each against its bare twin, requests interleaved so that both see the same
load):

- `GET /api/incidents/`: the viewer's --rows open incidents (lead of each, a cell of 4);
  as many again exist that the viewer is not in.
- `GET /api/incidents/<id>/timeline/`: the first page (100 entries) of an incident with
  --entries entries.
- `GET /api/incidents/<id>/statements/`: the --statements statements of one incident.

The bare views (defined here, routed before the project's URLs) check the session's user
and run ONE raw SELECT of the same columns (visibility, the lead or the actor's name
joined in) and answer `JsonResponse(rows)`: the floor of a Django read on this machine.

Both go through django.test.Client (WSGI handler, every middleware, a database session
cookie). Embedded SQLite in a scratch file by default; `--database-url` takes a
PostgreSQL URL whose database is created if missing and migrated (never the dev
database; runs in production mode, DEBUG off). DEBUG is off in both modes, as served.

Prints, per endpoint: median ms per request for the API and the bare view, the ratio
bare/api (goal >= 0.5) and queries per request. `--profile` samples --repeat API
requests of each endpoint with pyinstrument (`pip install -e .[bench]`) and prints the
functions taking the most time (self time) and the call tree. Bounded: each endpoint
stops after --seconds. See docs/benchmarks.md, "API reads".
"""

import argparse
import atexit
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def parse_args():
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=25, help="incidents in the list (<= 50)")
    parser.add_argument("--entries", type=int, default=10_000, help="timeline entries")
    parser.add_argument("--statements", type=int, default=25, help="statements (<= 200)")
    parser.add_argument("--repeat", type=int, default=300, help="requests per endpoint")
    parser.add_argument("--seconds", type=float, default=60, help="time limit per endpoint")
    parser.add_argument(
        "--database-url",
        help="postgres://user@host:port/name (created if missing); default: a scratch SQLite",
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/5")
    parser.add_argument("--profile", action="store_true", help="pyinstrument the API requests")
    parser.add_argument("--tree", action="store_true", help="with --profile, print call trees")
    args = parser.parse_args()
    args.rows = max(1, min(args.rows, 50))
    args.entries = max(100, min(args.entries, 100_000))
    args.statements = max(1, min(args.statements, 200))
    args.repeat = max(5, min(args.repeat, 10_000))
    return args


def configure(args) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "crisiscell.settings"
    os.environ["DEBUG"] = "false"
    os.environ["LOG_LEVEL"] = "WARNING"
    os.environ["ALLOWED_HOSTS"] = "testserver,localhost,127.0.0.1"
    if args.database_url:
        create_database(args.database_url)
        os.environ.update(
            CRISISCELL_MODE="production",
            DATABASE_URL=args.database_url,
            REDIS_URL=args.redis_url,
            SECRET_KEY="bench-" + "x" * 60,
            SECURE_SSL_REDIRECT="false",
            DB_POOL_MAX_SIZE="0",
            DB_CONN_MAX_AGE="60",
        )
    else:
        scratch = tempfile.mkdtemp(prefix="bench-api-reads-")
        atexit.register(shutil.rmtree, scratch, ignore_errors=True)
        os.environ["SQLITE_PATH"] = str(Path(scratch) / "bench.sqlite3")
        os.environ.pop("DATABASE_URL", None)


def create_database(url: str) -> None:
    import psycopg
    from psycopg import sql

    base, _, name = url.rpartition("/")
    if not name or name in {"crisiscell", "postgres"}:
        sys.exit("--database-url must name a scratch database (not the dev database)")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as db:
        if not db.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            db.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


# Seeding -------------------------------------------------------------------------------


def seed(args):
    """The viewer (lead of --rows incidents with a cell of 4), as many incidents the viewer
    is not in, one incident with --entries timeline entries (a valid hash chain, written
    in bulk) and one with --statements statements. Returns (viewer, timeline incident,
    statements incident)."""
    import itertools
    from datetime import timedelta

    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.utils import timezone

    from incidents import actions
    from incidents.models import EntryKind, TimelineEntry
    from statements import actions as statement_actions

    call_command("migrate", verbosity=0)
    users = get_user_model().objects
    stamp = time.time_ns()

    def person(role: str, first: str, last: str):
        return users.create_user(f"reads-{role}-{stamp}", first_name=first, last_name=last)

    viewer = person("lead", "Camille", "Laurent")
    cell = [
        (person("drafter", "Sam", "Moreau"), "drafter"),
        (person("approver", "Inès", "Bernard"), "approver"),
        (person("observer", "Hugo", "Petit"), "observer"),
    ]
    other = person("other", "Paul", "Durand")

    def declare(lead, n):
        return actions.incident_declare(
            actor=lead,
            title=f"Bench incident {n}: a video of the product goes viral",
            summary="A customer's post about a defect is shared widely.",
            category="product",
            origin="online",
            platforms=["x", "tiktok"],
            severity=1 + n % 4,
        )

    incidents = []
    for n in range(args.rows):
        incident = declare(viewer, n)
        for user, role in cell:
            kwargs = {"function": "legal"} if role == "approver" else {}
            actions.member_add(incident=incident, actor=viewer, user=user, role=role, **kwargs)
        incidents.append(incident)
    for n in range(args.rows):
        declare(other, n)

    timeline_incident, statements_incident = incidents[0], incidents[1 % len(incidents)]
    last = TimelineEntry.objects.filter(incident=timeline_incident).order_by("-seq").first()
    seq, prev = last.seq, last.hash
    actors = itertools.cycle([viewer, cell[0][0], cell[1][0], None])
    kinds = itertools.cycle(
        [EntryKind.NOTE, EntryKind.PUBLIC_REACTION, EntryKind.AMPLIFICATION, EntryKind.DECISION]
    )
    start = timezone.now() - timedelta(hours=6)
    batch = []
    for n in range(args.entries - seq):
        seq += 1
        at = start + timedelta(seconds=n)
        entry = TimelineEntry(
            incident=timeline_incident,
            seq=seq,
            kind=next(kinds),
            text=f"Entry {seq}: the post has {seq * 7} shares; a journalist asked for a quote.",
            actor=next(actors),
            occurred_at=at,
            recorded_at=at,
            key_event=seq % 10 == 0,
            data={"shares": seq * 7} if seq % 3 == 0 else {},
            prev_hash=prev,
        )
        entry.hash = prev = entry.compute_hash()
        batch.append(entry)
        if len(batch) == 1000:
            TimelineEntry.objects.bulk_create(batch)
            batch = []
    TimelineEntry.objects.bulk_create(batch)

    for n in range(args.statements):
        statement_actions.statement_create(
            incident=statements_incident,
            actor=cell[0][0],
            kind="holding",
            channel="x" if n % 2 else "press_release",
            language="en",
            title=f"Holding statement {n}",
            text="We are aware of the video and are looking into it. More soon. " * 2,
        )
    # Fresh statistics, as a live database has: without them PostgreSQL plans the first
    # page of 10k just-inserted entries as a sort of all of them (both views, ~12 ms).
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return viewer, timeline_incident, statements_incident


# The bare baseline ---------------------------------------------------------------------

BARE_INCIDENTS = """
SELECT i.id, i.title, i.summary, i.category, i.origin, i.platforms, i.severity, i.status,
       i.detected_at, i.declared_at, i.active_at, i.monitoring_at, i.resolved_at,
       i.closed_at, i.first_response_due_at, i.first_response_at,
       lu.id AS lead_id, lu.username AS lead_username, lu.first_name AS lead_first_name,
       lu.last_name AS lead_last_name, me.role AS my_role
FROM incidents_incident i
JOIN incidents_membership me ON me.incident_id = i.id AND me.user_id = %s AND me.left_at IS NULL
LEFT JOIN incidents_membership lm ON lm.incident_id = i.id AND lm.role = 'lead'
     AND lm.left_at IS NULL
LEFT JOIN auth_user lu ON lu.id = lm.user_id
WHERE i.status IN ('detected', 'active', 'monitoring')
ORDER BY i.declared_at DESC, i.id DESC
LIMIT 50
"""

BARE_TIMELINE = """
SELECT e.seq, e.kind, e.text, e.actor_id, u.username, u.first_name, u.last_name,
       e.occurred_at, e.recorded_at, e.key_event, e.data, e.prev_hash, e.hash
FROM incidents_timelineentry e
LEFT JOIN auth_user u ON u.id = e.actor_id
WHERE e.incident_id = %s AND EXISTS (
    SELECT 1 FROM incidents_membership m
    WHERE m.incident_id = e.incident_id AND m.user_id = %s AND m.left_at IS NULL)
ORDER BY e.seq
LIMIT 101
"""

BARE_STATEMENTS = """
SELECT s.id, s.incident_id, s.kind, s.channel, s.language, s.title, s.reply_to_account,
       s.reply_to_url, s.corrects_id, s.status, s.revision, s.text, s.created_at,
       s.submitted_at, s.approved_at, s.published_at, s.published_url, s.withdrawn_at,
       a.id AS author_id, a.username AS author_username, a.first_name AS author_first_name,
       a.last_name AS author_last_name
FROM statements_statement s
JOIN auth_user a ON a.id = s.author_id
WHERE s.incident_id = %s AND EXISTS (
    SELECT 1 FROM incidents_membership m
    WHERE m.incident_id = s.incident_id AND m.user_id = %s AND m.left_at IS NULL)
ORDER BY s.created_at DESC, s.id DESC
"""


def bare_view(query: str, *, with_pk: bool):
    from django.db import connection
    from django.http import JsonResponse

    def view(request, pk=None):
        if not request.user.is_authenticated:  # the session, as the API's SessionAuthentication
            return JsonResponse({"detail": "sign in"}, status=403)
        params = [pk, request.user.pk] if with_pk else [request.user.pk]
        with connection.cursor() as cursor:
            cursor.execute(query, params)
            names = [column[0] for column in cursor.description]
            rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        return JsonResponse({"results": rows})

    return view


def route_bare_views() -> None:
    from django.urls import clear_url_caches, path

    from crisiscell import urls

    urls.urlpatterns[:0] = [
        path("bench/bare/incidents/", bare_view(BARE_INCIDENTS, with_pk=False)),
        path("bench/bare/timeline/<int:pk>/", bare_view(BARE_TIMELINE, with_pk=True)),
        path("bench/bare/statements/<int:pk>/", bare_view(BARE_STATEMENTS, with_pk=True)),
    ]
    clear_url_caches()


# Measuring -----------------------------------------------------------------------------


def get(client, url: str, rows_key="results"):
    response = client.get(url, HTTP_ACCEPT="application/json")
    if response.status_code != 200:
        raise SystemExit(f"{url}: {response.status_code} {response.content[:300]!r}")
    return response


def count_rows(response) -> int:
    data = response.json()
    return len(data["results"] if isinstance(data, dict) else data)


def queries(client, url: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        get(client, url)
    return len(captured)


def measure(client, api: str, bare: str, args) -> dict:
    for _ in range(5):  # warm: URL resolver, translations, prepared plans
        get(client, api), get(client, bare)
    api_times, bare_times = [], []
    deadline = time.monotonic() + args.seconds
    clock = time.perf_counter
    for _ in range(args.repeat):
        started = clock()
        get(client, api)
        api_times.append(clock() - started)
        started = clock()
        get(client, bare)
        bare_times.append(clock() - started)
        if time.monotonic() > deadline:
            break
    api_ms = statistics.median(api_times) * 1000
    bare_ms = statistics.median(bare_times) * 1000
    return {
        "api_ms": api_ms,
        "bare_ms": bare_ms,
        "ratio": bare_ms / api_ms,
        "api_queries": queries(client, api),
        "bare_queries": queries(client, bare),
        "rows": count_rows(get(client, api)),
        "bare_rows": count_rows(get(client, bare)),
        "bytes": len(get(client, api).content),
        "n": len(api_times),
    }


def profile(client, name: str, url: str, args) -> None:
    try:
        from pyinstrument import Profiler
    except ImportError:
        raise SystemExit("--profile needs pyinstrument: pip install -e .[bench]") from None
    profiler = Profiler(interval=0.0002)
    deadline = time.monotonic() + args.seconds
    profiler.start()
    for _ in range(args.repeat):
        get(client, url)
        if time.monotonic() > deadline:
            break
    profiler.stop()
    print(f"\n=== profile: {name} ({url}) ===")
    flat = profiler.output_text(unicode=True, flat=True, flat_time="self")
    print("\n".join(flat.splitlines()[:40]))
    if args.tree:
        print(profiler.output_text(unicode=True, short_mode=True))


def main():
    args = parse_args()
    configure(args)
    import django

    django.setup()
    from django.db import connection
    from django.test import Client

    started = time.monotonic()
    viewer, timeline_incident, statements_incident = seed(args)
    print(
        f"seeded in {time.monotonic() - started:.1f} s on {connection.vendor}: "
        f"{args.rows} incidents (+{args.rows} not visible), {args.entries} entries, "
        f"{args.statements} statements"
    )
    route_bare_views()
    client = Client()
    client.force_login(viewer)
    endpoints = [
        ("GET /api/incidents/", "/api/incidents/", "/bench/bare/incidents/"),
        (
            "GET timeline first page",
            f"/api/incidents/{timeline_incident.pk}/timeline/",
            f"/bench/bare/timeline/{timeline_incident.pk}/",
        ),
        (
            "GET statements list",
            f"/api/incidents/{statements_incident.pk}/statements/",
            f"/bench/bare/statements/{statements_incident.pk}/",
        ),
    ]
    results = [(name, measure(client, api, bare, args)) for name, api, bare in endpoints]
    print(
        f"\n{'endpoint':28} {'rows':>5} {'KB':>6} {'api ms':>8} {'bare ms':>8} "
        f"{'ratio':>6} {'queries api/bare':>17} {'n':>5}"
    )
    for name, r in results:
        print(
            f"{name:28} {r['rows']:>5} {r['bytes'] / 1024:>6.1f} {r['api_ms']:>8.2f} "
            f"{r['bare_ms']:>8.2f} {r['ratio']:>6.2f} "
            f"{r['api_queries']:>8}/{r['bare_queries']:<8} {r['n']:>5}"
        )
    print("ratio = bare ms / api ms (goal >= 0.5); medians; DEBUG off; same process and run")
    if args.profile:
        for name, api, _bare in endpoints:
            profile(client, name, api, args)


if __name__ == "__main__":
    main()
