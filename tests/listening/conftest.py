"""Listening personas: people given the listening permissions (brand data, not an
incident's), and a helper to send NDJSON to the bulk endpoint."""

import gzip
import json

import pytest
from django.contrib.auth.models import Permission

from incidents.listening import actions


def grant(user, *codenames):
    user.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="listening", codename__in=codenames)
    )
    # has_perm caches per instance: reload so the new permissions count.
    return type(user).objects.get(pk=user.pk)


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


@pytest.fixture(autouse=True)
def _own_import_store(settings):
    """Pending uploads of each test's own (the same user ids come back after a rollback,
    and Redis outlives a test run)."""
    import copy
    import uuid

    caches = copy.deepcopy(settings.CACHES)
    caches["imports"]["KEY_PREFIX"] = f"test-{uuid.uuid4().hex}"
    settings.CACHES = caches
