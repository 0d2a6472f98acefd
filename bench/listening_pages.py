"""Listening pages benchmark: what the Listening page, the mentions API and the incident
room's mentions cost with a million mentions in PostgreSQL, against the same requests on a
thousand (the same-run baseline), with their query counts and the indexes their plans use.

    .venv/bin/python bench/listening_pages.py [--count 1000000] [--small 1000]
                                              [--repeat 15] [--database crisiscell_bench_pages]

Production mode on loopback: a scratch PostgreSQL database (created if missing, never
dropped; its mentions are replaced before each phase). The mentions are written by COPY,
not through the ingest (bench/listening_ingest.py measures that): seeded French and
English posts over the last 60 days, spread over platforms (Bluesky 40 %, X 25 %,
Mastodon 15 %, Instagram 8 %, Facebook 5 %, press 4 %, TikTok 3 %), languages (fr 55 %, en
35 %, none 10 %), tones (negative 20 %, positive 25 %, neutral 45 %, unknown 10 %) and reach
(Pareto followers); three watches: the brand's (60 % of the posts), its product's (30 %)
and a rare topic's (0.5 %); one incident with 2,000 of them attached.

Each request goes through django.test.Client (every middleware, a session), signed in as a
listening reader who may edit watches and leads the incident, --repeat times after one
warm-up; prints the median milliseconds at --small and at --count mentions, their ratio,
the queries per request (a bounded number whatever the data: a search reads more chunks
of posts when fewer match) and the indexes the plan of the request's slowest query uses
(EXPLAIN). The Listening page's chart band is cached a minute (selectors.baseline_band):
the warm-up computes it, the timed requests read it, as a page's live refreshes do; the
"chart band" line times its computation alone. See docs/benchmarks.md, "Listening
pages with a million mentions".
"""

import argparse
import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from listening_ingest import setup_django  # noqa: E402 -- bench/ is the script's folder

PLATFORMS = [
    ("bluesky", 40),
    ("x", 25),
    ("mastodon", 15),
    ("instagram", 8),
    ("facebook", 5),
    ("press", 4),
    ("tiktok", 3),
]
LANGUAGES = [("fr", 55), ("en", 35), ("", 10)]
TONES = [("negative", 20), ("positive", 25), ("neutral", 45), ("unknown", 10)]
WORDS_FR = [
    "livraison",
    "colis",
    "commande",
    "magasin",
    "service",
    "client",
    "remboursement",
    "produit",
    "couvercle",
    "prix",
    "qualité",
    "retard",
    "merci",
    "bravo",
    "honte",
    "arnaque",
    "réponse",
    "boutique",
    "équipe",
    "nouveau",
]
WORDS_EN = [
    "delivery",
    "parcel",
    "order",
    "store",
    "customer",
    "service",
    "refund",
    "product",
    "lid",
    "price",
    "quality",
    "late",
    "thanks",
    "great",
    "shame",
    "scam",
    "answer",
    "shop",
    "team",
    "new",
]
DAYS = 60


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1_000_000, help="mentions, big phase")
    parser.add_argument("--small", type=int, default=1_000, help="mentions, baseline phase")
    parser.add_argument("--repeat", type=int, default=15, help="requests per endpoint")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--pg-url", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--database", default="crisiscell_bench_pages")
    return parser.parse_args()


def _weighted(rng, pairs):
    values, weights = zip(*pairs, strict=True)
    return rng.choices(values, weights=weights)[0]


def people():
    """The reader (listening permissions, lead of the incident) and the incident."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Permission

    from incidents import actions as incident_actions
    from incidents.models import Incident

    user, _created = get_user_model().objects.get_or_create(username="bench-reader")
    user.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label="listening",
            codename__in=["view_mention", "view_watch", "change_watch"],
        )
    )
    user = get_user_model().objects.get(pk=user.pk)  # its permissions read afresh
    incident = Incident.objects.filter(title="Bench: lids cracking").first()
    if incident is None:
        incident = incident_actions.incident_declare(
            actor=user,
            title="Bench: lids cracking",
            summary="",
            category="product",
            origin="online",
            platforms=["x"],
            severity=3,
        )
    return user, incident


def watches(user):
    from incidents.listening import actions
    from incidents.listening.models import Watch

    found = []
    for name in ("Brand", "Product", "Rare topic"):
        watch = Watch.objects.filter(name=name).first() or actions.watch_create(
            actor=user, name=name, brand="Maison Lumière", keywords=[name.lower()]
        )
        found.append(watch)
    return found


def fill(count: int, seed: int, watch_ids, incident_id: int) -> float:
    """Replace the mentions with `count` generated ones (and their matches) by COPY; the
    seconds it took. Ids are 1..count (identity restarted), newest last."""
    from django.db import connection, transaction

    rng = random.Random(seed)
    now = datetime.now(UTC)
    start = now - timedelta(days=DAYS)
    step = (now - start) / count
    attached = set(rng.sample(range(1, count + 1), min(2_000, count)))
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE listening_mentionmatch, listening_signal, listening_mention "
            "RESTART IDENTITY CASCADE"
        )
        raw = connection.connection
        matches = []
        columns = (
            "platform, external_id, url, author_handle, author_name, author_url, "
            "author_followers, text, language, posted_at, collected_at, likes, reposts, "
            "replies, in_reply_to, reply_to_brand, sentiment_score, sentiment, source, incident_id"
        )
        with raw.cursor().copy(f"COPY listening_mention ({columns}) FROM STDIN") as copy:
            for i in range(1, count + 1):
                language = _weighted(rng, LANGUAGES)
                words = WORDS_EN if language == "en" else WORDS_FR
                text = "Maison Lumière " + " ".join(rng.choices(words, k=rng.randint(8, 30)))
                tone = _weighted(rng, TONES)
                posted = start + step * i
                copy.write_row(
                    (
                        _weighted(rng, PLATFORMS),
                        f"bench-{i}",
                        f"https://example.com/p/{i}",
                        f"user{rng.randint(1, count // 4 + 1)}",
                        "",
                        "",
                        int(rng.paretovariate(1.2) * 50),
                        text,
                        language,
                        posted,
                        posted,
                        rng.randint(0, 50),
                        rng.randint(0, 10),
                        rng.randint(0, 5),
                        "",
                        False,
                        None if tone == "unknown" else rng.uniform(-1, 1),
                        tone,
                        "import",
                        incident_id if i in attached else None,
                    )
                )
                roll = rng.random()
                for watch_id, share in zip(watch_ids, (0.6, 0.3, 0.005), strict=True):
                    if roll < share:
                        matches.append((i, watch_id, posted, tone))
        with raw.cursor().copy(
            "COPY listening_mentionmatch (mention_id, watch_id, posted_at, sentiment) FROM STDIN"
        ) as copy:
            for row in matches:
                copy.write_row(row)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE listening_mention")
        cursor.execute("ANALYZE listening_mentionmatch")
    return time.perf_counter() - started


def requests(watch_ids, incident_id):
    """(label, path, params) of each request measured."""
    brand, _product, rare = watch_ids
    month_ago = (datetime.now(UTC) - timedelta(days=30)).date().isoformat()
    return [
        ("Listening page", "/listening/", {}),
        ("  brand's watch (60 %)", "/listening/", {"watch": brand}),
        ("  rare watch (0.5 %)", "/listening/", {"watch": rare}),
        ("  TikTok (3 %)", "/listening/", {"platform": "tiktok"}),
        ("  negative, English", "/listening/", {"sentiment": "negative", "language": "en"}),
        ("  reach >= 10,000", "/listening/", {"min_followers": 10_000}),
        ("  posted up to a month ago", "/listening/", {"until": month_ago}),
        ("  search, a common word", "/listening/", {"q": "remboursement"}),
        ("  search, a word in no post", "/listening/", {"q": "fromage"}),
        ("GET /api/mentions/", "/api/mentions/", {}),
        ("  watch=rare", "/api/mentions/", {"watch": rare}),
        ("  platform=tiktok", "/api/mentions/", {"platform": "tiktok"}),
        ("  min_followers=10000", "/api/mentions/", {"min_followers": 10_000}),
        ("  q=remboursement", "/api/mentions/", {"q": "remboursement"}),
        ("Incident room", f"/incidents/{incident_id}/", {}),
        (
            "  its mentions panel, negative",
            f"/incidents/{incident_id}/mentions/",
            {"mentions_sentiment": "negative"},
        ),
        ("GET /api/incidents/{id}/mentions/", f"/api/incidents/{incident_id}/mentions/", {}),
    ]


def measure(client, path, params, repeat):
    """(median ms, queries, plan's indexes of the slowest query)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    response = client.get(path, params)  # warm-up
    assert response.status_code == 200, (path, params, response.status_code)
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(path, params)
        timings.append((time.perf_counter() - started) * 1000)
    with CaptureQueriesContext(connection) as queries:
        client.get(path, params)
    slowest = max(queries.captured_queries, key=lambda q: float(q["time"]))
    return statistics.median(timings), len(queries), _indexes(slowest["sql"])


def _indexes(sql: str) -> str:
    """The indexes (or sequential scans) in the plan of `sql`, as EXPLAIN names them."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (FORMAT JSON) " + sql)
        plan = cursor.fetchone()[0][0]["Plan"]
    found = []

    def walk(node):
        if "Index Name" in node:
            found.append(node["Index Name"])
        elif node.get("Node Type") == "Seq Scan":
            found.append(f"seq scan {node['Relation Name']}")
        for child in node.get("Plans", []):
            walk(child)

    walk(plan)
    return ", ".join(dict.fromkeys(found)) or "-"


def band_alone(watch_id, repeat):
    """(median ms, queries, indexes): the brand watch's 7-day chart band computed without
    its cache (detection.baseline_band: four weeks of minutes), as once a minute."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from incidents.listening import detection
    from incidents.listening.models import Watch

    watch = Watch.objects.get(pk=watch_id)
    end = timezone.now()
    start = (end - timedelta(days=7)).replace(minute=0, second=0, microsecond=0)
    timings = []
    for _ in range(max(3, repeat // 3)):
        started = time.perf_counter()
        detection.baseline_band(watch, start, end, timedelta(hours=1))
        timings.append((time.perf_counter() - started) * 1000)
    with CaptureQueriesContext(connection) as queries:
        detection.baseline_band(watch, start, end, timedelta(hours=1))
    slowest = max(queries.captured_queries, key=lambda q: float(q["time"]))
    return statistics.median(timings), len(queries), _indexes(slowest["sql"])


def phase(count, args, watch_ids, incident_id, client):
    seconds = fill(count, args.seed, watch_ids, incident_id)
    print(f"  {count:,} mentions written by COPY in {seconds:.1f} s")
    found = {
        label: measure(client, path, params, args.repeat)
        for label, path, params in requests(watch_ids, incident_id)
    }
    found["Chart band alone (brand's watch, once a minute)"] = band_alone(watch_ids[0], args.repeat)
    return found


def main():
    args = parse_args()
    setup_django(
        args,
        REDIS_URL=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13"),
        ALLOWED_HOSTS="localhost,127.0.0.1,testserver",
        DEBUG="false",
        LOG_LEVEL="WARNING",
    )
    from django.test import Client

    user, incident = people()
    watch_ids = [w.pk for w in watches(user)]
    client = Client()
    client.force_login(user)
    print(
        f"Listening pages, {args.small:,} then {args.count:,} mentions; load average "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    )
    small = phase(args.small, args, watch_ids, incident.pk, client)
    big = phase(args.count, args, watch_ids, incident.pk, client)
    print()
    print(
        f"| request | ms at {args.small:,} | ms at {args.count:,} | ratio | queries "
        f"(at {args.small:,} / {args.count:,}) | indexes of its slowest query |"
    )
    print("|---|---:|---:|---:|---:|---|")
    for label, (ms_big, queries_big, indexes) in big.items():
        ms_small, queries_small, _ = small[label]
        print(
            f"| {label} | {ms_small:.1f} | {ms_big:.1f} | {ms_big / ms_small:.2f} "
            f"| {queries_small} / {queries_big} | {indexes} |"
        )


if __name__ == "__main__":
    main()
