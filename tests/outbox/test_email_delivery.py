"""E-mail through the real SMTP backend into a local fake server that goes down, answers
4xx or 5xx, or hangs: every message arrives exactly once, or ends visibly failed."""

import math

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from incidents.outbox import actions, senders
from incidents.outbox.choices import Status
from incidents.outbox.models import OutboundMessage
from tests.outbox.conftest import LATER, deliver_due, mail, row

pytestmark = pytest.mark.django_db


def test_a_message_is_sent_once_with_a_message_id_derived_from_its_key(
    smtp, send_later, queued, settings
):
    settings.DEFAULT_FROM_EMAIL = "crisis-cell@example.com"
    [message] = send_later(mail())
    assert queued == [[message.key]]  # handed to the workers after commit, by key

    assert actions.messages_deliver(keys=[message.key])["sent"] == 1
    assert actions.messages_deliver(keys=[message.key])["claimed"] == 0  # a doubled task

    [received] = smtp.received
    assert received["to"] == ["legal@example.com"]
    assert received["subject"] == "Approval needed #1"
    assert received["from"] == "crisis-cell@example.com"
    assert received["message_id"] == senders.message_id(message.key)
    assert received["message_id"].endswith("@example.com>")
    assert received["auto_submitted"] == "auto-generated"
    sent = row(message)
    assert (sent.status, sent.attempts, sent.last_error) == (Status.SENT, 1, "")
    assert sent.sent_at is not None


def test_extra_headers_go_out_with_the_mail_but_not_over_the_fixed_ones(smtp, send_later, queued):
    headers = {
        "List-Unsubscribe": "<https://crisis.example.com/crisis/x/unsubscribe/t/>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        "Message-ID": "<forged@example.com>",
    }
    [message] = send_later(mail(headers=headers))
    assert actions.messages_deliver(keys=[message.key])["sent"] == 1
    [received] = smtp.received
    assert received["list_unsubscribe"] == headers["List-Unsubscribe"]
    assert received["list_unsubscribe_post"] == "List-Unsubscribe=One-Click"
    assert received["message_id"] == senders.message_id(message.key)


def test_the_same_key_twice_is_one_message(smtp, send_later):
    send_later(mail(1))
    send_later(mail(1, subject="A second version"))
    assert OutboundMessage.objects.count() == 1
    deliver_due()
    assert len(smtp.received) == 1


def test_server_down_then_back_every_message_arrives_exactly_once(smtp, send_later):
    messages = send_later(*(mail(n, to=f"reviewer{n}@example.com") for n in range(5)))
    smtp.down()

    counts = deliver_due()
    assert counts == {"claimed": 5, "sent": 0, "retry": 5, "failed": 0}
    waiting = row(messages[0])
    assert waiting.status == Status.PENDING and waiting.attempts == 1
    assert waiting.next_attempt_at > timezone.now()  # backed off
    assert waiting.last_error.startswith("e-mail to reviewer0@example.com not sent: ")
    assert "unreachable" in waiting.last_error and f":{smtp.port}" in waiting.last_error

    assert deliver_due()["claimed"] == 0  # nothing is due before the back-off ends
    smtp.up()
    assert deliver_due(now=timezone.now() + LATER)["sent"] == 5
    assert sorted(m["to"][0] for m in smtp.received) == [
        f"reviewer{n}@example.com" for n in range(5)
    ]
    assert len(set(smtp.message_ids())) == 5
    assert deliver_due(now=timezone.now() + 2 * LATER)["claimed"] == 0


def test_backoff_grows_with_jitter_up_to_the_cap(settings):
    from incidents.outbox.delivery import backoff

    settings.OUTBOX_BACKOFF_BASE_SECONDS = 30
    settings.OUTBOX_BACKOFF_CAP_SECONDS = 3600
    for attempts, full in [(1, 30), (2, 60), (3, 120), (8, 3600), (40, 3600)]:
        waits = {backoff(attempts).total_seconds() for _ in range(20)}
        assert all(full / 2 <= wait <= full for wait in waits), (attempts, waits)
        assert len(waits) > 1  # jitter: messages that failed together spread out


def test_a_temporary_refusal_is_retried(smtp, send_later, failures):
    [message] = send_later(mail())
    smtp.refuse("451 4.7.1 Greylisted, try again later")

    assert deliver_due()["retry"] == 1
    waiting = row(message)
    assert waiting.status == Status.PENDING
    assert waiting.last_error == (
        "e-mail to legal@example.com refused by the mail server: "
        "451 4.7.1 Greylisted, try again later"
    )
    assert deliver_due(now=timezone.now() + LATER)["sent"] == 1
    assert len(smtp.received) == 1 and failures == []
    assert row(message).attempts == 2


def test_a_permanent_refusal_fails_at_once_and_the_handlers_hear_of_it(
    smtp, send_later, failures, incident
):
    messages = send_later(mail(1, to="nobody@example.com", incident=incident), mail(2))
    smtp.refuse("550 5.1.1 <nobody@example.com>: mailbox unavailable")

    counts = deliver_due()
    assert (counts["failed"], counts["sent"]) == (1, 1)  # the connection went on
    failed = row(messages[0])
    assert failed.status == Status.FAILED and failed.attempts == 1
    assert failed.last_error == (
        "e-mail to nobody@example.com refused by the mail server: "
        "550 5.1.1 <nobody@example.com>: mailbox unavailable"
    )
    [told] = failures
    assert [m.pk for m in told] == [failed.pk]
    assert told[0].incident == incident  # loaded for the handler (whose lead to tell)
    assert deliver_due(now=timezone.now() + LATER)["claimed"] == 0  # never again
    assert [m["to"] for m in smtp.received] == [["legal@example.com"]]


def test_an_invalid_address_fails_at_once_without_asking_the_server(smtp, send_later, failures):
    [message] = send_later(mail(to="legal@@example"))
    assert deliver_due()["failed"] == 1
    error = row(message).last_error
    assert error == "e-mail to legal@@example not sent: not a valid e-mail address"
    assert smtp.received == [] and len(failures) == 1


def test_a_hanging_server_times_out_and_is_retried(smtp, send_later, settings, failures):
    settings.EMAIL_TIMEOUT = 1
    messages = send_later(mail(1), mail(2))
    smtp.hanging = True

    counts = deliver_due()
    assert counts["retry"] == 2  # the second was not tried on a connection that hung
    assert "did not answer within 1 s" in row(messages[0]).last_error
    assert row(messages[1]).last_error.startswith("e-mail to legal@example.com not sent")

    smtp.hanging = False
    assert deliver_due(now=timezone.now() + LATER)["sent"] == 2
    # The hung copy was never accepted: each message arrived once.
    assert sorted(smtp.message_ids()) == sorted(senders.message_id(m.key) for m in messages)
    assert failures == []


def test_after_the_last_attempt_the_message_fails_and_the_handlers_hear_of_it(
    smtp, send_later, settings, failures
):
    settings.OUTBOX_MAX_ATTEMPTS = 3
    [message] = send_later(mail())
    smtp.down()
    now = timezone.now()
    for attempt in range(1, 4):
        deliver_due(now=now + attempt * LATER)
        assert row(message).attempts == attempt
    failed = row(message)
    assert failed.status == Status.FAILED
    assert failed.last_error.endswith("(gave up after 3 attempts)")
    assert [[m.pk for m in told] for told in failures] == [[failed.pk]]
    assert deliver_due(now=now + 10 * LATER)["claimed"] == 0


def test_a_failure_handler_that_raises_undoes_nothing(smtp, send_later, failures):
    from incidents.outbox import hooks

    def broken(messages):
        raise RuntimeError("the bell is broken")

    hooks.register_failure_handler(broken)
    try:
        [message] = send_later(mail(to="x@y"))
        deliver_due()
    finally:
        hooks.unregister_failure_handler(broken)
    assert row(message).status == Status.FAILED
    assert len(failures) == 1  # the other handler still heard


def test_a_thousand_messages_are_one_insert_and_arrive_once_each(
    smtp, send_later, queued, settings
):
    settings.OUTBOX_BATCH_SIZE = 100
    outgoing = [mail(n, to=f"member{n}@example.com", key="reminder") for n in range(1000)]
    with CaptureQueriesContext(connection) as queries, transaction.atomic():
        actions.enqueue(*outgoing)
    inserts = [q for q in queries.captured_queries if q["sql"].startswith("INSERT")]
    fields = len([f for f in OutboundMessage._meta.concrete_fields if not f.primary_key])
    # One INSERT; SQLite caps an INSERT at 999 parameters, so there it is a few.
    per_insert = connection.ops.bulk_batch_size(
        [f for f in OutboundMessage._meta.concrete_fields if not f.primary_key], outgoing
    )
    expected = 1 if connection.vendor == "postgresql" else math.ceil(1000 / per_insert)
    assert len(inserts) == expected, (fields, per_insert)
    assert OutboundMessage.objects.count() == 1000

    # A producer that runs twice writes nothing new and sends nothing twice.
    send_later(*outgoing[:10])
    batches = queued[-1:]
    assert [len(batch) for batch in batches] == [10]

    from incidents.outbox import tasks

    keys = [m.key for m in outgoing]
    with CaptureQueriesContext(connection) as worker_queries:
        for start in range(0, 1000, 100):
            counts = actions.messages_deliver(keys=keys[start : start + 100])
            assert counts["sent"] == 100
    # Per batch: the claim (select + update), the rows, the result: constant, not per message.
    assert len(worker_queries.captured_queries) <= 10 * 8
    assert len(smtp.received) == 1000
    assert len(set(smtp.message_ids())) == 1000
    assert sorted(m["to"][0] for m in smtp.received) == sorted(m.recipient for m in outgoing)
    assert OutboundMessage.objects.filter(status=Status.SENT).count() == 1000
    assert deliver_due(now=timezone.now() + LATER)["claimed"] == 0
    assert tasks.DELIVER_TASK == "incidents.outbox.tasks.deliver"


def test_a_french_subject_goes_out_with_its_no_break_spaces_on_one_line(smtp, send_later):
    from email.header import decode_header, make_header

    subject = "Approbation requise\u00a0: «\u202fRappel\u202f»\r\nBcc: everyone@example.com"
    [message] = send_later(mail(subject=subject))
    assert message.subject == (
        "Approbation requise\u00a0: «\u202fRappel\u202f» Bcc: everyone@example.com"
    )
    assert actions.messages_deliver(keys=[message.key])["sent"] == 1
    [received] = smtp.received
    assert received["to"] == ["legal@example.com"]  # no header of the subject's own
    assert str(make_header(decode_header(received["subject"]))) == message.subject
