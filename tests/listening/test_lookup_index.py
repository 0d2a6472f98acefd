"""Every ingest asks which posts are stored already: by (platform, external id), which the
unique index answers. By ids alone (the platform left out) every ingest, even a single
post's, scanned the whole mentions table (a break-it pass: 0.26 s for one id among a
million on PostgreSQL)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from incidents.listening import actions, selectors
from incidents.listening.choices import Source
from incidents.listening.ingest import parse

from .conftest import post

pytestmark = pytest.mark.django_db


def plan(sql: str) -> str:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":  # a tiny table: ask whether an index can answer
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute(f"EXPLAIN {sql}")
        else:
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}")
        return "\n".join(str(row[-1]) for row in cursor.fetchall())


def lookups(queries):
    return [
        q["sql"]
        for q in queries
        if q["sql"].startswith("SELECT") and '"listening_mention"' in q["sql"].split("FROM")[1]
    ]


def test_the_stored_posts_are_found_through_the_unique_index(importer):
    keys = [("bluesky", "a"), ("bluesky", "b"), ("mastodon", "c")]
    with CaptureQueriesContext(connection) as queries:
        assert selectors.stored_keys(keys) == set()
    [sql] = lookups(queries.captured_queries)
    shown = plan(sql)
    assert "Seq Scan" not in shown and "SCAN listening_mention" not in shown, shown
    assert "mention_unique_per_platform" in shown or "autoindex_listening_mention" in shown


def test_an_ingest_looks_its_posts_up_by_platform_and_id(importer, watch):
    mentions = [parse(post(f"idx-{i}")) for i in range(3)]
    with CaptureQueriesContext(connection) as queries:
        actions.mentions_ingest(mentions=mentions, source=Source.API, actor=importer)
    found = lookups(queries.captured_queries)
    assert found
    for sql in found:
        if "external_id" in sql.split("WHERE")[-1]:
            assert "platform" in sql.split("WHERE")[-1], sql
    # Sent again: each one found, nothing stored twice.
    again = actions.mentions_ingest(mentions=mentions, source=Source.API, actor=importer)
    assert (again.stored, again.duplicates) == (0, 3)
