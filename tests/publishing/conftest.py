"""Publishing fixtures: the local fake Mastodon and Bluesky servers (tests/publishing/
fakes.py), a brand account on each (saved through the action, as the admin does), approved
statements for their channels, and `publish`: the action in its own transaction, then the
outbox's worker run by the test itself (as tests/outbox does)."""

import pytest
from django.contrib.auth.models import Permission

from incidents.outbox import tasks
from incidents.publishing import actions
from incidents.publishing.models import BrandAccount
from incidents.publishing.platforms import bluesky
from tests.outbox.conftest import deliver_due
from tests.publishing.fakes import (
    BLUESKY_HANDLE,
    BLUESKY_PASSWORD,
    MASTODON_TOKEN,
    FakeBluesky,
    FakeMastodon,
)

TEXT = "We are sorry: your order was delayed by our mistake. It ships today, free of charge."


@pytest.fixture(autouse=True)
def _publishing(settings, monkeypatch):
    settings.PUBLISHING_TIMEOUT = 1
    settings.PUBLISHING_KEY = ""
    bluesky.forget_sessions()
    # The worker runs when the test says so (deliver_due), not after each commit.
    monkeypatch.setattr(tasks, "queue_delivery", lambda keys: None)
    yield
    bluesky.forget_sessions()


@pytest.fixture
def mastodon():
    server = FakeMastodon()
    yield server
    server.close()


@pytest.fixture
def bsky():
    server = FakeBluesky()
    yield server
    server.close()


@pytest.fixture
def account_admin(make_user):
    user = make_user("accounts-admin", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="publishing"))
    return type(user).objects.get(pk=user.pk)  # permissions cache


@pytest.fixture
def mastodon_account(mastodon, account_admin):
    return actions.account_save(
        account=BrandAccount(
            platform="mastodon", label="Brand on Mastodon", base_url=mastodon.url, handle="@brand"
        ),
        actor=account_admin,
        secret=MASTODON_TOKEN,
    )


@pytest.fixture
def bluesky_account(bsky, account_admin):
    return actions.account_save(
        account=BrandAccount(
            platform="bluesky", label="Brand on Bluesky", base_url=bsky.url, handle=BLUESKY_HANDLE
        ),
        actor=account_admin,
        secret=BLUESKY_PASSWORD,
    )


@pytest.fixture
def on_mastodon(make_statement):
    return make_statement(channel="mastodon", state="approved", text=TEXT)


@pytest.fixture
def on_bluesky(make_statement):
    return make_statement(channel="bluesky", state="approved", text=TEXT, language="en")


@pytest.fixture
def publish(django_capture_on_commit_callbacks):
    """statement_publish_via in its own transaction (its after-commit work run)."""

    def run(**kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return actions.statement_publish_via(**kwargs)

    return run


__all__ = ["TEXT", "deliver_due"]
