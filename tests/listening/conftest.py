"""Listening personas: people given the listening permissions (brand data, not an
incident's), a helper to send NDJSON to the bulk endpoint, and a watch with a wave and
the signal it opens (`history`, `signal`)."""

import gzip
import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import Permission

from incidents.listening import actions, detection
from incidents.listening.choices import Source
from incidents.listening.ingest import parse
from incidents.listening.models import Signal


def grant(user, *codenames):
    user.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="listening", codename__in=codenames)
    )
    # has_perm caches per instance: reload so the new permissions count.
    return type(user).objects.get(pk=user.pk)


def field_block(html: str, name: str) -> str:
    """The markup of one field's wrapper on a page form (label, input, help, errors)."""
    at = re.search(rf'id="id_{name}(_0)?"', html)
    assert at, f"no field {name}"
    start = html.rindex('<div class="field', 0, at.start())
    ends = [html.find(tag, at.end()) for tag in ('<div class="field', "</section>")]
    return html[start : min(i for i in ends if i != -1)]


def assert_refused_beside(response, field: str, message: str) -> str:
    """A page form sent back (422) with `message` beside `field` and nothing saved said
    above it; returns the page."""
    assert response.status_code == 422, response.request["PATH_INFO"]
    html = response.content.decode()
    block = field_block(html, field)
    assert "has-error" in block[:60] and message in block, block
    assert "Nothing was saved" in html
    return html


def lead_of_a_listened_incident(django_user_model, password, title):
    """A lead who reads and edits watches, a "Lumière" watch, and an active incident of
    theirs titled `title`: (lead, incident). For browser tests (call it outside the
    browser's loop)."""
    from incidents import actions as incident_actions

    lead = django_user_model.objects.create_user(
        "camille", password=password, first_name="Camille", last_name="Test"
    )
    lead = grant(lead, "view_mention", "change_watch")
    actions.watch_create(actor=lead, name="Lumière", brand="Lumière", keywords=["lumière"])
    incident = incident_actions.incident_declare(
        actor=lead,
        title=title,
        category="product",
        origin="online",
        platforms=["x"],
        severity=2,
        activate=True,
    )
    return lead, incident


@pytest.fixture
def reader(make_user):
    return grant(make_user("reader"), "view_mention", "view_watch")


@pytest.fixture
def watch_editor(make_user):
    return grant(make_user("watcher"), "view_mention", "view_watch", "change_watch")


@pytest.fixture
def importer(make_user):
    return grant(make_user("importer"), "view_mention", "add_mention")


@pytest.fixture
def watch(watch_editor):
    return actions.watch_create(
        actor=watch_editor,
        name="Maison Lumière",
        brand="Maison Lumière",
        keywords=["maison lumière", "lumiere cosmetics"],
        exclusions=["lumière du jour"],
        hashtags=["#BoycottLumiere"],
        handles=["@maisonlumiere.bsky.social"],
    )


def post(external_id, text="Maison Lumière a encore raté sa livraison, c'est une honte", **extra):
    return {
        "platform": "bluesky",
        "id": external_id,
        "text": text,
        "posted_at": "2026-11-30T09:00:00Z",
        "author": {"handle": "alice.bsky.social", "followers": 120},
        **extra,
    }


def ndjson(*rows) -> bytes:
    return b"".join(
        (row if isinstance(row, bytes) else json.dumps(row).encode()) + b"\n" for row in rows
    )


@pytest.fixture
def send_bulk(api):
    def send(user, body: bytes, *, gzipped=False, content_type="application/x-ndjson"):
        client = api.as_user(user)
        headers = {}
        if gzipped:
            body = gzip.compress(body)
            headers["HTTP_CONTENT_ENCODING"] = "gzip"
        return client.generic(
            "POST", "/api/mentions/bulk/", body, content_type=content_type, **headers
        )

    return send


# A watch with a quiet history and a wave (test_detection, test_signal_side).

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def ingest(rows):
    return actions.mentions_ingest(
        mentions=[parse(row) for row in rows], source=Source.IMPORT, actor=None, now=NOW
    )


@pytest.fixture
def history(watch):
    """A watch created three days back with a quiet stream (one mention every two hours),
    then 30 mentions in the last 20 minutes."""
    type(watch).objects.filter(pk=watch.pk).update(created_at=NOW - timedelta(days=3))
    watch.refresh_from_db()
    rows = [
        post(f"h{i}", posted_at=(NOW - timedelta(days=3) + timedelta(hours=2 * i)).isoformat())
        for i in range(35)
    ]
    rows += [
        post(
            f"s{i}",
            posted_at=(NOW - timedelta(minutes=20) + timedelta(seconds=40 * i)).isoformat(),
            author={"handle": f"user{i}.bsky.social", "followers": 100 * i},
        )
        for i in range(30)
    ]
    ingest(rows)
    return watch


@pytest.fixture
def signal(history):
    detection.detect(now=NOW)
    return Signal.objects.get()


@pytest.fixture(autouse=True)
def _own_import_store(settings):
    """Pending uploads of each test's own (the same user ids come back after a rollback,
    and Redis outlives a test run)."""
    import copy
    import uuid

    caches = copy.deepcopy(settings.CACHES)
    caches["imports"]["KEY_PREFIX"] = f"test-{uuid.uuid4().hex}"
    settings.CACHES = caches


@pytest.fixture
def at_now(monkeypatch):
    """Fix the clock the curves read (page and API alike) at `moment`."""

    def fix(moment):
        from django.utils import timezone

        monkeypatch.setattr(timezone, "now", lambda: moment)

    return fix
