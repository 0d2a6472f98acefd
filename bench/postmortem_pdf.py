"""Post-mortem PDF export at scale: the PDF of an incident with many timeline entries,
against the same export of an incident with few, in the same process and run.

    .venv/bin/python bench/postmortem_pdf.py [--entries 10000] [--baseline 100]
                                             [--key-every 50] [--repeats 5]
                                             [--database-url URL] [--redis-url URL]

Seeds two incidents with the same cell (bench/room.py's): --baseline and --entries
timeline entries (inserted in bulk, hash-chained and checkpointed as the actions would;
one in --key-every is a key event, `--key-every 1` makes every entry one), resolved, each
with its post-mortem started by the lead. Then, with the Django test client (the whole
middleware stack, the lead signed in), for the baseline then the loaded one: a warm-up
request, one under tracemalloc (the peak of Python allocations during the request;
WeasyPrint's own C allocations, Pango's, are not in it) and the process's peak resident
size (ru_maxrss) after it, the baseline's first since it only grows. Then fetches
`/incidents/<id>/postmortem/export.pdf` alternately for both, --repeats times: time from
the request's start to the PDF's last byte. Prints the medians, the pages (pypdf), the
size and the queries of both, and the ratios.

Production mode by default (PostgreSQL + Redis, a scratch database created if missing and
never dropped: each run adds its own incidents); `--database-url sqlite:////tmp/x.sqlite3`
runs it embedded instead. Needs WeasyPrint's system libraries (Pango) and pypdf.
"""

import argparse
import io
import logging
import os
import resource
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from room import add_entries, create_database, environment, staffed_incident  # noqa: E402


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=10_000, help="entries of the big one")
    parser.add_argument("--baseline", type=int, default=100, help="entries of the baseline")
    parser.add_argument("--key-every", type=int, default=50, help="one key event in N")
    parser.add_argument("--repeats", type=int, default=5, help="requests per export (median)")
    parser.add_argument(
        "--printed",
        type=int,
        default=None,
        help="key events the PDF lists (default: the app's PRINTED_KEY_EVENTS; 1000 lists "
        "all the report holds, as before the PDF was summarised)",
    )
    parser.add_argument("--seconds", type=float, default=600, help="time limit for measuring")
    parser.add_argument(
        "--database-url",
        default="postgres://postgres@127.0.0.1:5432/crisiscell_bench_postmortem",
        help="PostgreSQL (created if missing), or sqlite:////path for the embedded mode",
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/9")
    return parser.parse_args()


def seed(args):
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from incidents import actions
    from incidents.postmortems import actions as postmortem_actions

    call_command("migrate", verbosity=0)
    if os.environ["CRISISCELL_MODE"] == "production":  # the manifest the pages link through
        call_command("collectstatic", verbosity=0, interactive=False)
    stamp = time.time_ns()
    names = ("lead", "drafter", "approver", "approver2", "spokesperson", "observer")
    users = {
        name: get_user_model().objects.create_user(
            f"pm-{name}-{stamp}", first_name=name.title(), last_name="Bench"
        )
        for name in names
    }
    incidents = {}
    for label, count in (("baseline", args.baseline), ("loaded", args.entries)):
        incident = staffed_incident(users, f"Post-mortem benchmark: {count} entries")
        add_entries(incident, users, count, key_every=args.key_every)
        for status in ("active", "resolved"):
            actions.incident_transition(incident=incident, actor=users["lead"], status=status)
        postmortem_actions.postmortem_create(incident=incident, actor=users["lead"])
        incidents[label] = incident
    return users["lead"], incidents


def fetch(client, url: str):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        started = time.perf_counter()
        response = client.get(url)
        body = b"".join(response) if response.streaming else response.content
        elapsed = (time.perf_counter() - started) * 1000
    assert response.status_code == 200, (url, response.status_code)
    assert response["Content-Type"] == "application/pdf", response["Content-Type"]
    return elapsed, body, len(captured.captured_queries)


def main():
    args = parse_args()
    os.environ.update(environment(args))
    create_database(args.database_url)
    import django

    django.setup()
    from django.test import Client
    from pypdf import PdfReader

    from incidents.postmortems import views

    logging.getLogger("weasyprint").setLevel(logging.ERROR)  # CSS it ignores, every time
    if args.printed is not None:
        views.PRINTED_KEY_EVENTS = args.printed
    print(f"Seeding {args.baseline} and {args.entries} entries…", flush=True)
    lead, incidents = seed(args)
    client = Client()
    client.force_login(lead)
    urls = {
        label: f"/incidents/{incident.pk}/postmortem/export.pdf"
        for label, incident in incidents.items()
    }
    peaks, rss = {}, {}
    for label, url in urls.items():  # the baseline first: ru_maxrss only grows
        fetch(client, url)  # warm-up: imports, fonts, templates
        tracemalloc.start()
        tracemalloc.reset_peak()
        fetch(client, url)
        peaks[label] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        rss[label] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KB on Linux
    times = {label: [] for label in urls}
    sizes, queries, pages = {}, {}, {}
    deadline = time.monotonic() + args.seconds
    for _ in range(args.repeats):
        for label, url in urls.items():
            elapsed, body, count = fetch(client, url)
            times[label].append(elapsed)
            sizes[label], queries[label] = len(body), count
            pages[label] = len(PdfReader(io.BytesIO(body)).pages)
        if time.monotonic() > deadline:
            break
    key = incidents["loaded"].timeline.filter(key_event=True).count()
    print(
        f"\nPost-mortem PDF, {os.environ['CRISISCELL_MODE']} mode, {os.cpu_count()} CPUs; "
        f"median of {len(times['loaded'])} requests each, in-process (test client, all "
        f"middleware), lead; one key event in {args.key_every} ({key} in the loaded one), "
        f"the PDF lists {views.PRINTED_KEY_EVENTS} at most"
    )
    header = (
        f"{'export':<10} {'entries':>8} {'time':>10} {'pages':>6} {'size':>9} {'queries':>8} "
        f"{'py peak':>9} {'max RSS':>9}"
    )
    print(header)
    print("-" * len(header))
    for label, count in (("baseline", args.baseline), ("loaded", args.entries)):
        print(
            f"{label:<10} {count:>8} {statistics.median(times[label]):7.0f} ms "
            f"{pages[label]:>6} {sizes[label] / 1024:6.1f} KB {queries[label]:>8} "
            f"{peaks[label] / 2**20:6.1f} MB {rss[label] / 1024:6.0f} MB"
        )
    ratio = statistics.median(times["loaded"]) / statistics.median(times["baseline"])
    print(
        f"\nratio loaded / baseline: time {ratio:.2f}x, pages "
        f"{pages['loaded'] / pages['baseline']:.2f}x, Python peak "
        f"{peaks['loaded'] / peaks['baseline']:.2f}x; queries {queries['baseline']} vs "
        f"{queries['loaded']}"
    )


if __name__ == "__main__":
    main()
