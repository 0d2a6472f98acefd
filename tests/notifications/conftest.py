"""Notifications: the personas of tests/conftest.py with e-mail addresses, a fixed site
address for links, and a presence registry of each test's own."""

import copy
import uuid

import pytest

from incidents.outbox.models import OutboundMessage

SITE = "https://crisis.example.com"


@pytest.fixture(autouse=True)
def _site_and_presence(settings):
    settings.SITE_URL = SITE
    settings.CHAT_ALLOW_LOOPBACK = True  # the tests' chat addresses are local fakes
    caches = copy.deepcopy(settings.CACHES)
    # Entries of another test (same ids after a rollback, or a run before) never count.
    caches["presence"]["KEY_PREFIX"] = f"test-{uuid.uuid4().hex}"
    settings.CACHES = caches


@pytest.fixture
def with_emails(lead, drafter, approver, spokesperson, observer):
    for user in (lead, drafter, approver, spokesperson, observer):
        user.email = f"{user.username}@example.com"
        user.save(update_fields=["email"])


def outbox(**filters) -> list[OutboundMessage]:
    """The outbox rows, oldest first."""
    return list(OutboundMessage.objects.filter(**filters).order_by("id"))


@pytest.fixture
def incident(incident):
    """The persona incident, without the "added to a cell" notices and messages its staffing
    wrote: each test here counts only what it causes."""
    from incidents.notifications.models import Notification

    Notification.objects.all().delete()
    OutboundMessage.objects.all().delete()
    return incident
