"""Watches and mentions through the API: who sees what, filters, cursor pages."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from incidents.listening import actions
from incidents.listening.choices import Source
from incidents.listening.ingest import parse
from incidents.listening.models import Mention, Watch
from tests.helpers import assert_error

from .conftest import post

pytestmark = pytest.mark.django_db


def ingest(*rows):
    return actions.mentions_ingest(
        mentions=[parse(row) for row in rows], source=Source.IMPORT, actor=None
    )


def test_mentions_are_paged_newest_first_with_filters(reader, watch, api):
    ingest(
        *[post(f"m{i}", posted_at=f"2026-11-30T09:{i:02d}:00Z") for i in range(60)],
        post(
            "en",
            text="I really love Lumiere Cosmetics, thank you for the wonderful service!",
            posted_at="2026-11-29T09:00:00Z",
        ),
    )
    client = api.as_user(reader)
    first = client.get("/api/mentions/").json()
    assert [m["external_id"] for m in first["results"][:2]] == ["m59", "m58"]
    assert len(first["results"]) == 50 and first["next"]
    second = client.get(first["next"]).json()
    assert len(second["results"]) == 11 and second["next"] is None
    assert second["results"][-1]["watches"] == [watch.id]
    assert second["results"][-1]["author"]["followers"] == 120
    only = client.get("/api/mentions/", {"sentiment": "positive", "language": "en"}).json()
    assert [m["external_id"] for m in only["results"]] == ["en"]
    # A tag as platforms write it reads as its language, as the ingest stores it.
    for written in ("EN-us", "English", "anglais"):
        tagged = client.get("/api/mentions/", {"sentiment": "positive", "language": written})
        assert [m["external_id"] for m in tagged.json()["results"]] == ["en"], written
    since = client.get("/api/mentions/", {"since": "2026-11-30T09:58:00Z"}).json()
    assert [m["external_id"] for m in since["results"]] == ["m59", "m58"]
    assert client.get("/api/mentions/", {"watch": watch.id, "page_size": 5}).json()["next"]


def test_pages_of_posts_sharing_one_time_reach_each_post_once(reader, lead, watch, incident, api):
    # A day's import of dates without hours: every post at midnight. DRF's cursor (the time
    # and an offset cut at 1,000) looped on the same page past its cut.
    ingest(*[post(f"d{i}", posted_at="2026-11-30T00:00:00Z") for i in range(1_250)])
    Mention.objects.filter(external_id__endswith="7").update(incident=incident)
    lists = [
        (reader, "/api/mentions/", 1_250),
        (lead, f"/api/incidents/{incident.pk}/mentions/", 125),
    ]
    for user, url, total in lists:
        client = api.as_user(user)
        seen, page = [], client.get(url, {"page_size": 200}).json()
        for _ in range(total // 200 + 1):  # bounded: the old cursor never ended
            seen += [m["external_id"] for m in page["results"]]
            if not page["next"]:
                break
            page = client.get(page["next"]).json()
        assert len(seen) == len(set(seen)) == total
        assert page["previous"] is None


@pytest.mark.parametrize(
    "params",
    [
        {"watch": "x"},
        {"platform": "myspace"},
        {"since": "tomorrow"},
        {"sentiment": "?"},
        {"language": "x" * 500},  # was a 200 with nothing, while the page says "Not applied"
        {"language": "english!"},
    ],
)
def test_bad_filters_are_400(reader, api, params):
    assert_error(api.as_user(reader).get("/api/mentions/", params), 400)


def test_query_count_is_constant(reader, watch, incident, api, django_assert_max_num_queries):
    ingest(*[post(f"m{i}") for i in range(3)])
    Mention.objects.update(incident=incident)
    client = api.as_user(reader)
    with CaptureQueriesContext(connection) as few:
        client.get("/api/mentions/")
    ingest(*[post(f"n{i}") for i in range(40)])
    Mention.objects.update(incident=incident)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(client.get("/api/mentions/").json()["results"]) == 43


def test_people_without_access_see_nothing(outsider, lead, api):
    for user in (outsider, lead):
        assert_error(api.as_user(user).get("/api/mentions/"), 403)
        assert_error(api.as_user(user).get("/api/watches/"), 403)


def test_an_incident_is_named_only_to_its_cell(reader, lead, incident, api):
    ingest(post("a"))
    Mention.objects.update(incident=incident)
    assert api.as_user(reader).get("/api/mentions/").json()["results"][0]["incident"] is None
    # The cell sees the incident's mentions without the listening permissions.
    page = api.as_user(lead).get(f"/api/incidents/{incident.pk}/mentions/").json()
    assert page["results"][0]["incident"] == incident.pk
    assert_error(api.as_user(reader).get(f"/api/incidents/{incident.pk}/mentions/"), 404)


def test_watches_are_created_and_changed_by_editors_only(watch_editor, reader, api):
    editor = api.as_user(watch_editor)
    response = editor.post(
        "/api/watches/",
        {"name": "Rappel", "brand": "Lumière", "hashtags": ["#RappelLumiere", "RappelLumiere"]},
        format="json",
    )
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["hashtags"] == ["RappelLumiere"]
    again = editor.post("/api/watches/", {"name": "Rappel", "brand": "x", "keywords": ["yy"]})
    assert "name" in assert_error(again, 400)
    empty = editor.post("/api/watches/", {"name": "Empty", "brand": "x"}, format="json")
    assert "at least one keyword" in assert_error(empty, 400)
    off = editor.patch(f"/api/watches/{created['id']}/", {"is_active": False}, format="json")
    assert off.json()["is_active"] is False
    cleared = editor.patch(f"/api/watches/{created['id']}/", {"hashtags": []}, format="json")
    assert_error(cleared, 400)
    denied = api.as_user(reader).post("/api/watches/", {"name": "N", "keywords": ["kk"]})
    assert_error(denied, 403)
    assert Watch.objects.count() == 1


def test_an_inactive_watch_collects_nothing(watch, watch_editor):
    actions.watch_update(watch=watch, actor=watch_editor, is_active=False)
    ingest(post("a"))
    assert Mention.objects.get().watches.count() == 0


def test_volume_series_counts_each_bucket_with_its_tone(watch):
    from datetime import UTC, datetime, timedelta

    from incidents.listening.selectors import volume_series

    ingest(
        post("a", posted_at="2026-11-30T09:01:10Z"),  # French, negative
        post("b", posted_at="2026-11-30T09:04:59Z", text="Maison Lumière, merci beaucoup !"),
        post("c", posted_at="2026-11-30T09:12:00Z"),
        post("d", posted_at="2026-11-30T09:30:00Z"),  # past the end
    )
    start = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    series = volume_series(watch.id, start, start + timedelta(minutes=15), timedelta(minutes=5))
    assert [(b.start.minute, b.mentions, b.negative) for b in series] == [
        (0, 2, 1),
        (5, 0, 0),
        (10, 1, 1),
    ]
    assert series[0].negative_share == 0.5 and series[1].negative_share is None


def test_subscribers_are_listening_readers_given_by_id(watch_editor, reader, outsider, api):
    editor = api.as_user(watch_editor)
    response = editor.post(
        "/api/watches/",
        {"name": "Rappel", "brand": "x", "keywords": ["yy"], "subscribers": [reader.pk]},
        format="json",
    )
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["subscribers"] == [reader.pk]
    url = f"/api/watches/{created['id']}/"
    assert api.as_user(reader).get(url).json()["subscribers"] == [reader.pk]
    editor = api.as_user(watch_editor)  # one client: back to the editor
    refused = editor.patch(url, {"subscribers": [reader.pk, outsider.pk]}, format="json")
    assert f"The person with the id {outsider.pk} may not read listening data" in assert_error(
        refused, 400
    )
    assert list(refused.json()["errors"]) == ["subscribers"]
    unknown = editor.patch(url, {"subscribers": [10**9]}, format="json")
    assert "no person with the id" in assert_error(unknown, 400)
    both = editor.patch(url, {"subscribers": [watch_editor.pk, reader.pk]}, format="json")
    assert both.json()["subscribers"] == sorted([watch_editor.pk, reader.pk])
    # Another field changed alone leaves the subscribers as they are.
    renamed = editor.patch(url, {"brand": "z"}, format="json").json()
    assert renamed["subscribers"] == sorted([watch_editor.pk, reader.pk])
    assert editor.patch(url, {"subscribers": []}, format="json").json()["subscribers"] == []
    assert Watch.objects.get(pk=created["id"]).subscribers.count() == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"keywords": [f"k{i}" for i in range(201)]}, "keywords"),
        ({"hashtags": ["x" * 101]}, "hashtags"),
        ({"languages": ["english"]}, "languages"),
        ({"volume_deviations": 0}, "volume_deviations"),
        ({"tone_shift_points": 101}, "tone_shift_points"),
        ({"name": "Maison Lumière"}, "name"),
        ({"keywords": [], "hashtags": [], "handles": []}, "keywords"),
        # Codes that are no language, names differing only by case, terms that match
        # nothing (or everything), an exclusion that hides its own keyword.
        ({"languages": ["xx"]}, "languages"),
        ({"name": "maison LUMIÈRE"}, "name"),
        ({"keywords": ["!!!"]}, "keywords"),
        ({"keywords": ["a"]}, "keywords"),
        ({"hashtags": ["#…"]}, "hashtags"),
        ({"keywords": ["Lumière"], "exclusions": ["lumiere"]}, "exclusions"),
    ],
)
def test_a_refused_watch_value_names_its_field(watch, watch_editor, api, body, field):
    other = actions.watch_create(actor=watch_editor, name="Other", brand="x", keywords=["yy"])
    response = api.as_user(watch_editor).patch(f"/api/watches/{other.pk}/", body, format="json")
    assert_error(response, 400)
    assert field in response.json()["errors"], response.json()
    assert Watch.objects.get(pk=other.pk).keywords == ["yy"]


def test_several_refused_values_are_named_together(watch, watch_editor, api):
    body = {"name": watch.name.lower(), "brand": "x", "keywords": ["a"], "languages": ["zz"]}
    response = api.as_user(watch_editor).post("/api/watches/", body, format="json")
    assert_error(response, 400)
    assert set(response.json()["errors"]) == {"name", "keywords", "languages"}


def test_the_watch_list_costs_the_same_whatever_the_subscribers(
    watch, watch_editor, reader, api, django_assert_max_num_queries
):
    client = api.as_user(reader)
    with CaptureQueriesContext(connection) as few:
        client.get("/api/watches/")
    for i in range(5):
        actions.watch_create(
            actor=watch_editor,
            name=f"W{i}",
            brand="x",
            keywords=["yy"],
            subscribers=[reader, watch_editor],
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        listed = client.get("/api/watches/").json()["results"]
    assert len(listed) == 6 and listed[-1]["subscribers"] == sorted([reader.pk, watch_editor.pk])


def test_watches_are_listed_in_cursor_pages(reader, watch_editor, api):
    for i in range(5):
        actions.watch_create(actor=watch_editor, name=f"W{i}", brand="x", keywords=[f"k{i}"])
    client = api.as_user(reader)
    first = client.get("/api/watches/", {"page_size": 3}).json()
    assert [w["name"] for w in first["results"]] == ["W0", "W1", "W2"]
    second = client.get(first["next"]).json()
    assert [w["name"] for w in second["results"]] == ["W3", "W4"] and second["next"] is None
    assert_error(client.get("/api/watches/", {"cursor": "garbage"}), 400)


def test_an_unknown_api_path_is_a_json_404_even_in_debug(reader, api, settings):
    """An id too long for the `id` converter matches no route: with DEBUG on, Django would
    answer its HTML page; an API client gets JSON."""
    settings.DEBUG = True
    client = api.as_user(reader)
    for path in (
        "/api/mentions/123456789012345678901/",
        "/api/watches/123456789012345678901/",
        "/api/signals/123456789012345678901/",
        "/api/incidents/123456789012345678901/mentions/",
        "/api/no-such-list/",
    ):
        response = client.get(path)
        assert response.status_code == 404 and response.json() == {"detail": "Not found."}, path
    assert client.get("/api/watches").status_code == 301  # the slash is still added
    # A write there is a 404 too, not the CSRF failure page's "sign in again" (the session
    # client enforces CSRF as a browser would).
    browser = APIClient(enforce_csrf_checks=True)
    browser.force_login(reader)
    for method in ("post", "patch", "delete"):
        response = getattr(browser, method)("/api/no-such-list/", {}, format="json")
        assert response.status_code == 404, method


def test_the_schema_declares_the_cursor_pages_and_gzip():
    from drf_spectacular.generators import SchemaGenerator

    paths = SchemaGenerator().get_schema(request=None, public=True)["paths"]
    for path in (
        "/api/mentions/",
        "/api/signals/",
        "/api/watches/",
        "/api/incidents/{id}/mentions/",
    ):
        names = {p["name"] for p in paths[path]["get"]["parameters"]}
        assert {"cursor", "page_size"} <= names, path
    bulk = paths["/api/mentions/bulk/"]["post"]
    encoding = next(p for p in bulk["parameters"] if p["name"] == "Content-Encoding")
    assert encoding["in"] == "header" and encoding["schema"]["enum"] == ["gzip", "identity"]


def test_watch_languages_follow_the_posts_rule(watch_editor, api):
    """A watch's languages are read as a post's are (ingest.language_code): a tag is its
    language, whatever its case."""
    body = {"name": "Tags", "brand": "x", "keywords": ["tags"], "languages": ["en-US", "FR", "und"]}
    created = api.as_user(watch_editor).post("/api/watches/", body, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["languages"] == ["en", "fr"]


def test_every_problem_of_a_term_list_is_said_the_same_as_on_the_page(watch_editor, api):
    # The field refused a term of 101 characters first, naming only its position, and hid
    # the short one; and "#" plus 100 letters, saved by the page, was refused by the API.
    client = api.as_user(watch_editor)
    body = {"name": "Probe", "brand": "x", "keywords": ["a", "k" * 101, "kettle"]}
    response = client.post("/api/watches/", body, format="json")
    assert_error(response, 400)
    said = " ".join(response.json()["errors"]["keywords"])
    assert "is longer than 100 characters" in said and "“a” is too short" in said
    tag = {"name": "Tagged", "brand": "x", "hashtags": ["#" + "h" * 100]}
    assert client.post("/api/watches/", tag, format="json").status_code == 201
    # One hashtag refused is named as written, with its "#".
    short = client.post("/api/watches/", {**tag, "name": "T2", "hashtags": ["#a"]}, format="json")
    assert "“#a” is too short" in short.json()["errors"]["hashtags"][0]
