"""Attaching mentions and declaring from a signal at once, over the same mentions: both lock
the mentions in one order (their ids), so neither waits on the other in a cycle, which
PostgreSQL breaks by failing one of them (a server error)."""

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection, transaction

from incidents.listening import actions
from incidents.listening.models import Mention

from .conftest import NOW, grant, ingest, post

pytestmark = pytest.mark.django_db(transaction=True)


def test_attaching_and_declaring_over_the_same_mentions_at_once_never_deadlock(
    signal, reader, lead, incident
):
    ingest(
        [
            post(f"w{i}", posted_at=(NOW - timedelta(minutes=19, seconds=-i)).isoformat())
            for i in range(300)
        ]
    )
    lead = grant(lead, "view_mention")
    posts = Mention.objects.filter(external_id__startswith="w").order_by("-posted_at")
    newest = list(posts.values_list("pk", flat=True)[:200])
    middle = newest[100]
    held, errors = threading.Event(), []

    def run(call):
        try:
            call()
        except Exception as error:  # reported below
            errors.append(error)
        finally:
            connection.close()

    def hold_the_middle_one():
        # Someone holds one mention in the middle of both sets: the attach (which locked the
        # newest first) waited there holding those above it, the declaration (locking the
        # oldest first) holding those below: a cycle once it was let go.
        with transaction.atomic():
            list(Mention.objects.select_for_update().filter(pk=middle))
            held.set()
            time.sleep(2.5)

    holder = threading.Thread(target=run, args=(hold_the_middle_one,))
    holder.start()
    held.wait(10)
    attach = threading.Thread(
        target=run,
        args=(lambda: actions.mentions_attach(mention_ids=newest, incident=incident, actor=lead),),
    )
    attach.start()
    time.sleep(0.5)
    declare = threading.Thread(
        target=run, args=(lambda: actions.signal_declare(signal=signal, actor=reader, now=NOW),)
    )
    declare.start()
    for thread in (holder, attach, declare):
        thread.join(60)
    assert errors == []
    attached = Mention.objects.filter(pk__in=newest).values_list("incident", flat=True)
    assert None not in set(attached)
