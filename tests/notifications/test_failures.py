"""When the outbox gives up on a message, someone who can act hears of it in the bell: the
incident's lead (or the sender, without an incident), with who did not get what and why.
A notice about an e-mail never goes by e-mail; none goes by chat."""

import pytest

from incidents import events
from incidents.notifications import actions
from incidents.notifications.choices import NotificationKind
from incidents.notifications.models import Notification
from incidents.outbox.actions import Outgoing, enqueue
from incidents.outbox.choices import Channel, Status
from incidents.outbox.models import OutboundMessage

from .conftest import outbox

pytestmark = pytest.mark.usefixtures("with_emails")
SECRET = "json://127.0.0.1:9/hook-s3cret-t0ken"


def failed(*, channel, recipient, label, error, incident=None, sender=None, user=None):
    key = f"test:{OutboundMessage.objects.count()}"
    enqueue(
        Outgoing(
            channel=channel,
            recipient=recipient,
            key=key,
            subject="[Crisis Cell] Approval needed: Holding statement (X)",
            body="...",
            label=label,
            user=user,
            incident=incident,
        ),
        actor=sender,
    )
    message = OutboundMessage.objects.get(key=key)
    message.status, message.attempts, message.last_error = Status.FAILED, 5, error
    message.save()
    return message


def notices(user):
    return list(Notification.objects.filter(user=user, kind=NotificationKind.DELIVERY_FAILED))


def test_a_failed_email_tells_the_lead_in_the_bell_only(incident, lead, approver, drafter):
    actions.chat_target_add(actor=lead, label="Phone", url="json://127.0.0.1:9/lead")
    message = failed(
        channel=Channel.EMAIL,
        recipient="approver@example.com",
        label="approver@example.com",
        error="550 refused by the mail server",
        incident=incident,
        sender=drafter,
        user=approver,
    )
    before = len(outbox())

    assert actions.on_delivery_failed([message]) == 1

    (notice,) = notices(lead)
    assert notice.subject == (
        "E-mail to approver@example.com not delivered: 550 refused by the mail server"
    )
    assert notice.url == f"/incidents/{incident.pk}/"
    assert notice.incident == incident
    assert len(outbox()) == before  # no e-mail (nor chat) about an e-mail
    assert not notices(drafter) and not notices(approver)


def test_a_failed_chat_message_tells_the_lead_by_email_too_never_by_chat(incident, lead, approver):
    actions.chat_target_add(actor=lead, label="Phone", url="json://127.0.0.1:9/lead")
    actions.chat_target_add(
        actor=lead, incident=incident, label="#cell", url="json://127.0.0.1:9/cell"
    )
    message = failed(
        channel=Channel.CHAT,
        recipient=SECRET,
        label="JSON — Phone (approver)",
        error="HTTP 404 from the service",
        incident=incident,
        user=approver,
    )

    actions.on_delivery_failed([message])

    (notice,) = notices(lead)
    assert notice.subject == (
        "Chat or SMS to JSON — Phone (approver) not delivered: HTTP 404 from the service"
    )
    (mail,) = outbox(user=lead)
    assert mail.channel == Channel.EMAIL and mail.recipient == "lead@example.com"
    assert "What: [Crisis Cell] Approval needed: Holding statement (X)" in mail.body
    assert "s3cret" not in mail.body and "s3cret" not in notice.subject
    assert len(outbox(channel=Channel.CHAT)) == 1  # only the failed one


def test_without_an_incident_the_sender_hears_of_it(drafter):
    target = actions.chat_target_add(actor=drafter, label="Phone", url=SECRET)
    actions.chat_target_test(actor=drafter, target=target)
    message = OutboundMessage.objects.get()
    message.status, message.last_error = Status.FAILED, "connection refused"
    message.save()

    actions.on_delivery_failed([message])

    (notice,) = notices(drafter)
    assert notice.subject == "Chat or SMS to JSON — Phone not delivered: connection refused"
    assert notice.url == "/notifications/settings/"
    assert notice.incident is None


def test_the_outboxs_own_sentence_is_said_once_and_never_with_the_secret(incident, lead):
    message = failed(
        channel=Channel.CHAT,
        recipient=SECRET,
        label="JSON — Phone (approver)",
        error=f"chat message to JSON — Phone (approver) not delivered: 404 at {SECRET}",
        incident=incident,
    )

    actions.on_delivery_failed([message])

    (notice,) = notices(lead)
    assert notice.subject == (
        "Chat message to JSON — Phone (approver) not delivered: 404 at JSON — Phone (approver)"
    )


def test_the_same_failure_twice_is_one_notice(incident, lead, approver):
    message = failed(
        channel=Channel.EMAIL,
        recipient="approver@example.com",
        label="approver@example.com",
        error="timed out",
        incident=incident,
    )

    actions.on_delivery_failed([message])
    actions.on_delivery_failed([message])

    assert len(notices(lead)) == 1


def test_the_notice_is_in_the_leads_language(incident, lead):
    actions.preferences_update(actor=lead, language="fr")
    message = failed(
        channel=Channel.EMAIL,
        recipient="legal@example.com",
        label="legal@example.com",
        error="",
        incident=incident,
    )

    actions.on_delivery_failed([message])

    assert notices(lead)[0].subject.startswith("E-mail à legal@example.com non remis")


def test_a_batch_of_failures_costs_a_bounded_number_of_queries(
    incident, lead, make_user, django_assert_max_num_queries
):
    messages = [
        failed(
            channel=Channel.EMAIL,
            recipient=f"p{i}@example.com",
            label=f"p{i}@example.com",
            error="refused",
            incident=incident,
        )
        for i in range(10)
    ]

    with django_assert_max_num_queries(4 + 4 * len(messages)):
        assert actions.on_delivery_failed(messages) == 10
    assert len(notices(lead)) == 10


def test_the_handler_is_registered_with_the_outbox_when_it_offers_a_hook():
    import importlib

    try:
        hooks = importlib.import_module("incidents.outbox.hooks")
    except ImportError:
        pytest.skip("the outbox offers no failure hook yet")
    handlers = getattr(hooks, "_failure_handlers", None)
    if handlers is None:
        pytest.skip("the outbox keeps its handlers elsewhere")
    assert actions.on_delivery_failed in list(handlers)


def test_a_failure_leaves_the_message_as_the_outbox_left_it(incident, lead):
    message = failed(
        channel=Channel.EMAIL,
        recipient="legal@example.com",
        label="legal@example.com",
        error="refused",
        incident=incident,
    )
    actions.on_delivery_failed([message])
    message.refresh_from_db()
    assert (message.status, message.attempts, message.last_error) == (Status.FAILED, 5, "refused")


def test_the_cell_panel_says_who_was_not_reached_without_the_chat_token(
    browser_client, incident, lead, approver, drafter
):
    failed(
        channel=Channel.EMAIL,
        recipient="approver@example.com",
        label="approver@example.com",
        error="refused by the mail server: 550 mailbox unavailable",
        incident=incident,
        user=approver,
    )
    failed(
        channel=Channel.CHAT,
        recipient=SECRET,
        label="Phone",
        error=f"the chat service answered 500 at {SECRET}",
        incident=incident,
        user=approver,
    )

    html = (
        browser_client.as_user(drafter).get(f"/incidents/{incident.pk}/members/").content.decode()
    )

    assert "Not reached (E-mail): refused by the mail server: 550 mailbox unavailable" in html
    assert "Not reached (Chat or SMS): the chat service answered 500" in html
    assert "s3cret" not in html
    room = browser_client.as_user(lead).get(f"/incidents/{incident.pk}/").content.decode()
    assert "Phone them." in room


def test_a_failure_refreshes_the_cell_panel_of_the_room(
    incident, lead, approver, django_capture_on_commit_callbacks
):
    message = failed(
        channel=Channel.EMAIL,
        recipient="approver@example.com",
        label="approver@example.com",
        error="refused",
        incident=incident,
        user=approver,
    )
    sent = []
    original = events._publish
    events._publish = lambda incident_id, payload: sent.append((incident_id, payload))
    try:
        with django_capture_on_commit_callbacks(execute=True):
            actions.on_delivery_failed([message])
    finally:
        events._publish = original
    assert (incident.pk, "delivery-failed", ["cell"]) in [
        (i, p.get("signal"), p.get("panels")) for i, p in sent
    ]
