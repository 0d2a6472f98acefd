"""Work is never lost to an expired session or a rotated CSRF token (server side; the
browser side is tests/browser/test_keep_work.py): htmx requests from a signed-out browser
get 401 + X-Sign-In instead of the login page, a stale token gets a recognisable 403, the
sign-in dialog's endpoint signs in under the same lockout, and the statement editor's URL
opened with GET (after signing in again) leads back to the statement."""

import pytest
from django.core.cache import cache
from django.test import Client

from incidents.models import TimelineEntry
from tests.helpers import assert_error

PASSWORD = "pw-for-tests"
SESSION_URL = "/accounts/session/"
HTMX = {"HTTP_HX_REQUEST": "true"}

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_lockout_cache():
    cache.clear()
    yield
    cache.clear()


def entry_url(incident):
    return f"/incidents/{incident.pk}/entries/"


def test_a_signed_out_htmx_request_gets_401_and_the_sign_in_header(client, incident):
    response = client.post(entry_url(incident), {"kind": "note", "text": "Kept"}, **HTMX)
    assert_error(response, 401)
    assert response["X-Sign-In"] == "required"
    assert not TimelineEntry.objects.filter(text="Kept").exists()


def test_a_signed_out_page_request_is_still_redirected_to_the_login_page(client, incident):
    response = client.get(f"/incidents/{incident.pk}/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")
    assert "X-Sign-In" not in response


def test_a_signed_in_htmx_redirect_is_left_alone(client, incident, lead, make_statement):
    statement = make_statement()
    client.force_login(statement.author)
    response = client.get(f"/statements/{statement.pk}/edit/", **HTMX)
    assert response.status_code == 302
    assert response["Location"] == f"/statements/{statement.pk}/"


def test_a_stale_csrf_token_on_an_htmx_request_gets_a_recognisable_403(incident, lead):
    client = Client(enforce_csrf_checks=True)
    client.force_login(lead)
    client.get(f"/incidents/{incident.pk}/")  # sets the CSRF cookie
    response = client.post(
        entry_url(incident), {"kind": "note", "text": "Stale"}, HTTP_X_CSRFTOKEN="x" * 64, **HTMX
    )
    assert_error(response, 403)
    assert response["X-Sign-In"] == "csrf"


def test_a_stale_csrf_token_on_a_page_gets_djangos_page(incident, lead):
    client = Client(enforce_csrf_checks=True)
    client.force_login(lead)
    response = client.post(entry_url(incident), {"kind": "note", "text": "Stale"})
    assert response.status_code == 403
    assert response["Content-Type"].startswith("text/html")
    assert "X-Sign-In" not in response


def test_the_session_endpoint_tells_who_is_signed_in_and_gives_a_token(client, lead):
    anonymous = client.get(SESSION_URL).json()
    assert anonymous["user"] is None and anonymous["csrf_token"]
    client.force_login(lead)
    signed_in = client.get(SESSION_URL)
    assert signed_in["Cache-Control"].startswith("max-age=0")
    assert signed_in.json()["user"] == lead.pk


def test_signing_in_through_the_endpoint_needs_a_token_and_returns_a_fresh_one(lead):
    client = Client(enforce_csrf_checks=True, REMOTE_ADDR="203.0.113.9")
    refused = client.post(SESSION_URL, {"username": "lead", "password": PASSWORD})
    assert refused.status_code == 403
    token = client.get(SESSION_URL).json()["csrf_token"]
    response = client.post(
        SESSION_URL, {"username": "lead", "password": PASSWORD}, HTTP_X_CSRFTOKEN=token
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["user"] == lead.pk
    assert body["csrf_token"] and body["csrf_token"] != token  # rotated at sign-in
    assert "_auth_user_id" in client.session


def test_wrong_passwords_through_the_endpoint_lock_the_account_like_the_login_page(lead):
    client = Client(REMOTE_ADDR="203.0.113.9")
    for _ in range(4):
        detail = assert_error(client.post(SESSION_URL, {"username": "lead", "password": "no"}), 400)
    assert "didn't match" in detail
    locked = client.post(SESSION_URL, {"username": "lead", "password": "no"})
    assert "Too many failed sign-in attempts" in assert_error(locked, 429)
    right = client.post(SESSION_URL, {"username": "lead", "password": PASSWORD})
    assert_error(right, 429)
    assert "_auth_user_id" not in client.session
    # The login page counts the same attempts.
    assert (
        client.post("/accounts/login/", {"username": "lead", "password": PASSWORD}).status_code
        == 429
    )


def test_the_statement_editor_opened_with_get_leads_to_the_statement(client, make_statement):
    statement = make_statement()
    client.force_login(statement.author)
    response = client.get(f"/statements/{statement.pk}/edit/")
    assert response.status_code == 302
    assert response["Location"] == f"/statements/{statement.pk}/"
    statement.refresh_from_db()
    assert statement.revision == 1


def test_signing_in_again_after_an_expired_edit_lands_on_the_statement(client, make_statement):
    statement = make_statement()
    edit_url = f"/statements/{statement.pk}/edit/"
    expired = client.post(edit_url, {"text": "New text", "revision": 1})
    assert expired.status_code == 302 and expired["Location"].startswith("/accounts/login/")
    response = client.post(
        "/accounts/login/",
        {"username": statement.author.username, "password": PASSWORD, "next": edit_url},
        follow=True,
    )
    assert response.redirect_chain[-1] == (f"/statements/{statement.pk}/", 302)
    assert response.status_code == 200
    assert 'data-keep="statement-' in response.text
