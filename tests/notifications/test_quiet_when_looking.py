"""Quiet when looking: someone who chose it and has the incident's room open gets the bell
(live) but no e-mail or chat. Presence is asked once per notification, from the registry
the room's sockets keep (incidents/presence.py), never with a query per person."""

import asyncio
import time

import pytest
from asgiref.sync import sync_to_async
from django.db import connection
from django.test.utils import CaptureQueriesContext

from incidents import presence
from incidents.notifications import actions
from incidents.notifications.choices import NotificationKind
from incidents.notifications.models import Notification
from incidents.outbox.choices import Channel
from tests.incidents.test_consumer import run, session_cookie, socket

from .conftest import outbox

pytestmark = pytest.mark.usefixtures("with_emails")


def published(incident, users):
    return actions.notify(
        users=users,
        kind=NotificationKind.PUBLISHED,
        subject="Holding statement (X)",
        url=f"/incidents/{incident.pk}/",
        incident=incident,
    )


def emailed() -> set:
    return {m.user for m in outbox(channel=Channel.EMAIL)}


def test_a_person_looking_at_the_room_gets_the_bell_only(incident, lead, drafter, approver):
    actions.preferences_update(actor=drafter, quiet_when_looking=True)
    actions.chat_target_add(actor=drafter, label="Phone", url="json://127.0.0.1:9/d")
    # Both have the room open; only the drafter asked for quiet.
    presence.mark_here(incident.pk, drafter.pk, "tab-1")
    presence.mark_here(incident.pk, lead.pk, "tab-2")

    published(incident, [lead, drafter, approver])

    assert Notification.objects.filter(user=drafter, kind="published").exists()
    assert emailed() == {lead, approver}
    assert not outbox(channel=Channel.CHAT)


def test_quiet_ends_when_the_room_is_closed_or_the_entry_expires(incident, drafter):
    actions.preferences_update(actor=drafter, quiet_when_looking=True)
    presence.mark_here(incident.pk, drafter.pk, "tab-1")
    presence.mark_here(incident.pk, drafter.pk, "tab-2")
    presence.mark_left(incident.pk, drafter.pk, "tab-1")
    assert presence.present_users(incident.pk, [drafter.pk]) == {drafter.pk}  # one tab left

    presence.mark_left(incident.pk, drafter.pk, "tab-2")
    published(incident, [drafter])
    assert emailed() == {drafter}

    # A socket that died without a goodbye stops counting after PRESENT_SECONDS.
    presence.mark_here(incident.pk, drafter.pk, "tab-3", now=time.time() - 61)
    assert presence.present_users(incident.pk, [drafter.pk]) == set()


def test_presence_in_another_incident_does_not_count(incident, declare, lead, drafter):
    actions.preferences_update(actor=drafter, quiet_when_looking=True)
    other = declare(title="Another incident")
    presence.mark_here(other.pk, drafter.pk, "tab-1")

    published(incident, [drafter])

    assert emailed() == {drafter}


def test_presence_is_asked_once_whatever_the_number_of_people(incident, make_user, monkeypatch):
    people = [make_user(email=f"p{i}@example.com") for i in range(20)]
    for person in people:
        actions.preferences_update(actor=person, quiet_when_looking=True)
    for person in people[::2]:
        presence.mark_here(incident.pk, person.pk, f"tab-{person.pk}")
    reads = []
    original = presence.present_users
    monkeypatch.setattr(
        presence, "present_users", lambda *a, **k: reads.append(a) or original(*a, **k)
    )

    with CaptureQueriesContext(connection) as queries:
        published(incident, people)

    assert len(reads) == 1
    assert len(queries) <= 6
    assert emailed() == set(people[1::2])


async def until_present(incident, user, seconds=10):
    """The socket records itself just after it says "live": wait for it (bounded)."""
    deadline = time.monotonic() + seconds
    while not presence.present_users(incident.pk, [user.pk]):
        assert time.monotonic() < deadline, "the socket never recorded its presence"
        await asyncio.sleep(0.02)


@pytest.mark.django_db(transaction=True)
def test_the_rooms_socket_keeps_the_registry(incident, drafter):
    """Through the real ASGI application: opening the room makes the person present,
    closing it makes them absent again."""
    actions.preferences_update(actor=drafter, quiet_when_looking=True)

    async def scenario():
        key = await sync_to_async(lambda: session_cookie(drafter)[1])()
        room = socket(incident, key)
        connected, _ = await room.connect()
        assert connected
        await until_present(incident, drafter)
        await sync_to_async(published)(incident, [drafter])
        await room.disconnect()
        await sync_to_async(published)(incident, [drafter])

    run(scenario)

    assert Notification.objects.filter(user=drafter).count() == 2
    assert len(outbox(channel=Channel.EMAIL)) == 1  # only the one sent after leaving
