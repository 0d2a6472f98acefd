"""Helpers shared by the tests."""

import itertools
import json
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from http.server import ThreadingHTTPServer

from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test import RequestFactory
from django.urls import resolve
from django.utils.dateparse import parse_datetime

from crisiscell.errors import permission_denied
from incidents.models import TimelineEntry
from statements.models import ApprovalPolicy, ApprovalRequirement, Review, Revision, Statement

# What `make_statement` (conftest) drafts and where it publishes, unless told otherwise.
STATEMENT_TEXT = "We are aware of the post and are looking into it. More information soon."
POST_URL = "https://x.com/brand/status/1234567890"


def assert_error(response, status_code):
    """The response has the status and a JSON body with a non-empty `detail` string."""
    assert response.status_code == status_code, response.content
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = response.json()
    assert isinstance(body.get("detail"), str), body
    assert body["detail"].strip(), body
    return body["detail"]


def refused_on(path, user, *, htmx=False, reason=""):
    """What the handler of a refusal (crisiscell.errors.permission_denied) raised on `path`
    answers `user`: the 403's text (htmx: its JSON `detail`)."""
    headers = {"HX-Request": "true"} if htmx else {}
    request = RequestFactory().get(path, headers=headers)
    request.user = user
    request.resolver_match = resolve(path)
    response = permission_denied(request, PermissionDenied(reason))
    assert response.status_code == 403
    if htmx:
        return json.loads(response.content)["detail"]
    return response.content.decode()


def dt(value):
    """Parse an API timestamp, which must carry its time zone."""
    parsed = parse_datetime(value)
    assert parsed is not None and parsed.tzinfo is not None, value
    return parsed


def ensure_policy(name, requirements, *, is_default=False, **fields):
    """Get or create a policy from (step, function) pairs."""
    policy, created = ApprovalPolicy.objects.get_or_create(
        name=name, defaults={"is_default": is_default, **fields}
    )
    if created:
        for step, function in requirements:
            ApprovalRequirement.objects.create(policy=policy, step=step, function=function)
    return policy


def outside_the_browser_loop(fn):
    """Run ORM writes in a worker thread. Playwright's sync API keeps an event loop running
    in the test thread, where the actions' after-commit live events cannot be sent
    (async_to_sync refuses to run there); the server threads are not affected."""

    def run():
        try:
            return fn()
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(run).result()


def fresh(statement):
    return Statement.objects.get(pk=statement.pk)


def snapshot(statement):
    """Everything a refused request must leave untouched."""
    s = fresh(statement)
    return (
        s.status,
        s.revision,
        s.text,
        s.published_at,
        s.published_url,
        Revision.objects.filter(statement=s).count(),
        Review.objects.filter(statement=s).count(),
        TimelineEntry.objects.filter(incident_id=s.incident_id).count(),
    )


class QuietHTTPServer(ThreadingHTTPServer):
    """A local HTTP server for pages the tests serve to Chromium. A browser may hang up
    before the answer is written (a capture that timed out on a slow page, a tab that
    closed): the write then fails with BrokenPipeError or ConnectionResetError, which is
    the expected end of that request, not an error worth a traceback on stderr. Anything
    else is still reported."""

    def handle_error(self, request, client_address):
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


def run_concurrently(calls, *, errors=()):
    """Run each call in its own thread (its own database connection), all released at
    once by a barrier. Returns (results, expected_errors, unexpected_errors): an exception
    of a class in `errors` is expected, any other is reported by the caller's test."""
    barrier = threading.Barrier(len(calls), timeout=60)
    results, expected, unexpected = [], [], []
    lock = threading.Lock()

    def worker(call):
        try:
            barrier.wait()
            outcome = call()
        except errors as exc:
            with lock:
                expected.append(exc)
        except Exception as exc:  # reported by the test
            with lock:
                unexpected.append(exc)
        else:
            with lock:
                results.append(outcome)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a thread is stuck"
    return results, expected, unexpected


def token_client(user):
    """An API client sending the user's token, as an integration would (no forced login)."""
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    return client


def assert_chain_intact(incident):
    """The timeline's seq runs 1..n without a gap and every entry links to the previous."""
    chain = list(TimelineEntry.objects.filter(incident=incident).order_by("seq"))
    assert [e.seq for e in chain] == list(range(1, len(chain) + 1))
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(chain))


def forget_listening_window():
    """No listening live-update window left from a test: its planned trailing publish
    (incidents.listening.events) cancelled, its throttle keys gone. Else it fired in a later
    test, one `listening-changed` more on that test's sockets."""
    from incidents.listening import events

    timer = events._trailing_timer
    if timer is not None:
        timer.cancel()
    events.cache.delete_many([events._THROTTLE_KEY, events._TRAILING_KEY])
