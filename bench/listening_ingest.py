"""Listening ingest benchmark: how fast mentions are stored through the product's one write
path (`actions.mentions_ingest`: language, sentiment, watch matching, idempotent insert),
against a raw PostgreSQL `COPY` of the same rows, already scored, in the same run; and how
many posts a second the watches' matcher takes on one core.

    .venv/bin/python bench/listening_ingest.py [--count 200000] [--watches 10]
                                               [--database crisiscell_bench_listening]

Production mode on loopback: a scratch PostgreSQL database (created if missing, never
dropped; its mentions are emptied before each phase). The mentions are generated here
(seeded: realistic French and English posts of 60-280 characters, a third with the
language the platform gave, as Bluesky and Mastodon do), then:

1. COPY: the rows the product would store (language and sentiment computed beforehand, not
   timed) copied with psycopg's COPY into the mention table: the bare database baseline;
2. ingest: the same posts through `actions.mentions_ingest` in chunks of --chunk (as the
   bulk API and the collectors call it), from MentionData to committed rows and matches;
3. the per-post CPU of each step (language, sentiment, matching) on a sample, so the
   ingest figure can be read;
4. the matcher alone, --watches watches of ~10 terms each, over the posts;
5. "Sort again" on the first watch after a change (actions.watch_rematch), against its
   matcher alone over the same posts.

Prints rows/s and the ratio ingest / COPY (goal >= 0.5 and >= 20,000 mentions/s). Bounded
by --count. Needs PostgreSQL (user postgres).
"""

import argparse
import os
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

OPENINGS_FR = [
    "Franchement {brand}",
    "Je viens de recevoir ma commande {brand}",
    "Encore un problème avec {brand}",
    "Merci {brand}",
    "Quelqu'un sait si {brand}",
    "Le service client de {brand}",
    "Vu ce matin en magasin {brand}",
]
ENDINGS_FR = [
    "c'est une honte, trois semaines sans réponse.",
    "livraison rapide et produit parfait, je recommande.",
    "le colis est arrivé cassé et personne ne répond au téléphone.",
    "a annoncé un rappel de produit pour les lots d'octobre.",
    "super accueil, vraiment sympa.",
    "je ne rachèterai jamais, arnaque totale.",
    "ouvre un nouveau magasin à Lyon le mois prochain.",
]
OPENINGS_EN = [
    "Honestly {brand}",
    "Just got my order from {brand}",
    "Another problem with {brand}",
    "Thanks {brand}",
    "Does anyone know if {brand}",
    "Customer service at {brand}",
    "Saw this morning at the {brand} store",
]
ENDINGS_EN = [
    "this is a disgrace, three weeks and no answer.",
    "fast delivery and a perfect product, recommended.",
    "the parcel arrived broken and nobody picks up the phone.",
    "announced a product recall for the October batches.",
    "great welcome, really nice staff.",
    "never buying again, total scam.",
    "opens a new store in Lyon next month.",
]
FILLER = [
    "#crise",
    "vraiment",
    "really",
    "aujourd'hui",
    "today",
    "😡",
    "🙏",
    "https://example.com/p/123",
    "@someone",
    "et voilà",
    "as usual",
]
BRANDS = ["Maison Lumière", "Lumiere Cosmetics", "#BoycottLumiere", "@maisonlumiere"]


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200_000, help="mentions per phase")
    parser.add_argument("--chunk", type=int, default=10_000, help="mentions per ingest call")
    parser.add_argument("--watches", type=int, default=10, help="active watches")
    parser.add_argument("--sample", type=int, default=5000, help="posts in the step profile")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--distinct-texts",
        action="store_true",
        help="make every text unique (a number appended): no repeat for the cache to reuse",
    )
    parser.add_argument("--pg-url", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--database", default="crisiscell_bench_listening")
    return parser.parse_args()


def setup_django(args, **environment):
    """Django on the scratch database `args.database` at `args.pg_url` (created if missing,
    migrated), in production mode; `environment` adds or overrides settings' variables."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(f"{args.pg_url}/postgres", autocommit=True) as db:
        exists = db.execute("SELECT 1 FROM pg_database WHERE datname = %s", [args.database])
        if not exists.fetchone():
            db.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(args.database)))
    os.environ.update(
        {
            "CRISISCELL_MODE": "production",
            "DATABASE_URL": f"{args.pg_url}/{args.database}",
            "REDIS_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14"),
            "SECRET_KEY": "bench-only-" + "0" * 64,
            "ALLOWED_HOSTS": "localhost,127.0.0.1",
            "SECURE_SSL_REDIRECT": "false",
            "DJANGO_SETTINGS_MODULE": "crisiscell.settings",
            **environment,
        }
    )
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def generate(count: int, seed: int, distinct: bool = False):
    from incidents.listening.ingest import MentionData

    rng = random.Random(seed)
    start = datetime(2026, 11, 1, tzinfo=UTC)
    posts = []
    for i in range(count):
        french = rng.random() < 0.6
        openings, endings = (OPENINGS_FR, ENDINGS_FR) if french else (OPENINGS_EN, ENDINGS_EN)
        brand = rng.choice(BRANDS) if rng.random() < 0.7 else "la marque"
        words = [rng.choice(openings).format(brand=brand), rng.choice(endings)]
        words += rng.sample(FILLER, rng.randint(0, 4))
        if rng.random() < 0.3:
            words.append(rng.choice(endings))
        if distinct:
            words.append(f"n°{i}")
        posts.append(
            MentionData(
                platform=rng.choice(["bluesky", "mastodon", "x", "press"]),
                external_id=f"bench-{seed}-{i}",
                text=" ".join(words),
                posted_at=start + timedelta(seconds=i * 2.5),
                url=f"https://example.com/post/{i}",
                author_handle=f"user{rng.randint(1, count // 5 + 1)}",
                author_followers=int(rng.paretovariate(1.2) * 50),
                language=("fr" if french else "en") if rng.random() < 0.33 else "",
                likes=rng.randint(0, 50),
                reposts=rng.randint(0, 10),
                replies=rng.randint(0, 5),
            )
        )
    return posts


def make_watches(count: int):
    from incidents.listening import actions

    editor = _system_editor()
    watches = []
    for i in range(count):
        terms = [f"produit{i}-{j}" for j in range(8)]
        if i == 0:
            terms += ["Maison Lumière", "Lumiere Cosmetics"]
        watches.append(
            actions.watch_create(
                actor=editor,
                name=f"bench watch {i}",
                brand="Maison Lumière",
                keywords=terms,
                exclusions=["lumière du jour"],
                hashtags=["BoycottLumiere"] if i == 0 else [f"tag{i}"],
                handles=["maisonlumiere"] if i == 0 else [],
            )
        )
    return watches


def _system_editor():
    from django.contrib.auth import get_user_model

    user, _created = get_user_model().objects.get_or_create(
        username="bench-editor", defaults={"is_superuser": True, "is_staff": True}
    )
    return user


def empty_tables():
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            # CASCADE: the reply queue's triage rows point at the mentions.
            "TRUNCATE listening_mentionmatch, listening_signal, listening_mention "
            "RESTART IDENTITY CASCADE"
        )


def copy_baseline(posts) -> float:
    """The rows as the product stores them, scored beforehand, copied in with COPY."""
    from django.db import connection, transaction
    from django.utils import timezone

    from incidents.listening import language, sentiment

    rows = []
    now = timezone.now()
    for p in posts:
        lang = p.language or language.detect(p.text)
        score, label = sentiment.score(p.text, lang)
        rows.append(
            (
                p.platform,
                p.external_id,
                p.url,
                p.author_handle,
                p.author_name,
                p.author_url,
                p.author_followers,
                p.text,
                lang,
                p.posted_at,
                now,
                p.likes,
                p.reposts,
                p.replies,
                p.in_reply_to,
                p.reply_to_brand,
                score,
                label,
                "import",
            )
        )
    columns = (
        "platform, external_id, url, author_handle, author_name, author_url, "
        "author_followers, text, language, posted_at, collected_at, likes, reposts, replies, "
        "in_reply_to, reply_to_brand, sentiment_score, sentiment, source"
    )
    empty_tables()
    started = time.perf_counter()
    with transaction.atomic():
        raw = connection.connection
        with raw.cursor().copy(f"COPY listening_mention ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    return time.perf_counter() - started


def ingest(posts, chunk: int) -> tuple[float, int]:
    from incidents.listening import actions
    from incidents.listening.choices import Source

    empty_tables()
    stored = 0
    started = time.perf_counter()
    for start in range(0, len(posts), chunk):
        result = actions.mentions_ingest(
            mentions=posts[start : start + chunk], source=Source.IMPORT, actor=None
        )
        stored += result.stored
    return time.perf_counter() - started, stored


def step_profile(posts, watches) -> dict:
    from incidents.listening import language, sentiment
    from incidents.listening.matching import Matcher

    matcher = Matcher(watches)
    figures = {}
    started = time.process_time()
    langs = [p.language or language.detect(p.text) for p in posts]
    figures["language (when not given)"] = time.process_time() - started
    started = time.process_time()
    for p, lang in zip(posts, langs, strict=True):
        sentiment.score(p.text, lang)
    figures["sentiment"] = time.process_time() - started
    started = time.process_time()
    for p, lang in zip(posts, langs, strict=True):
        matcher.match(text=p.text, platform=p.platform, language=lang, author=p.author_handle)
    figures["matching"] = time.process_time() - started
    return {name: seconds / len(posts) * 1e6 for name, seconds in figures.items()}


def ingest_prescored(posts, chunk: int) -> float:
    """The same ingest with every text's language and sentiment computed beforehand (not
    timed): what storing first and scoring later would leave on the ingest's path."""
    from django.db import connection

    from incidents.listening import actions
    from incidents.listening.choices import Source

    scores = actions._Scores()
    for p in posts:
        scores(p.text, p.language)
    empty_tables()
    started = time.perf_counter()
    for start in range(0, len(posts), chunk):
        matcher = actions.ActiveWatches()
        store = actions.STORES.get(connection.vendor, actions._store_orm)
        now, result = datetime.now(UTC), actions.IngestResult()
        calls = posts[start : start + chunk]
        for first in range(0, len(calls), actions.BATCH):
            batch = calls[first : first + actions.BATCH]
            actions._ingest_batch(batch, Source.IMPORT, now, matcher, scores, store, result)
    return time.perf_counter() - started


def _score_all(items):
    from incidents.listening import language, sentiment

    scored = []
    for text, given in items:
        detected = given or language.detect(text)
        scored.append((detected, *sentiment.score(text, detected)))
    return scored


def scoring_pool(posts, workers: int = 2) -> tuple[float, float]:
    """Wall seconds to score `posts` in this process, then in a pool of `workers` processes
    (forked after the models are loaded; chunks of 500): what scoring in parallel gives."""
    from concurrent.futures import ProcessPoolExecutor

    items = [(p.text, p.language) for p in posts]
    _score_all(items[:10])  # load the models before forking
    started = time.perf_counter()
    _score_all(items)
    serial = time.perf_counter() - started
    chunks = [items[i : i + 500] for i in range(0, len(items), 500)]
    started = time.perf_counter()
    with ProcessPoolExecutor(workers) as pool:
        list(pool.map(_score_all, chunks))
    return serial, time.perf_counter() - started


def main():
    args = parse_args()
    setup_django(args)
    from incidents.listening.matching import Matcher
    from incidents.listening.models import Mention, MentionMatch, Signal, Watch

    Signal.objects.all().delete()
    empty_tables()
    Watch.objects.all().delete()
    watches = make_watches(args.watches)
    posts = generate(args.count, args.seed, args.distinct_texts)
    texts = len({(p.text, p.language) for p in posts})
    print(
        f"{len(posts):,} mentions ({texts:,} distinct texts), {len(watches)} active watches, "
        f"chunks of {args.chunk:,}; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    )

    copy_seconds = copy_baseline(posts)
    ingest_seconds, stored = ingest(posts, args.chunk)
    assert stored == len(posts) == Mention.objects.count(), (stored, len(posts))
    matches = MentionMatch.objects.count()
    again_seconds, again = ingest_again(posts, args.chunk)
    prescored_seconds = ingest_prescored(posts, args.chunk)

    copy_rate, ingest_rate = len(posts) / copy_seconds, len(posts) / ingest_seconds
    print()
    print("| phase | seconds | mentions/s | ratio to COPY |")
    print("|---|---:|---:|---:|")
    print(f"| COPY, pre-scored rows (baseline) | {copy_seconds:.2f} | {copy_rate:,.0f} | 1.00 |")
    print(
        f"| mentions_ingest (language, sentiment, matching, insert; {matches:,} matches) "
        f"| {ingest_seconds:.2f} | {ingest_rate:,.0f} | {ingest_rate / copy_rate:.2f} |"
    )
    print(
        f"| the same again (all duplicates: {again:,} stored) | {again_seconds:.2f} "
        f"| {len(posts) / again_seconds:,.0f} | {len(posts) / again_seconds / copy_rate:.2f} |"
    )

    prescored_rate = len(posts) / prescored_seconds
    print(
        f"| the same, scores computed beforehand (store first, score later) "
        f"| {prescored_seconds:.2f} | {prescored_rate:,.0f} | {prescored_rate / copy_rate:.2f} |"
    )

    sample = posts[: args.sample]
    print()
    print(f"CPU per post on a sample of {len(sample):,} (microseconds):")
    for name, micros in step_profile(sample, watches).items():
        print(f"  {name:28} {micros:8.1f}")

    serial, pooled = scoring_pool(sample)
    print(
        f"Scoring the sample (language and sentiment): {len(sample) / serial:,.0f} posts/s in "
        f"this process, {len(sample) / pooled:,.0f} posts/s in a pool of 2 processes"
    )

    matcher = Matcher(watches)
    started = time.process_time()
    for p in posts:
        matcher.match(text=p.text, platform=p.platform, language=p.language, author="")
    seconds = time.process_time() - started
    print()
    print(
        f"Matcher alone, one core: {len(posts) / seconds:,.0f} posts/s "
        f"({len(watches)} watches; goal >= 20,000)"
    )
    sort_again(watches[0], posts)


def sort_again(watch, posts):
    """A watch edited mid-crisis (a hashtag added, an exclusion) and its stored mentions
    sorted again (`actions.watch_rematch`, the newest REMATCH_MAX of the last 7 days), from
    the call to its end; baseline, the same watch's matcher alone over the same posts."""
    from incidents.listening import actions
    from incidents.listening.matching import Matcher

    editor = _system_editor()
    watch = actions.watch_update(
        watch=watch,
        actor=editor,
        keywords=[*watch.keywords, "service client"],
        hashtags=["BoycottLumiere", "OuEstMonColis"],
        exclusions=["lumière du jour", "recommande"],
    )
    now = posts[-1].posted_at + timedelta(minutes=1)
    started = time.perf_counter()
    result = actions.watch_rematch(watch=watch, actor=editor, days=7, now=now)
    seconds = time.perf_counter() - started
    newest = sorted(posts, key=lambda p: p.posted_at, reverse=True)[: result.read]
    matcher = Matcher([watch])
    started = time.perf_counter()
    for p in newest:
        matcher.match(text=p.text, platform=p.platform, language=p.language, author="")
    alone = time.perf_counter() - started
    print(
        f"Sort again (one watch; {result.read:,} newest mentions read, {result.added:,} "
        f"joined, {result.removed:,} left): {seconds:.2f} s, {result.read / seconds:,.0f} "
        f"mentions/s; its matcher alone over the same posts {alone:.2f} s "
        f"({seconds / alone:.1f}x that)"
    )


def ingest_again(posts, chunk):
    from incidents.listening import actions
    from incidents.listening.choices import Source

    started = time.perf_counter()
    stored = 0
    for start in range(0, len(posts), chunk):
        stored += actions.mentions_ingest(
            mentions=posts[start : start + chunk], source=Source.IMPORT, actor=None
        ).stored
    return time.perf_counter() - started, stored


if __name__ == "__main__":
    main()
