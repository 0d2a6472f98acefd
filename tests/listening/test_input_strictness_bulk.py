"""The bulk API's (and the mentions list's) input rules, made strict and consistent by a
break-it pass: counts, yes-or-no fields, times, line ends, languages, messages."""

import json

import pytest

from incidents.listening.importing import MAX_ROWS
from incidents.listening.models import Mention
from tests.helpers import assert_error

from .conftest import ndjson, post

pytestmark = pytest.mark.django_db


def rejected(report) -> dict:
    return {error["line"]: error["error"] for error in report["rejected"]}


def test_a_count_is_a_json_integer_or_ascii_digits(importer, send_bulk):
    body = ndjson(
        post("c1", likes="1_000"),
        post("c2", likes="\u0661\u0660"),  # Arabic-Indic 10
        post("c3", reposts="\uff11"),  # full-width 1
        post("c4", likes=12, reposts="34", replies=" 5 "),
        post("c5", likes=-1),
        post("c6", author={"followers": "9" * 30}),
    )
    report = send_bulk(importer, body).json()
    errors = rejected(report)
    whole = "must be a whole number written with the digits 0 to 9 (such as 1200)."
    assert errors[1] == "likes " + whole and errors[2] == "likes " + whole
    assert errors[3] == "reposts " + whole
    assert errors[5] == "likes is out of range: give a whole number from 0 to 2,147,483,647."
    assert errors[6].startswith("author.followers is out of range: give a whole number from 0")
    assert report["stored"] == 1
    stored = Mention.objects.get(external_id="c4")
    assert (stored.likes, stored.reposts, stored.replies) == (12, 34, 5)


def test_yes_or_no_is_true_false_1_or_0_yes_or_no_y_or_n(importer, send_bulk):
    # Listening tools' exports write Yes/No, Y/N (Oui/Non in French) in a Verified column.
    given = [True, False, 1, 0, "true", "FALSE", "1", "0", "Yes", "non", " Y ", "n"]
    body = ndjson(
        *[post(f"v{i}", author={"verified": value}) for i, value in enumerate(given)],
        post("bad1", author={"verified": "verified"}),
        post("bad2", author={"verified": 2}),
        post("bad3", reply_to_brand="vrai"),
    )
    report = send_bulk(importer, body).json()
    assert report["stored"] == len(given)
    verified = dict(Mention.objects.values_list("external_id", "author_verified"))
    assert [verified[f"v{i}"] for i in range(len(given))] == [True, False] * 6
    assert rejected(report) == {
        13: "author.verified must be true or false (or 1 or 0, yes or no).",
        14: "author.verified must be true or false (or 1 or 0, yes or no).",
        15: "reply_to_brand must be true or false (or 1 or 0, yes or no).",
    }


def test_times_unix_numbers_lower_case_z_and_offsets(importer, send_bulk, at_now):
    from datetime import UTC, datetime

    at_now(datetime(2026, 12, 1, tzinfo=UTC))
    body = ndjson(
        post("t1", posted_at=1764493920),  # a JSON number: was "posted_at is required"
        post("t2", posted_at=1764493920123),
        post("t3", posted_at="1764493920"),
        post("t4", posted_at="2026-11-30T09:12:00z"),  # lower-case z: RFC 3339 allows it
        post("t5", posted_at="2026-11-30T09:12:00+23:59"),  # was accepted
        post("t6", posted_at="2026-11-30T09:12:00-14:30"),
        post("t7", posted_at="2026-11-30T09:12:00+14:00"),
        post("t8", posted_at="1970-01-01T00:00:00Z"),
        post("t9", posted_at=12345),
    )
    report = send_bulk(importer, body).json()
    times = {
        external_id: moment.isoformat()
        for external_id, moment in Mention.objects.values_list("external_id", "posted_at")
    }
    assert times == {
        "t1": "2025-11-30T09:12:00+00:00",
        "t2": "2025-11-30T09:12:00.123000+00:00",
        "t3": "2025-11-30T09:12:00+00:00",
        "t4": "2026-11-30T09:12:00+00:00",
        "t7": "2026-11-29T19:12:00+00:00",
    }
    errors = rejected(report)
    assert errors[5] == (
        "posted_at has the UTC offset +23:59, beyond ±14:00: give the offset of the zone it "
        "was written in (such as Z, +01:00 or -05:00)."
    )
    assert errors[6].startswith("posted_at has the UTC offset -14:30, beyond ±14:00")
    assert errors[8] == (
        "posted_at is out of range: give a time from 1990-01-01 to 9000-01-01 (UTC)."
    )
    assert errors[9].startswith("posted_at is a number that is not a Unix time")


@pytest.mark.parametrize("end", [b"\r", b"\r\n", b"\n"])
def test_every_line_end_ends_a_line(importer, send_bulk, end):
    """A body of CR-only line ends (old Mac exports) was read as one line."""
    body = end.join(json.dumps(post(f"e{i}")).encode() for i in range(3)) + end + b"{bad" + end
    report = send_bulk(importer, body).json()
    assert (report["lines"], report["stored"]) == (4, 3)
    assert rejected(report) == {4: "Not valid JSON (or not UTF-8)."}


def test_a_body_of_too_many_cr_lines_is_refused_whole(importer, send_bulk):
    response = send_bulk(importer, b"{}\r" * (MAX_ROWS + 1), gzipped=True)
    assert_error(response, 413)


@pytest.mark.parametrize(
    ("given", "code"), [("fra", "fr"), ("fre", "fr"), ("ENG", "en"), ("deu", "de"), ("fil", "fil")]
)
def test_a_three_letter_code_is_stored_as_its_two_letter_one(importer, send_bulk, given, code):
    report = send_bulk(importer, ndjson(post("l", language=given))).json()
    assert report["stored"] == 1
    assert Mention.objects.get().language == code


def test_the_mentions_list_says_each_bad_filter_once(reader, api):
    client = api.as_user(reader)
    since = client.get("/api/mentions/", {"since": "yesterday"})
    assert_error(since, 400)
    assert since.json()["errors"] == {
        "since": ["Not a date and time: write it in ISO 8601, e.g. 2026-11-30T09:12:00Z."]
    }
    until = client.get("/api/mentions/", {"until": "2026-11-30T09:12:00"})
    assert until.json()["errors"] == {"until": ["Needs a time zone (Z or +01:00)."]}
    far = client.get("/api/mentions/", {"since": "1970-01-01T00:00:00Z"})
    assert far.json()["errors"] == {
        "since": ["Out of range: give a time from 1990-01-01 to 9000-01-01 (UTC)."]
    }
    language = client.get("/api/mentions/", {"language": "klingon!"})
    assert language.json()["errors"]["language"][0].startswith("“klingon!” is not a language")
    watch = client.get("/api/mentions/", {"watch": "9" * 12})
    assert watch.json()["errors"] == {
        "watch": ["Out of range: give a whole number from 0 to 2,147,483,648."]
    }
    # A lower-case z and a Unix time read as a post's time.
    assert client.get("/api/mentions/", {"since": "2026-11-30T09:12:00z"}).status_code == 200
    assert client.get("/api/mentions/", {"since": "1764493920"}).status_code == 200


@pytest.mark.parametrize("size", ["0", "-1", "abc"])
def test_a_page_size_that_is_no_size_gives_the_default_page_as_every_list(
    reader, watch_editor, api, size
):
    """Every list of the API reads `page_size` as DRF does (docs/api.md): not a positive
    whole number, the default; above the maximum, the maximum. The mentions list too."""
    from incidents.listening import actions

    for i in range(3):
        actions.watch_create(actor=watch_editor, name=f"W{i}", brand="B", keywords=[f"k{i}"])
    client = api.as_user(reader)
    watches = client.get("/api/watches/", {"page_size": size})
    mentions = client.get("/api/mentions/", {"page_size": size})
    assert watches.status_code == mentions.status_code == 200
    assert len(watches.json()["results"]) == 3 and watches.json()["next"] is None
