"""Helpers shared by the tests."""

import sys
from concurrent.futures import ThreadPoolExecutor
from http.server import ThreadingHTTPServer

from django.db import connection
from django.utils.dateparse import parse_datetime

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
