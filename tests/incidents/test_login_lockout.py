"""Sign-in lockout (django-axes), one rule for the login page, the admin login and the API
token: five wrong passwords for an account lock it for the cool-off, per account and per
account + address, never per address alone."""

import logging

import pytest
from django.core.cache import cache
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.helpers import assert_error

PASSWORD = "pw-for-tests"
LOGIN_URL = "/accounts/login/"
ADMIN_LOGIN_URL = "/admin/login/"
TOKEN_URL = "/api/auth/token/"
LOCKED = "Too many failed sign-in attempts for this account. Try again in 15 minutes."

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_throttle_cache():
    cache.clear()
    yield
    cache.clear()


def browser(address="203.0.113.7"):
    return Client(REMOTE_ADDR=address)


def fail(client, times, username="lead", url=LOGIN_URL):
    for _ in range(times):
        client.post(url, {"username": username, "password": "wrong"})


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_the_right_password_after_five_wrong_ones_is_refused_with_a_clear_message(lead, caplog):
    client = browser()
    fail(client, 4)
    with caplog.at_level(logging.WARNING):
        fifth = client.post(LOGIN_URL, {"username": "lead", "password": "wrong"})
    assert fifth.status_code == 429
    assert LOCKED in fifth.text
    locking = [r.getMessage() for r in caplog.records if "Locking out" in r.getMessage()]
    assert locking and "lead" in locking[0] and "203.0.113.7" in locking[0]  # logged

    response = client.post(LOGIN_URL, {"username": "lead", "password": PASSWORD})
    assert response.status_code == 429
    assert LOCKED in response.text and 'name="password"' in response.text
    assert not signed_in(client)


def test_the_account_is_locked_from_every_address(lead):
    fail(browser("203.0.113.7"), 5)
    elsewhere = browser("198.51.100.20")
    response = elsewhere.post(LOGIN_URL, {"username": "lead", "password": PASSWORD})
    assert response.status_code == 429 and not signed_in(elsewhere)


def test_others_behind_the_same_address_still_sign_in(lead, drafter):
    client = browser()
    fail(client, 5)
    colleague = browser()
    response = colleague.post(LOGIN_URL, {"username": "drafter", "password": PASSWORD})
    assert response.status_code == 302 and signed_in(colleague)


def test_a_successful_sign_in_starts_the_count_over(lead):
    client = browser()
    fail(client, 4)
    assert client.post(LOGIN_URL, {"username": "lead", "password": PASSWORD}).status_code == 302
    client.logout()
    fail(client, 4)
    assert client.post(LOGIN_URL, {"username": "lead", "password": PASSWORD}).status_code == 302


def test_the_admin_login_shares_the_lockout(make_user):
    make_user("chief", is_staff=True, is_superuser=True)
    client = browser()
    fail(client, 5, username="chief", url=ADMIN_LOGIN_URL)
    response = client.post(
        ADMIN_LOGIN_URL, {"username": "chief", "password": PASSWORD, "next": "/admin/"}
    )
    assert response.status_code == 429
    assert LOCKED in response.text
    assert not signed_in(client)
    # ... and the login page knows it too.
    response = client.post(LOGIN_URL, {"username": "chief", "password": PASSWORD})
    assert response.status_code == 429


def test_the_api_token_endpoint_locks_the_account_not_the_address(lead, drafter):
    api = APIClient(REMOTE_ADDR="203.0.113.7")
    for _ in range(4):
        response = api.post(TOKEN_URL, {"username": "lead", "password": "wrong"}, format="json")
        assert response.status_code == 400
    response = api.post(TOKEN_URL, {"username": "lead", "password": "wrong"}, format="json")
    assert assert_error(response, 429) == LOCKED

    response = api.post(TOKEN_URL, {"username": "lead", "password": PASSWORD}, format="json")
    assert assert_error(response, 429) == LOCKED
    assert response["Retry-After"] == "900"
    assert not Token.objects.filter(user=lead).exists()

    response = api.post(TOKEN_URL, {"username": "drafter", "password": PASSWORD}, format="json")
    assert response.status_code == 200  # a colleague behind the same address


def test_failures_on_the_page_lock_the_api_too(lead):
    fail(browser(), 5)
    api = APIClient(REMOTE_ADDR="198.51.100.20")
    response = api.post(TOKEN_URL, {"username": "lead", "password": PASSWORD}, format="json")
    assert assert_error(response, 429) == LOCKED
