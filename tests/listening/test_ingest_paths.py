"""The one ingest action and its two ways to store a batch (COPY on PostgreSQL, the ORM on
SQLite): the same rows either way, a constant number of queries per batch, nothing
half-written, and each post stored once when ingests of overlapping batches run at once."""

import threading
from datetime import UTC, datetime, timedelta
from functools import partial

import pytest
from django.db import IntegrityError, connection
from django.test.utils import CaptureQueriesContext

from incidents.listening import actions, language, sentiment
from incidents.listening.choices import Source
from incidents.listening.ingest import MentionData
from incidents.listening.models import Mention, MentionMatch, Watch
from tests.helpers import run_concurrently

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
TEXTS = [
    ("Maison Lumière a encore raté sa livraison, c'est une honte", ""),
    ("I love Lumiere Cosmetics, thank you for the quick refund!", ""),
    ("Nothing to do with any brand, just a sunny afternoon in Paris.", ""),
    ("#BoycottLumiere le colis est arrivé cassé", "fr"),
    ("Maison Lumière, la lumière du jour est belle", ""),  # an exclusion: no match
    ("Maison Lumière 👍", "de"),  # a language no lexicon covers: unknown
]
on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the COPY path exists on PostgreSQL only"
)


def posts(ids, **extra) -> list[MentionData]:
    return [
        MentionData(
            platform="bluesky" if i % 3 else "mastodon",
            external_id=f"p{i}",
            text=TEXTS[i % len(TEXTS)][0],
            language=TEXTS[i % len(TEXTS)][1],
            posted_at=NOW - timedelta(minutes=i),
            author_handle=f"author{i % 4}",
            author_followers=i if i % 2 else None,
            author_verified=bool(i % 2) if i % 5 else None,
            likes=i,
            **extra,
        )
        for i in ids
    ]


def ingest(mentions):
    return actions.mentions_ingest(mentions=mentions, source=Source.IMPORT, actor=None, now=NOW)


def stored_rows():
    fields = [f.attname for f in Mention._meta.concrete_fields if f.attname != "id"]
    mentions = {m["external_id"]: m for m in Mention.objects.values(*fields)}
    matches = set(
        MentionMatch.objects.values_list(
            "mention__platform", "mention__external_id", "watch_id", "posted_at", "sentiment"
        )
    )
    return mentions, matches


@pytest.mark.django_db
def test_each_post_is_scored_matched_and_stored_once(watch):
    first = ingest(posts(range(4)))
    again = ingest(posts([2, 3, 4, 5, 5, 6, 7, 8, 9, 10, 11]))
    assert (first.stored, first.duplicates) == (4, 0)
    assert (again.stored, again.duplicates) == (8, 3)
    mentions, matches = stored_rows()
    assert len(mentions) == 12
    assert sorted(again.ids) == sorted(
        Mention.objects.filter(external_id__in=[f"p{i}" for i in range(4, 12)]).values_list(
            "id", flat=True
        )
    )
    for i, data in enumerate(posts(range(12))):
        row = mentions[data.external_id]
        detected = data.language or language.detect(data.text)
        assert row["language"] == detected
        assert (row["sentiment_score"], row["sentiment"]) == sentiment.score(data.text, detected)
        assert (row["collected_at"], row["source"], row["likes"]) == (NOW, Source.IMPORT, i)
        assert row["author_verified"] == data.author_verified
    matched = {external_id for _platform, external_id, *_ in matches}
    assert matched == {f"p{i}" for i in range(12) if i % 6 in (0, 1, 3, 5)}
    assert mentions["p5"]["sentiment"] == "unknown"


@pytest.mark.django_db
def test_queries_per_batch_do_not_grow_with_the_posts(watch):
    ingest(posts([1000]))  # warm: the watches, the permissions
    with CaptureQueriesContext(connection) as few:
        ingest(posts(range(5)))
    with CaptureQueriesContext(connection) as many:
        ingest(posts(range(5, actions.BATCH)))
    if connection.vendor == "postgresql":
        assert len(few) == len(many) <= 8  # COPY: the same statements for 5 rows or 1,000
    else:  # the ORM cuts each INSERT at SQLite's parameter limit: a bound, not the lines
        params = actions.BATCH * (len(actions.COLUMNS) + len(actions.MATCH_COLUMNS))
        chunks = params // connection.features.max_query_params + 2
        assert len(few) <= len(many) <= len(few) + chunks


@on_postgresql  # SQLite's INSERT OR IGNORE drops a refused row instead (parse refuses it first)
@pytest.mark.django_db
def test_a_failing_batch_leaves_nothing_behind_and_the_next_ingest_works(watch, monkeypatch):
    monkeypatch.setattr(actions, "BATCH", 3)
    bad = posts(range(6))
    bad[4].likes = -1  # refused by the database's check, in the second batch
    with pytest.raises(IntegrityError):
        ingest(bad)
    assert sorted(Mention.objects.values_list("external_id", flat=True)) == ["p0", "p1", "p2"]
    assert MentionMatch.objects.count() == 2  # p0 and p1: the first batch, whole
    result = ingest(posts(range(6)))
    assert (result.stored, result.duplicates) == (3, 3)


@on_postgresql
@pytest.mark.django_db
def test_copy_and_orm_store_the_same_rows(watch, monkeypatch):
    monkeypatch.setattr(actions, "BATCH", 7)  # several batches, one partly known

    def run():
        results = [ingest(posts(range(0, 30, 2))), ingest(posts([*range(40), 3, 3]))]
        rows = stored_rows()
        Mention.objects.all().delete()
        return [(r.stored, r.duplicates) for r in results], rows

    copied = run()
    monkeypatch.setitem(actions.STORES, "postgresql", actions._store_orm)
    assert run() == copied
    assert copied[0] == [(15, 0), (25, 17)]
    assert len(copied[1][0]) == 40 and len(copied[1][1]) == 27


@on_postgresql
@pytest.mark.django_db
def test_copy_keeps_texts_that_look_like_its_own_markers(watch):
    texts = ["Maison Lumière\\N", "tab\there, line\nbreak \\. fin", "\\", 'a,b;"c"']
    tricky = posts(range(len(texts)))
    for data, text in zip(tricky, texts, strict=True):
        data.text, data.url = text, ""
    assert ingest(tricky).stored == len(texts)
    stored = dict(Mention.objects.values_list("external_id", "text"))
    assert [stored[data.external_id] for data in tricky] == texts


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_concurrent_ingests_of_overlapping_batches_store_each_post_once(watch):
    # Overlapping, and in opposite orders: each batch locks its posts sorted, never in a cycle.
    batches = [posts(range(0, 1500)), posts(reversed(range(700, 2200)))]
    results, _expected, unexpected = run_concurrently([partial(ingest, b) for b in batches])
    assert unexpected == []
    assert sum(r.stored for r in results) == Mention.objects.count() == 2200
    assert sum(r.duplicates for r in results) == 800
    assert len({pk for r in results for pk in r.ids}) == 2200
    expected = len([i for i in range(2200) if i % 6 in (0, 1, 3, 5)])
    assert MentionMatch.objects.count() == expected


@pytest.mark.django_db(transaction=True)
def test_a_long_import_lets_other_writers_in_while_it_scores(watch, monkeypatch):
    # Scoring is most of a batch's time: a committee member saving meanwhile (here a watch,
    # whose save waits for an ingest's batch on both databases) is not kept waiting for it.
    monkeypatch.setattr(actions, "BATCH", 4)
    score, saves = sentiment.score, []

    def save_meanwhile():
        try:
            Watch.objects.filter(pk=watch.pk).update(brand=f"Lumière {len(saves)}")
            saves.append(True)
        finally:
            connection.close()

    def scoring(text, language):
        assert not connection.in_atomic_block
        saver = threading.Thread(target=save_meanwhile)
        saver.start()
        saver.join(timeout=5)  # SQLite's busy timeout is 20 s: held, it would still wait
        assert not saver.is_alive(), "a save waited for the import's scoring"
        return score(text, language)

    monkeypatch.setattr(sentiment, "score", scoring)
    result = ingest(posts(range(10)))
    assert result.stored == 10
    assert len(saves) == len({data.text for data in posts(range(10))})
