"""What a review found could crash or mislead: each now answers as documented."""

import base64
import gzip
import json

import pytest

from incidents.listening import actions
from incidents.listening.models import Mention
from tests.helpers import assert_error

from .conftest import ndjson, post

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "bad",
    [
        post("s", text="\ud800 lone surrogate"),
        post("y", posted_at="0001-01-01T00:00:00+01:00"),
        post("z", posted_at="1970-01-01T00:00:00Z"),
        post("p", platform={"a": 1}),
        post("q", platform=["x"]),
    ],
)
def test_a_bad_line_never_sinks_the_good_ones(importer, send_bulk, bad):
    body = ndjson(post("good1"), json.dumps(bad).encode(), post("good2"))
    response = send_bulk(importer, body)
    assert response.status_code == 200, response.content
    report = response.json()
    assert report["stored"] == 2 and [r["line"] for r in report["rejected"]] == [2]


def test_every_gzip_member_is_read_and_trailing_bytes_refused(importer, send_bulk, api):
    body = gzip.compress(ndjson(post("g1"))) + gzip.compress(ndjson(post("g2")))
    client = api.as_user(importer)

    def send(data):
        return client.generic(
            "POST",
            "/api/mentions/bulk/",
            data,
            content_type="application/x-ndjson",
            HTTP_CONTENT_ENCODING="gzip",
        )

    assert send(body).json()["stored"] == 2
    assert_error(send(gzip.compress(ndjson(post("g3"))) + b"garbage"), 400)
    assert not Mention.objects.filter(external_id="g3").exists()


@pytest.mark.parametrize(
    "params",
    [
        {"since": "9999-12-31T23:59:59-14:00"},
        {"until": "0001-01-01T00:00:00+14:00"},
    ],
)
def test_extreme_filters_are_400(reader, api, params):
    assert_error(api.as_user(reader).get("/api/mentions/", params), 400)


@pytest.mark.parametrize("path", ["/api/mentions/", "/api/signals/"])
def test_a_forged_cursor_is_400_not_a_crash(reader, api, path):
    client = api.as_user(reader)
    for cursor in (base64.b64encode(b"o=0&r=0&p=not-a-date").decode(), "garbage"):
        response = client.get(path, {"cursor": cursor})
        assert_error(response, 400)
        assert response.json()["errors"] == {"cursor": ["Invalid cursor"]}


@pytest.mark.parametrize("path", ["/api/mentions/", "/api/signals/"])
@pytest.mark.parametrize("value", ["²", "\uff11", "1_0", "-1", "1.0"])
def test_a_unicode_digit_is_not_a_watch_id(reader, api, path, value):
    # One rule (incidents.text.parse_id): Python's int() reads a full-width 1 and "1_0".
    assert_error(api.as_user(reader).get(path, {"watch": value}), 400)


@pytest.mark.parametrize(
    "values",
    [
        {"volume_deviations": True},
        {"volume_min_count": True},
        {"tone_shift_points": False},
        {"subscribers": [True]},
        {"volume_min_count": 0},
    ],
)
def test_a_watch_refuses_true_and_false_for_numbers(watch_editor, watch, api, values):
    # DRF reads true as 1: a threshold of 1 deviation, or user 1 subscribed.
    response = api.as_user(watch_editor).patch(f"/api/watches/{watch.pk}/", values, format="json")
    assert_error(response, 400)
    assert list(response.json()["errors"]) == list(values)
    watch.refresh_from_db()
    assert (watch.volume_deviations, watch.volume_min_count) == (4.0, 10)


@pytest.mark.parametrize("value", ["1_0", "\uff11", 1.5, "1.5"])
def test_an_id_or_a_count_is_ascii_digits(watch_editor, watch, api, value):
    # int() reads "1_0" as 10 and a full-width one as 1: topic 10, user 1 subscribed.
    other = actions.watch_create(actor=watch_editor, name="Other", brand="O", keywords=["oo"])
    client = api.as_user(watch_editor)
    for body in (
        {"topic_watch": value},
        {"subscribers": [value]},
        {"volume_min_count": value},
    ):
        response = client.patch(f"/api/watches/{watch.pk}/", body, format="json")
        assert_error(response, 400)
    response = client.patch(f"/api/watches/{watch.pk}/", {"topic_watch": str(other.pk)})
    assert response.status_code == 200  # a form body's ASCII id still reads
    assert client.patch(f"/api/watches/{watch.pk}/", {"volume_min_count": "12"}).status_code == 200


@pytest.mark.parametrize("cursor", ["\uff11\uff12-5", "1_000-5", "+5-3", " 5-3 ", "5-3-1", "-5-3"])
def test_a_cursor_is_only_what_a_page_wrote(reader, api, cursor):
    assert_error(api.as_user(reader).get("/api/mentions/", {"cursor": cursor}), 400)


def test_a_campaign_refuses_true_for_its_size(watch_editor, watch, api):
    body = {
        "starts_at": "2099-01-01T10:00:00Z",
        "ends_at": "2099-01-01T12:00:00Z",
        "expected_size": True,
    }
    response = api.as_user(watch_editor).post(
        f"/api/watches/{watch.pk}/expected-bursts/", body, format="json"
    )
    assert_error(response, 400)
    assert list(response.json()["errors"]) == ["expected_size"]


def test_forged_cursors_on_the_other_lists_are_400(lead, incident, api):
    cursor = base64.b64encode(b"o=0&r=0&p=not-a-number").decode()
    client = api.as_user(lead)
    for path in (
        f"/api/incidents/{incident.pk}/timeline/",
        f"/api/incidents/{incident.pk}/evidence/",
        f"/api/incidents/{incident.pk}/statements/",
    ):
        assert_error(client.get(path, {"cursor": cursor}), 400)


def test_language_tags_are_stored_as_their_primary_code_and_non_codes_refused(
    importer, watch, send_bulk
):
    """ "en-US" stored as "en" (so it is scored and matches a watch of English), "fr_CA" as
    "fr"; "und" as unknown (detected); a language's name ("english") as its code; "∞"
    refused with the line's number, saying what is expected."""
    body = ndjson(
        post("l1", text="I love Maison Lumière, great service", language="en-US"),
        post("l2", language="fr_CA"),
        post("l3", language="∞"),
        post("l4", language="english"),
        post("l5", language="und"),
        post("l6", language=" PT-br "),
    )
    report = send_bulk(importer, body).json()
    assert report["stored"] == 5
    assert {r["line"]: r["error"] for r in report["rejected"]} == {
        3: "language “∞” is not a language: give its code (such as fr, en or en-US) or its "
        "name (such as French, English or Français).",
    }
    stored = dict(Mention.objects.values_list("external_id", "language"))
    assert stored == {"l1": "en", "l2": "fr", "l4": "en", "l5": "fr", "l6": "pt"}  # l5: detected
    assert Mention.objects.get(external_id="l1").sentiment == "positive"
    assert Mention.objects.get(external_id="l1").watches.exists()


@pytest.mark.parametrize(
    ("tag", "code"),
    [("en-US", "en"), ("fr_CA", "fr"), ("zh-Hant-TW", "zh"), ("FIL", "fil"), ("", ""),
     ("und", ""), ("∞", None), ("english", None), ("e", None), ("-en", None), ("ün", None)],
)  # fmt: skip
def test_one_rule_for_language_tags(tag, code):
    from incidents.listening.connectors.bluesky import _language
    from incidents.listening.ingest import language_code

    assert language_code(tag) == code
    assert _language([tag]) == (code or "")  # the Bluesky connector: none when not a code
