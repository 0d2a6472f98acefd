"""Failures people can see and act on: the staff page, the admin listing with "Retry now",
`manage.py outbox_status`, the selectors the room uses; and the embedded default, which
sends through the console backend inline, with no mail server."""

import io
import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.core import mail as django_mail
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from crisiscell.celery import app as celery_app
from incidents.errors import NotAllowed
from incidents.outbox import actions, selectors, senders
from incidents.outbox.actions import Outgoing
from incidents.outbox.choices import Channel, Status
from incidents.outbox.models import OutboundMessage
from tests.outbox.conftest import deliver_due, mail, row
from tests.test_settings_modes import load_settings

pytestmark = pytest.mark.django_db

SECRET_URL = "json://127.0.0.1:9/hooks/T0K3N-SECRET"


def fail(message, error="e-mail to legal@example.com refused by the mail server: 550 no"):
    OutboundMessage.objects.filter(pk=message.pk).update(
        status=Status.FAILED, attempts=8, last_error=error, last_attempt_at=timezone.now()
    )


@pytest.fixture
def superuser(make_user):
    return make_user("root", is_staff=True, is_superuser=True)


@pytest.fixture
def chat_message():
    def make(n=1, **fields):
        return Outgoing(
            channel=Channel.CHAT,
            recipient=SECRET_URL,
            key=f"chat:{n}",
            body="Handed over",
            label=fields.pop("label", "Slack — Inès"),
            **fields,
        )

    return make


def test_the_staff_page_shows_depth_oldest_pending_and_failures(
    browser_client, staff, send_later, chat_message
):
    messages = send_later(mail(1), mail(2), chat_message(1, label=""))
    fail(messages[1])
    browser_client.as_user(staff)
    with CaptureQueriesContext(connection) as one_failure:
        response = browser_client.get(reverse("outbox-status"))
    assert response.status_code == 200
    html = response.content.decode()
    depth = html[html.index('data-outbox="depth"') : html.index("</table>")]
    cells = re.findall(r"<th scope=\"row\">(\w+)</th>((?:<td>\d+</td>)+)", depth)
    rows = {status: [int(n) for n in re.findall(r"\d+", counts)] for status, counts in cells}
    # Columns: e-mail, chat, post, total.
    assert rows["Pending"] == [1, 1, 0, 2]
    assert rows["Failed"] == [1, 0, 0, 1]
    assert "Oldest pending message: written" in html
    assert "550 no" in html
    assert "T0K3N-SECRET" not in html

    for message in send_later(*(mail(n, key="more") for n in range(30))):
        fail(message)
    with CaptureQueriesContext(connection) as many_failures:
        assert browser_client.get(reverse("outbox-status")).status_code == 200
    assert len(many_failures) == len(one_failure)  # a constant number of queries


def test_the_staff_page_is_paginated(browser_client, staff, send_later):
    messages = send_later(*(mail(n) for n in range(55)))
    for message in messages:
        fail(message)
    page = browser_client.as_user(staff).get(reverse("outbox-status")).content.decode()
    assert page.count("550 no") == 50 and "?page=2" in page
    second = browser_client.get(reverse("outbox-status") + "?page=2").content.decode()
    assert second.count("550 no") == 5


def test_only_staff_see_the_page(client, browser_client, lead):
    assert client.get(reverse("outbox-status")).status_code == 404
    assert browser_client.as_user(lead).get(reverse("outbox-status")).status_code == 404


def test_the_admin_lists_messages_with_the_recipient_masked(
    browser_client, superuser, send_later, chat_message
):
    send_later(chat_message(1, label=""), chat_message(2), mail(3))
    client = browser_client.as_user(superuser)
    url = reverse("admin:outbox_outboundmessage_changelist")
    for query in ("", "?status__exact=pending", "?channel__exact=chat", "?q=In%C3%A8s"):
        response = client.get(url + query)
        assert response.status_code == 200
        assert "T0K3N-SECRET" not in response.content.decode()
    html = client.get(url).content.decode()
    assert "json://…" in html and "Slack — Inès" in html and "legal@example.com" in html
    # Searching for the token finds nothing: the search does not look into the URL.
    assert "0 outgoing messages" in client.get(url + "?q=T0K3N").content.decode()
    detail = client.get(
        reverse("admin:outbox_outboundmessage_change", args=[OutboundMessage.objects.first().pk])
    )
    assert detail.status_code == 200 and "T0K3N-SECRET" not in detail.content.decode()
    assert client.get(reverse("admin:outbox_outboundmessage_add")).status_code == 403


def test_retry_now_in_the_admin_sends_failed_messages_again(
    browser_client, superuser, send_later, queued, django_capture_on_commit_callbacks
):
    messages = send_later(mail(1), mail(2), mail(3))
    fail(messages[0])
    OutboundMessage.objects.filter(pk=messages[2].pk).update(status=Status.SENT)
    queued.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = browser_client.as_user(superuser).post(
            reverse("admin:outbox_outboundmessage_changelist"),
            {"action": "retry_now", "_selected_action": [m.pk for m in messages]},
            follow=True,
        )
    assert response.status_code == 200
    assert "2 messages will be sent again now" in response.content.decode()
    retried = row(messages[0])
    assert (retried.status, retried.attempts) == (Status.PENDING, 0)
    assert retried.next_attempt_at <= timezone.now()
    assert row(messages[2]).status == Status.SENT
    assert sorted(queued[-1]) == sorted([messages[0].key, messages[1].key])


def test_retry_is_for_staff_who_may_change_messages(make_user, send_later):
    [message] = send_later(mail())
    fail(message)
    staff = make_user("watcher", is_staff=True)
    with pytest.raises(NotAllowed):
        actions.messages_retry(actor=staff, ids=[message.pk])
    staff.user_permissions.add(Permission.objects.get(codename="change_outboundmessage"))
    staff = type(staff).objects.get(pk=staff.pk)  # permissions are cached per object
    assert actions.messages_retry(actor=staff, ids=[message.pk]) == 1
    with pytest.raises(NotAllowed):
        actions.messages_retry(actor=make_user("lead2"), ids=[message.pk])


def test_the_command_prints_the_queue_and_retries_failed_messages(
    send_later, queued, django_capture_on_commit_callbacks
):
    messages = send_later(mail(1), mail(2))
    fail(messages[0])
    out = io.StringIO()
    call_command("outbox_status", stdout=out)
    text = out.getvalue()
    assert re.search(r"pending\s+1\s+0\s+0\s+1", text)
    assert re.search(r"failed\s+1\s+0\s+0\s+1", text)
    assert "Oldest pending:" in text and "550 no" in text
    with pytest.raises(CommandError, match="1 failed"):
        call_command("outbox_status", "--check", stdout=io.StringIO())

    queued.clear()
    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("outbox_status", "--retry-failed", stdout=out)
    assert "1 failed message(s) made pending again." in out.getvalue()
    assert row(messages[0]).status == Status.PENDING
    assert queued == [[messages[0].key]]


def test_the_room_can_tell_who_was_not_reached(incident, approver, declare, send_later, smtp):
    other = declare(title="Another incident")
    messages = send_later(
        mail(1, to="approver@example.com", incident=incident, user=approver, label="Approver"),
        mail(2, to="comms@example.com", incident=incident),
        mail(3, incident=incident),
        mail(4, to="nobody@example.com", incident=other),
    )
    smtp.refuse("550 5.1.1 no such user", "451 4.3.0 later", None, "550 no")
    deliver_due()
    assert [m.pk for m in selectors.failed_for(incident)] == [messages[0].pk]
    assert selectors.failed_for(incident)[0].user == approver
    assert [m.pk for m in selectors.failed_for(incident, user=approver)] == [messages[0].pk]
    undelivered = selectors.undelivered_for(incident)
    assert {m.pk for m in undelivered} == {messages[0].pk, messages[1].pk}
    assert {m.status for m in undelivered} == {Status.FAILED, Status.PENDING}
    assert selectors.failed_for(incident, limit=10_000) == selectors.failed_for(incident)


def test_the_embedded_default_sends_inline_through_the_console(
    settings, django_capture_on_commit_callbacks, capsys
):
    """`make run`: no broker, no worker, no mail server: the message is printed once the
    action commits, within the request."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    try:
        with django_capture_on_commit_callbacks(execute=True):
            actions.enqueue(mail())
            assert "Approval needed" not in capsys.readouterr().out  # not before the commit
    finally:
        celery_app.conf.task_always_eager = eager
    printed = capsys.readouterr().out
    assert "Subject: Approval needed #1" in printed
    assert senders.message_id("approval:1") in printed
    assert OutboundMessage.objects.get().status == Status.SENT


def test_one_connection_per_batch(settings, send_later, monkeypatch):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    opened = []
    real = django_mail.get_connection
    monkeypatch.setattr(senders, "get_connection", lambda **kw: opened.append(1) or real(**kw))
    send_later(*(mail(n) for n in range(30)))
    deliver_due()
    assert len(opened) == 1 and len(django_mail.outbox) == 30


def test_a_batch_that_runs_out_of_time_hands_the_rest_back(
    settings, send_later, queued, monkeypatch
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    messages = send_later(*(mail(n) for n in range(5)))
    queued.clear()
    ticks = iter([False, False, True, True, True])
    real_send = senders.send
    monkeypatch.setattr(
        senders,
        "send",
        lambda channel, batch, deadline: real_send(channel, batch, deadline=lambda: next(ticks)),
    )
    counts = actions.messages_deliver(keys=[m.key for m in messages])
    assert counts["sent"] == 2
    rest = [row(m) for m in messages[2:]]
    assert {(m.status, m.attempts) for m in rest} == {(Status.PENDING, 0)}  # not an attempt
    assert queued == [[m.key for m in messages[2:]]]


def test_email_settings_refuse_tls_and_ssl_together():
    result = load_settings(EMAIL_USE_TLS="true", EMAIL_USE_SSL="true")
    assert result.returncode != 0 and "not both" in result.stderr
    timeout = load_settings(
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.EMAIL_TIMEOUT)"
    )
    assert timeout.stdout.strip() == "10"


def test_the_delay_between_attempts_is_due_later(send_later, settings, smtp):
    settings.OUTBOX_BACKOFF_BASE_SECONDS = 60
    [message] = send_later(mail())
    smtp.down()
    before = timezone.now()
    deliver_due(now=before)
    waiting = row(message)
    assert before + timedelta(seconds=30) <= waiting.next_attempt_at
    assert waiting.next_attempt_at <= before + timedelta(seconds=65)
