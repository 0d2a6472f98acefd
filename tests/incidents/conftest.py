"""Helpers shared by the incident page tests (imported from here, like tests/evidence's)."""

import re

from django.db import connection
from django.test.utils import CaptureQueriesContext

from incidents import actions
from incidents.models import Incident, Membership, TimelineEntry

HTMX = {"HX-Request": "true"}


def room_url(incident, suffix=""):
    return f"/incidents/{incident.pk}/{suffix}"


def endpoint_id(suffix):
    """'members/{drafter}/role/' -> 'members-role', for readable test ids."""
    return "-".join(part for part in suffix.split("/") if part and "{" not in part)


def post(client, url, data=None, *, htmx=True):
    return client.post(url, data or {}, headers=HTMX if htmx else None)


def snapshot(incident):
    """Everything a refused request must leave untouched."""
    incident = Incident.objects.get(pk=incident.pk)
    cell = sorted(Membership.objects.active().filter(incident=incident).values_list("user", "role"))
    return (
        incident.status,
        incident.severity,
        cell,
        Membership.objects.filter(incident=incident).count(),
        TimelineEntry.objects.filter(incident=incident).count(),
    )


def active_role(incident, user):
    return (
        Membership.objects.active()
        .filter(incident=incident, user=user)
        .values_list("role", flat=True)
        .first()
    )


def seqs(html):
    return [int(s) for s in re.findall(r'data-seq="(\d+)"', html)]


def add_entries(incident, actor, count, **fields):
    for i in range(count):
        actions.timeline_add_entry(
            incident=incident,
            actor=actor,
            kind=fields.get("kind", "note"),
            text=fields.get("text", f"Entry {i}"),
            key_event=fields.get("key_event", False),
        )


def assert_htmx_done(response):
    assert response.status_code == 200, response.content
    assert "incident-changed" in response.headers.get("HX-Trigger", "")


def assert_redirected_to_room(response, incident):
    assert response.status_code == 302
    assert response["Location"] == room_url(incident)


def count_queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)
