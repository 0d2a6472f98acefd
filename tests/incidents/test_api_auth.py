"""API authentication, the error envelope for anonymous callers, and the schema/docs pages."""

import json
import re

import pytest
from django.contrib.staticfiles import finders
from django.core.cache import cache
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from incidents.models import Incident, TimelineEntry
from tests.helpers import assert_error

TOKEN_URL = "/api/auth/token/"
PASSWORD = "pw-for-tests"  # what the conftest `make_user` factory sets


@pytest.fixture(autouse=True)
def _fresh_throttle_cache():
    """The token endpoint is throttled through the cache; each test starts with a clean slate."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def anon():
    return APIClient()


# --- Token endpoint ----------------------------------------------------------------------


def test_valid_credentials_return_a_token_stored_for_that_user(anon, lead):
    response = anon.post(TOKEN_URL, {"username": "lead", "password": PASSWORD}, format="json")

    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"token"}
    assert isinstance(body["token"], str) and len(body["token"]) == 40
    assert Token.objects.get(user=lead).key == body["token"]


def test_asking_twice_returns_the_same_token(anon, lead):
    first = anon.post(TOKEN_URL, {"username": "lead", "password": PASSWORD}, format="json")
    second = anon.post(TOKEN_URL, {"username": "lead", "password": PASSWORD}, format="json")

    assert first.status_code == second.status_code == 200
    assert first.json()["token"] == second.json()["token"]
    assert Token.objects.filter(user=lead).count() == 1


def test_token_endpoint_accepts_form_encoded_credentials(anon, lead):
    response = anon.post(TOKEN_URL, {"username": "lead", "password": PASSWORD})

    assert response.status_code == 200, response.content
    assert response.json()["token"] == Token.objects.get(user=lead).key


def test_token_header_authenticates_the_incident_list(anon, incident, drafter):
    token = anon.post(
        TOKEN_URL, {"username": "drafter", "password": PASSWORD}, format="json"
    ).json()["token"]

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    response = client.get("/api/incidents/")

    assert response.status_code == 200, response.content
    results = response.json()["results"]
    assert [item["id"] for item in results] == [incident.pk]
    assert results[0]["my_role"] == "drafter"


def test_token_header_authenticates_writes(anon, incident, lead):
    token = anon.post(TOKEN_URL, {"username": "lead", "password": PASSWORD}, format="json").json()[
        "token"
    ]

    client = APIClient(enforce_csrf_checks=True)  # a token client needs no CSRF token
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    response = client.post(
        f"/api/incidents/{incident.pk}/timeline/",
        {"kind": "note", "text": "Posted with a token"},
        format="json",
    )

    assert response.status_code == 201, response.content
    entry = TimelineEntry.objects.get(incident=incident, seq=response.json()["seq"])
    assert entry.actor == lead
    assert entry.text == "Posted with a token"


def test_wrong_password_gets_400_with_detail_and_no_token(anon, lead):
    response = anon.post(TOKEN_URL, {"username": "lead", "password": "wrong"}, format="json")

    detail = assert_error(response, 400)
    assert "credentials" in detail.lower()
    assert "token" not in response.json()
    assert not Token.objects.exists()


def test_unknown_username_gets_400_with_detail(anon, db):
    response = anon.post(TOKEN_URL, {"username": "nobody", "password": PASSWORD}, format="json")

    assert_error(response, 400)
    assert not Token.objects.exists()


def test_missing_password_gets_400_naming_the_field(anon, lead):
    response = anon.post(TOKEN_URL, {"username": "lead"}, format="json")

    detail = assert_error(response, 400)
    assert "password" in detail
    assert "password" in response.json()["errors"]
    assert not Token.objects.exists()


def test_deactivated_account_cannot_obtain_a_token(anon, make_user):
    make_user("gone", is_active=False)

    response = anon.post(TOKEN_URL, {"username": "gone", "password": PASSWORD}, format="json")

    assert_error(response, 400)
    assert not Token.objects.exists()


def test_token_endpoint_rejects_get(anon, db):
    response = anon.get(TOKEN_URL)

    assert_error(response, 405)


def test_token_endpoint_throttles_a_flood_from_one_address(anon, lead):
    """Wrong passwords lock the account (tests/incidents/test_login_lockout.py); the
    per-address throttle only stops floods, spread here over many names."""
    for n in range(60):
        response = anon.post(TOKEN_URL, {"username": f"guess{n}", "password": "x"}, format="json")
        assert response.status_code == 400

    response = anon.post(TOKEN_URL, {"username": "lead", "password": PASSWORD}, format="json")

    assert_error(response, 429)
    assert not Token.objects.exists()


# --- Unauthenticated and badly authenticated requests ------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/incidents/"),
        ("post", "/api/incidents/"),
        ("get", "/api/incidents/{pk}/"),
        ("patch", "/api/incidents/{pk}/"),
        ("post", "/api/incidents/{pk}/transition/"),
        ("get", "/api/incidents/{pk}/members/"),
        ("post", "/api/incidents/{pk}/members/"),
        ("patch", "/api/incidents/{pk}/members/{drafter}/"),
        ("delete", "/api/incidents/{pk}/members/{drafter}/"),
        ("get", "/api/incidents/{pk}/timeline/"),
        ("post", "/api/incidents/{pk}/timeline/"),
    ],
)
def test_anonymous_request_is_refused_with_json_detail(anon, incident, drafter, method, path):
    url = path.format(pk=incident.pk, drafter=drafter.pk)
    entries = TimelineEntry.objects.count()
    incidents = Incident.objects.count()

    response = getattr(anon, method)(url, {}, format="json")

    assert response.status_code == 401, response.content
    assert response["WWW-Authenticate"] == "Token"
    assert_error(response, response.status_code)
    assert response.json()["detail"] == "Authentication credentials were not provided."
    assert TimelineEntry.objects.count() == entries
    assert Incident.objects.count() == incidents


def test_anonymous_list_does_not_leak_incidents(anon, incident):
    response = anon.get("/api/incidents/")

    assert response.status_code in (401, 403)
    assert "results" not in response.json()
    assert incident.title not in response.text


def test_unknown_token_is_refused_with_json_detail(incident):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token " + "0" * 40)

    response = client.get("/api/incidents/")

    assert response.status_code == 401, response.content
    assert assert_error(response, response.status_code) == "Invalid token."


def test_token_of_deactivated_user_stops_working(anon, lead, incident):
    token = anon.post(TOKEN_URL, {"username": "lead", "password": PASSWORD}, format="json").json()[
        "token"
    ]
    lead.is_active = False
    lead.save(update_fields=["is_active"])

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    response = client.get("/api/incidents/")

    assert response.status_code in (401, 403), response.content
    assert_error(response, response.status_code)


def test_malformed_authorization_header_is_refused(incident):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token two words")

    response = client.get("/api/incidents/")

    assert response.status_code in (401, 403), response.content
    assert_error(response, response.status_code)


# --- Schema and documentation ------------------------------------------------------------

API_PATHS = [
    "/api/auth/token/",
    "/api/incidents/",
    "/api/incidents/{id}/",
    "/api/incidents/{id}/transition/",
    "/api/incidents/{id}/members/",
    "/api/incidents/{id}/members/{user_id}/",
    "/api/incidents/{id}/timeline/",
]


@pytest.fixture
def schema(anon, db):
    response = anon.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200, response.content
    return json.loads(response.content)


def test_schema_is_served_as_openapi(anon, db):
    response = anon.get("/api/schema/")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.oai.openapi")
    text = response.content.decode()
    assert text.startswith("openapi: 3")
    for path in API_PATHS:
        assert f"  {path}:" in text


def test_schema_lists_every_api_path_and_method(schema):
    assert schema["info"]["title"] == "Crisis Cell API"
    paths = schema["paths"]
    assert set(API_PATHS) <= set(paths)
    assert set(paths["/api/incidents/"]) >= {"get", "post"}
    assert set(paths["/api/incidents/{id}/"]) >= {"get", "patch"}
    assert "put" not in paths["/api/incidents/{id}/"]
    assert "delete" not in paths["/api/incidents/{id}/"]
    assert "post" in paths["/api/incidents/{id}/transition/"]
    assert set(paths["/api/incidents/{id}/members/"]) >= {"get", "post"}
    assert set(paths["/api/incidents/{id}/members/{user_id}/"]) >= {"patch", "delete"}
    assert set(paths["/api/incidents/{id}/timeline/"]) >= {"get", "post"}
    assert "post" in paths["/api/auth/token/"]


def test_schema_documents_the_query_parameters(schema):
    def names(path):
        return {p["name"] for p in schema["paths"][path]["get"].get("parameters", [])}

    assert {"open", "status"} <= names("/api/incidents/")
    assert "history" in names("/api/incidents/{id}/members/")
    assert {"after", "kind", "key_events", "actor"} <= names("/api/incidents/{id}/timeline/")


def test_schema_types_every_incident_id_path_parameter_as_integer(schema):
    """Generated clients must not treat incident ids as strings on some paths and integers
    on others."""
    for path in API_PATHS:
        for operation in schema["paths"][path].values():
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "path":
                    assert parameter["schema"]["type"] == "integer", (path, parameter)


def test_swagger_docs_page_is_served(anon, db):
    response = anon.get("/api/docs/")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert 'id="swagger-ui"' in html
    # Its settings come as a script file (no inline script under the CSP).
    script = anon.get("/api/docs/?script=")
    assert script["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle" in script.content.decode()
    assert '"/api/schema/"' in script.content.decode()


def test_swagger_docs_load_assets_from_local_sidecar_static_files_not_a_cdn(anon, db):
    html = anon.get("/api/docs/").content.decode()
    html += anon.get("/api/docs/?script=").content.decode()
    # The page embeds a random CSRF token, which could spell "cdn" by chance.
    html = re.sub(r'"X-CSRFTOKEN"\] = "[^"]*"', "", html)

    # Production storage adds a content hash to the names: app.0123456789ab.js
    assets = [
        re.sub(r"\.[0-9a-f]{12}(\.\w+)$", r"\1", asset)
        for asset in re.findall(r'(?:src|href)="([^"]+)"', html)
    ]
    assert assets, html
    assets.remove("/api/docs/?script=")  # the page's settings (test above)
    for asset in assets:
        assert asset.startswith("/static/drf_spectacular_sidecar/"), asset
        assert finders.find(asset.removeprefix("/static/")), f"{asset} is not a static file"
    assert "://" not in html.replace('"http"', "")
    for cdn in ("cdn", "jsdelivr", "unpkg", "cloudflare", "googleapis"):
        assert cdn not in html.lower()
    assert any(a.endswith("swagger-ui-bundle.js") for a in assets)
    assert any(a.endswith("swagger-ui.css") for a in assets)
