"""Malformed requests get a 400 with a readable `detail`, never a 500: JSON nested too deep
(json raised RecursionError), a NUL character (PostgreSQL text cannot hold one), a lone
surrogate (nothing can encode one)."""

import json

import pytest
from django.urls import get_resolver
from rest_framework.parsers import JSONParser as DRFJSONParser
from rest_framework.test import APIClient
from rest_framework.views import APIView

from incidents.api import parsers
from incidents.models import TimelineEntry
from tests.helpers import assert_error

DEEP = "[" * 100_000 + "]" * 100_000


def post_json(client, url, body: str):
    return client.generic("POST", url, body, content_type="application/json")


def test_deeply_nested_json_is_refused_before_login():
    detail = assert_error(post_json(APIClient(), "/api/auth/token/", DEEP), 400)
    assert "nested" in detail


def test_deeply_nested_json_is_refused_on_a_write(api, incident, drafter):
    client = api.as_user(drafter)
    body = '{"kind": "note", "text": ' + DEEP + "}"
    assert_error(post_json(client, f"/api/incidents/{incident.pk}/timeline/", body), 400)


def test_json_a_little_too_deep_for_any_api_body_is_refused(api, incident, drafter):
    client = api.as_user(drafter)
    nested = {"text": "x"}
    for _ in range(parsers.MAX_DEPTH):
        nested = {"nested": nested}
    response = post_json(client, f"/api/incidents/{incident.pk}/timeline/", json.dumps(nested))
    assert "nested" in assert_error(response, 400)


@pytest.mark.parametrize("text", ["a\x00b", "\x00"])
def test_a_nul_character_in_json_text_is_refused(api, incident, drafter, text):
    client = api.as_user(drafter)
    body = json.dumps({"kind": "note", "text": text})
    response = post_json(client, f"/api/incidents/{incident.pk}/timeline/", body)
    assert "NUL" in assert_error(response, 400)


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/incidents/{pk}/timeline/", {"kind": "\ud800", "text": "x"}),
        ("/api/incidents/{pk}/transition/", {"status": "\udfff"}),
        ("/api/incidents/{pk}/statements/", {"kind": "holding", "channel": "x\ud800"}),
        ("/api/incidents/{pk}/timeline/", {"kind": "note", "text": "ok", "\ud800": 1}),
    ],
)
def test_a_lone_surrogate_in_json_is_refused(api, incident, lead, path, body):
    """A choice field quoted the value back in its error, which could not be written as
    UTF-8: a 500 on some fifteen endpoints (from a break-it pass)."""
    response = post_json(api.as_user(lead), path.format(pk=incident.pk), json.dumps(body))
    assert "surrogate" in assert_error(response, 400)


def test_a_nul_character_in_a_json_key_is_refused(api, incident, drafter):
    body = json.dumps({"kind": "note", "text": "x", "a\x00": 1})
    client = api.as_user(drafter)
    assert_error(post_json(client, f"/api/incidents/{incident.pk}/timeline/", body), 400)


@pytest.mark.parametrize(
    "path",
    [
        "/api/incidents/?status=%00",
        "/api/incidents/?st%00atus=open",
        "/api/incidents/{pk}/timeline/?kind=%00",
        "/api/incidents/{pk}/timeline/?kind=note%00",
        "/api/incidents/{pk}/statements/?x=%00",
        "/api/playbooks/?category=%00",
    ],
)
def test_a_nul_character_in_an_api_filter_is_refused(api, incident, lead, path):
    response = api.as_user(lead).get(path.format(pk=incident.pk))
    assert "NUL" in assert_error(response, 400)


def test_a_nul_character_in_a_page_filter_or_form_is_refused(browser_client, incident, lead):
    client = browser_client.as_user(lead)
    response = client.get(f"/incidents/{incident.pk}/?kind=%00")
    assert response.status_code == 400
    assert b"NUL" in response.content
    url = f"/incidents/{incident.pk}/entries/"
    body = "kind=note&text=a%00"
    response = client.post(url, body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    # Multipart bodies are left to the form fields, which refuse it too.
    response = client.post(url, {"kind": "note", "text": "a\x00"})
    assert response.status_code < 500
    assert not TimelineEntry.objects.filter(text__startswith="a").exists()


def test_a_nul_character_gets_the_apps_page_with_a_plain_sentence(browser_client, incident, lead):
    client = browser_client.as_user(lead)
    url = f"/incidents/{incident.pk}/entries/"
    body = "kind=note&text=a%00"
    response = client.post(url, body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    html = response.content.decode()
    # The signed-in layout (the person's menu), not a bare page, and a sentence that says
    # what to do.
    assert 'data-user="' in html and "Log out" in html
    assert "invisible character" in html and "remove it and send again" in html
    html = client.get(
        f"/incidents/{incident.pk}/?kind=%00", HTTP_ACCEPT_LANGUAGE="fr"
    ).content.decode()
    assert "caractère invisible" in html
    # From htmx (a form sent by the page's script): JSON, which the page shows as a message.
    response = client.post(
        url, body, content_type="application/x-www-form-urlencoded", HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 400 and response["Content-Type"] == "application/json"
    assert "invisible character" in response.json()["detail"]
    assert not TimelineEntry.objects.filter(text__startswith="a").exists()


def test_every_api_view_parses_json_with_the_guarded_parser():
    """The class of fault: a view listing its own parsers (DRF's token view does) would
    bring back DRF's unguarded JSON parser."""
    views = []

    def walk(patterns):
        for pattern in patterns:
            if hasattr(pattern, "url_patterns"):
                walk(pattern.url_patterns)
                continue
            view = getattr(pattern.callback, "cls", None) or getattr(
                pattern.callback, "view_class", None
            )
            if view is not None and issubclass(view, APIView):
                views.append(view)

    walk(get_resolver().url_patterns)
    assert len(views) > 10
    for view in views:
        for parser in view.parser_classes:
            if issubclass(parser, DRFJSONParser):
                assert issubclass(parser, parsers.JSONParser), (view, parser)


@pytest.mark.parametrize("debug", [False, True])  # True: the embedded default (`make run`)
def test_a_body_past_the_upload_limit_gets_413_with_the_limit(api, drafter, settings, debug):
    settings.DEBUG = debug  # Django answered with its HTML page when on
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    body = json.dumps({"title": "x" * 20_000})
    response = post_json(api.as_user(drafter), "/api/incidents/", body)
    assert "too large" in assert_error(response, 413)


def test_a_form_past_the_upload_limit_gets_a_413_page(client, drafter, incident, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    client.force_login(drafter)
    response = client.post(
        f"/incidents/{incident.pk}/entries/", {"kind": "note", "text": "x" * 20_000}
    )
    assert response.status_code == 413
    assert "too large" in response.content.decode()


@pytest.mark.parametrize("content_type", ["form", "multipart"])
def test_a_form_body_without_a_boolean_leaves_it_out_as_json_does(
    api, incident, lead, approver, content_type
):
    """DRF reads a form's missing field as an unticked checkbox: `note=oops` lifted the
    promotion freeze, and `x=1` turned off "quiet while looking" in one's preferences."""
    from urllib.parse import urlencode

    from incidents import actions

    def send(client, method, url, data):
        if content_type == "form":
            return getattr(client, method)(
                url, urlencode(data), content_type="application/x-www-form-urlencoded"
            )
        return getattr(client, method)(url, data, format="multipart")

    actions.incident_set_promotion_freeze(incident=incident, actor=lead, frozen=True)
    url = f"/api/incidents/{incident.pk}/promotion-freeze/"
    refused = send(api.as_user(lead), "post", url, {"note": "oops"})
    assert "frozen" in str(assert_error(refused, 400))
    incident.refresh_from_db()
    assert incident.holding_freeze is not None

    preferences = "/api/notifications/preferences/"
    client = api.as_user(approver)
    turned_on = client.put(preferences, {"quiet_when_looking": True}, format="json")
    assert turned_on.json()["quiet_when_looking"] is True
    kept = send(client, "put", preferences, {"x": "1"})
    assert kept.status_code == 200, kept.content
    assert kept.json()["quiet_when_looking"] is True


def test_every_writable_api_boolean_and_number_is_ours():
    """The class of fault, for the fields DRF builds from a model's fields too (a watch
    created with a form body started switched off; `true` for a threshold stored 1): every
    writable boolean, integer, float and list field of every serializer is
    incidents.api.fields' (a list's length is checked before its items)."""
    from rest_framework import serializers

    from incidents.api import fields

    assert get_resolver().url_patterns  # every API module imported

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    ours = [
        cls
        for cls in set(subclasses(serializers.Serializer))
        if cls.__module__.startswith(("incidents", "statements", "crisiscell"))
        and (hasattr(cls, "Meta") or not issubclass(cls, serializers.ModelSerializer))
    ]
    assert len(ours) > 50
    kinds = [(getattr(serializers, name), getattr(fields, name)) for name in KINDS]
    plain = [
        f"{cls.__module__}.{cls.__name__}.{name}"
        for cls in ours
        for name, field in cls().fields.items()
        for drf, own in kinds
        if isinstance(field, drf) and not field.read_only and not isinstance(field, own)
    ]
    assert plain == []
    child = [
        f"{cls.__module__}.{cls.__name__}.{name}"
        for cls in ours
        for name, field in cls().fields.items()
        if isinstance(field, serializers.ListField) and not field.read_only
        for drf, own in kinds
        if isinstance(field.child, drf) and not isinstance(field.child, own)
    ]
    assert child == []


KINDS = ("BooleanField", "IntegerField", "FloatField", "ListField")


def test_a_watch_created_with_a_form_body_is_active(api, make_user):
    from django.contrib.auth.models import Permission

    editor = make_user("watcher", is_staff=True)
    editor.user_permissions.add(*Permission.objects.filter(content_type__app_label="listening"))
    response = api.as_user(editor).post(
        "/api/watches/",
        "name=formwatch&brand=Acme&keywords=kettle",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 201, response.content
    assert response.json()["is_active"] is True


def test_a_form_body_resets_the_message_language_as_json_does(api, drafter):
    from urllib.parse import urlencode

    client = api.as_user(drafter)
    client.put("/api/notifications/preferences/", {"language": "fr"}, format="json")
    reset = client.put(
        "/api/notifications/preferences/",
        urlencode({"language": ""}),
        content_type="application/x-www-form-urlencoded",
    )
    assert reset.status_code == 200, reset.content
    assert reset.json()["language"] == ""


@pytest.mark.parametrize("debug", [False, True])
def test_a_form_body_with_too_many_fields_is_answered_in_json(
    api, incident, drafter, settings, debug
):
    """Under DEBUG (`make run`) the API answered Django's HTML debug page for a form body
    of 10,000 fields, while JSON bodies got JSON (from a break-it pass)."""
    settings.DEBUG = debug
    body = "&".join(f"a{n}=1" for n in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1))
    response = api.as_user(drafter).generic(
        "POST",
        f"/api/incidents/{incident.pk}/timeline/",
        body,
        content_type="application/x-www-form-urlencoded",
    )
    assert response["Content-Type"] == "application/json"
    assert "Too many fields" in assert_error(response, 400)


@pytest.mark.parametrize("debug", [False, True])
def test_a_query_with_too_many_parameters_is_a_400(api, lead, browser_client, settings, debug):
    """Under DEBUG a query string past DATA_UPLOAD_MAX_NUMBER_FIELDS was a 500 (from a
    break-it pass)."""
    settings.DEBUG = debug
    query = "&".join(f"f{n}=1" for n in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1))
    response = api.as_user(lead).get(f"/api/incidents/?{query}")
    assert "Too many fields" in assert_error(response, 400)
    assert browser_client.get(f"/accounts/login/?{query}").status_code == 400
