"""POST /api/mentions/bulk/: NDJSON (gzip accepted), good lines stored, bad lines reported
with their number, idempotent, bounded."""

import gzip
import json

import pytest

from incidents.listening.choices import Sentiment, Source
from incidents.listening.models import Mention, MentionMatch
from tests.helpers import assert_error

from .conftest import ndjson, post

pytestmark = pytest.mark.django_db


def test_lines_are_stored_with_language_sentiment_and_watches(importer, watch, send_bulk):
    body = ndjson(
        post("a1"),
        post("a2", text="I love Lumiere Cosmetics, thank you for the quick refund!"),
        post("a3", text="Nothing to do with any brand, just a sunny afternoon in Paris."),
    )
    response = send_bulk(importer, body)
    assert response.status_code == 200, response.content
    assert response.json() == {
        "lines": 3,
        "stored": 3,
        "duplicates": 0,
        "unmatched": 1,  # a3: stored, on no watch
        "rejected": [],
        "rejected_not_listed": 0,
    }
    a1, a2, a3 = (Mention.objects.get(external_id=i) for i in ("a1", "a2", "a3"))
    assert (a1.language, a1.sentiment) == ("fr", Sentiment.NEGATIVE)
    assert (a2.language, a2.sentiment) == ("en", Sentiment.POSITIVE)
    assert a1.source == Source.API and a1.author_followers == 120
    assert set(MentionMatch.objects.values_list("mention_id", flat=True)) == {a1.id, a2.id}
    assert MentionMatch.objects.get(mention=a1).posted_at == a1.posted_at
    assert a3.watches.count() == 0


def test_resending_the_same_file_stores_nothing_twice(importer, watch, send_bulk):
    body = ndjson(post("a1"), post("a2"), post("a1"))
    first = send_bulk(importer, body).json()
    assert (first["stored"], first["duplicates"]) == (2, 1)
    again = send_bulk(importer, body, gzipped=True).json()
    assert (again["stored"], again["duplicates"]) == (0, 3)
    assert Mention.objects.count() == 2
    assert MentionMatch.objects.count() == 2


def test_bad_lines_are_reported_and_good_ones_kept(importer, send_bulk):
    body = ndjson(
        post("ok1"),
        b"{not json",
        post("x", platform="myspace"),
        post("y", posted_at="yesterday"),
        post("z", posted_at="2026-11-30T09:00:00"),
        post("w", text=""),
        ["a", "list"],
        post("v", url="javascript:alert(1)"),
        post("u", likes=-1),
        post("t", posted_at="2999-01-01T00:00:00Z"),
        post("ok2"),
    )
    response = send_bulk(importer, body)
    assert response.status_code == 200
    report = response.json()
    assert (report["lines"], report["stored"]) == (11, 2)
    lines = {error["line"]: error["error"] for error in report["rejected"]}
    assert sorted(lines) == [2, 3, 4, 5, 6, 7, 8, 9, 10]
    assert "JSON" in lines[2]
    assert "Unknown platform" in lines[3] and "bluesky" in lines[3]
    assert "ISO 8601" in lines[4]
    assert "time zone" in lines[5]
    assert "text is required" in lines[6]
    assert "JSON object" in lines[7]
    assert "http(s) URL" in lines[8]
    assert "out of range" in lines[9]
    assert "future" in lines[10]


def test_a_body_with_no_good_line_is_a_400_with_the_reasons(importer, send_bulk):
    response = send_bulk(importer, ndjson(post("x", platform="nope")))
    assert response.status_code == 400
    assert response.json()["rejected"][0]["line"] == 1
    assert Mention.objects.count() == 0
    assert_error(send_bulk(importer, b"\n\n"), 400)


def test_too_large_is_413_and_stores_nothing(importer, send_bulk, settings):
    settings.LISTENING_BULK_MAX_BYTES = 2000
    rows = [post(f"id{i}") for i in range(30)]
    assert_error(send_bulk(importer, ndjson(*rows)), 413)
    # A small gzip body that inflates past the limit (a gzip bomb) too.
    assert_error(send_bulk(importer, ndjson(*rows), gzipped=True), 413)
    assert Mention.objects.count() == 0


def test_broken_gzip_and_other_types_are_refused(importer, send_bulk, api):
    client = api.as_user(importer)
    broken = gzip.compress(ndjson(post("a")))[:-12]
    response = client.generic(
        "POST",
        "/api/mentions/bulk/",
        broken,
        content_type="application/x-ndjson",
        HTTP_CONTENT_ENCODING="gzip",
    )
    assert_error(response, 400)
    assert_error(send_bulk(importer, ndjson(post("a")), content_type="text/csv"), 415)
    response = client.generic(
        "POST",
        "/api/mentions/bulk/",
        ndjson(post("a")),
        content_type="application/x-ndjson",
        HTTP_CONTENT_ENCODING="br",
    )
    assert_error(response, 415)
    assert Mention.objects.count() == 0


def test_only_importers_may_send(reader, outsider, send_bulk, api):
    assert_error(send_bulk(reader, ndjson(post("a"))), 403)
    assert_error(send_bulk(outsider, ndjson(post("a"))), 403)
    anonymous = api.generic(
        "POST", "/api/mentions/bulk/", ndjson(post("a")), content_type="application/x-ndjson"
    )
    assert anonymous.status_code in (401, 403)
    assert Mention.objects.count() == 0


def test_query_count_does_not_grow_with_the_lines(
    importer, watch, send_bulk, django_assert_max_num_queries
):
    send_bulk(importer, ndjson(post("warm")))
    with django_assert_max_num_queries(20):
        small = send_bulk(importer, ndjson(*[post(f"s{i}") for i in range(5)]))
    with django_assert_max_num_queries(20):
        large = send_bulk(importer, ndjson(*[post(f"l{i}") for i in range(500)]))
    assert (small.json()["stored"], large.json()["stored"]) == (5, 500)


def test_long_texts_are_scored_on_their_start_only(importer, send_bulk, monkeypatch):
    """Language and sentiment read the first MAX_SCORED_CHARS characters: VADER's cost grows
    faster than the text (a 20,000-character "good but ..." text cost seconds)."""
    from incidents.listening import ingest, language, sentiment

    seen = []
    real_detect, real_score = language.detect, sentiment.score
    monkeypatch.setattr(
        language, "detect", lambda text: seen.append(len(text)) or real_detect(text)
    )
    monkeypatch.setattr(
        sentiment, "score", lambda text, lang: seen.append(len(text)) or real_score(text, lang)
    )
    long = ("The kettle is good but the lid cracked. " * 500).strip()  # 19,999 characters
    body = ndjson(post("long1", text=long), post("long2", text=long[:-1], language="en"))
    assert send_bulk(importer, body).json()["stored"] == 2
    assert seen and max(seen) == ingest.MAX_SCORED_CHARS
    assert Mention.objects.get(external_id="long2").sentiment != Sentiment.UNKNOWN
    assert len(Mention.objects.get(external_id="long1").text) == len(long)  # stored whole


def test_refused_lines_past_the_reported_ones_are_only_counted(importer, send_bulk, monkeypatch):
    from incidents.listening import ingest

    built, real = [], ingest.LineError

    def line_error(*args):
        built.append(args)
        return real(*args)

    monkeypatch.setattr(ingest, "LineError", line_error)
    parsed, real_parse = [], ingest.parse
    monkeypatch.setattr(
        ingest, "parse", lambda row, **kw: parsed.append(1) or real_parse(row, **kw)
    )
    body = b"1\n" * 5_000 + b"{}\n" * 50 + ndjson(post("ok"))
    report = send_bulk(importer, body, gzipped=True).json()
    assert report["stored"] == 1 and report["lines"] == 5_051
    assert len(report["rejected"]) == ingest.MAX_LINE_ERRORS == len(built)
    assert report["rejected_not_listed"] == 5_050 - ingest.MAX_LINE_ERRORS
    # Past the reported lines, a line that cannot be a post is not even parsed.
    assert len(parsed) == ingest.MAX_LINE_ERRORS + 1


def test_a_signed_in_browser_sends_with_its_csrf_token(importer, watch):
    """Session authentication checks the CSRF token on the body DRF would parse: the bulk
    endpoint, which reads its body raw, answered 415 to a signed-in browser (break-it pass)."""
    from rest_framework.test import APIClient

    browser = APIClient(enforce_csrf_checks=True)
    browser.force_login(importer)
    body = ndjson(post("csrf-1"))
    refused = browser.post("/api/mentions/bulk/", body, content_type="application/x-ndjson")
    assert refused.status_code == 403  # no token: refused as any session write
    browser.get("/listening/")  # sets the csrftoken cookie, as the pages do
    token = browser.cookies["csrftoken"].value
    answer = browser.post(
        "/api/mentions/bulk/", body, content_type="application/x-ndjson", HTTP_X_CSRFTOKEN=token
    )
    assert answer.status_code == 200, answer.content
    assert answer.json()["stored"] == 1
    other = browser.post(
        "/api/mentions/bulk/", b"a,b\n", content_type="text/csv", HTTP_X_CSRFTOKEN=token
    )
    assert other.status_code == 415


def test_a_body_of_more_lines_than_a_file_may_hold_is_refused_whole(
    importer, watch, send_bulk, settings
):
    """`{}` lines cost little to send and CPU to refuse one by one: 6.6 million of them in a
    19 kB gzip body took 40 s (a break-it pass). A body holds as many lines as a file."""
    from incidents.listening.importing import MAX_ROWS

    response = send_bulk(importer, b"{}\n" * (MAX_ROWS + 1), gzipped=True)
    assert response.status_code == 413
    assert "at most 50,000 lines" in response.json()["detail"]
    assert not Mention.objects.exists()


def test_a_utf16_body_is_refused_whole_never_half_stored(importer, watch, send_bulk):
    lines = "\n".join(json.dumps(post(f"u16-{i}")) for i in range(3))
    for encoding in ("utf-16", "utf-16-be"):
        response = send_bulk(importer, lines.encode(encoding))
        assert response.status_code == 400, encoding
    # Without its byte-order mark: every line refused as not UTF-8, none stored.
    response = send_bulk(importer, lines.encode("utf-16-le"))
    assert response.status_code == 400
    assert not Mention.objects.exists()
    # A UTF-8 body with a byte-order mark is read.
    response = send_bulk(importer, lines.encode("utf-8-sig"))
    assert response.json()["stored"] == 3


def test_a_flag_the_api_cannot_read_refuses_its_line_and_y_n_read(importer, send_bulk):
    """The bulk API stays strict where the browser import keeps the post without the flag:
    its client sends its own format and is told the line to correct."""
    author = {"handle": "alice.bsky.social"}
    body = ndjson(
        post("y1", author={**author, "verified": "Y"}),
        post("n1", author={**author, "verified": "n", "follows_brand": "N"}),
        post("bad", author={**author, "verified": "verified"}),
        post("dash", reply_to_brand="-"),
    )
    report = send_bulk(importer, body).json()
    assert report["stored"] == 2
    assert {error["line"]: error["error"] for error in report["rejected"]} == {
        3: "author.verified must be true or false (or 1 or 0, yes or no).",
        4: "reply_to_brand must be true or false (or 1 or 0, yes or no).",
    }
    flags = Mention.objects.values_list("external_id", "author_verified", "author_follows_brand")
    assert sorted(flags) == [("n1", False, False), ("y1", True, None)]
