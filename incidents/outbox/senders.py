"""The network side of the outbox: how one batch of claimed messages leaves the site. No
database access here: the worker (actions.messages_deliver) claims the rows, calls these
with no lock held and no transaction open, then records each outcome.

An outcome is None (sent) or a `SendError` whose `reason` is short and human ("e-mail to
legal@example.com refused by the mail server: 550 5.1.1 no such user") and whose
`permanent` says whether trying again could help.
"""

import hashlib
import logging
import smtplib
from collections.abc import Callable

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.utils.translation import gettext as _

from incidents.addresses import (
    chat_scheme_allowed,
    email_sendable,
    sender_points_inside,
    url_points_inside,
)
from incidents.text import one_line as single_line

from . import hooks
from .choices import Channel
from .models import masked

logger = logging.getLogger("incidents.outbox")

MAX_REPLY = 200  # characters of a server's answer kept in an error


class SendError(Exception):
    """This message was not sent; another attempt may succeed (unless `permanent`).
    `retry_after` (seconds, or None) is the far side's own "not before" (a 429's
    Retry-After): the next attempt waits at least that long."""

    permanent = False

    def __init__(self, reason: str, *, retry_after: float | None = None):
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class PermanentError(SendError):
    """Trying again cannot help (refused for good, an invalid address): failed at once."""

    permanent = True


class ServerUnavailable(SendError):
    """The server cannot be used at all now: the rest of the batch is not tried either."""


def post_platform(recipient: str) -> str:
    return recipient.split(":", 1)[0]


def message_id(key: str) -> str:
    """The Message-ID header of the e-mail with this idempotency key: the same on every
    attempt, so a copy re-sent after a worker died is recognisable as the same message."""
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2].strip("> ") or "localhost"
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:40]}.outbox@{domain}>"


def who(message) -> str:
    """The recipient as errors name it (never a whole Apprise URL)."""
    return message.shown_recipient


def send(channel: str, messages: list, *, deadline: Callable[[], bool]) -> list:
    """Send messages of one channel; returns one outcome per message, in order (None: sent).
    `deadline()` turning true stops the batch: the remaining outcomes are `NOT_TRIED`."""
    if channel == Channel.EMAIL:
        return send_emails(messages, deadline=deadline)
    outcomes = []
    for message in messages:
        if deadline():
            outcomes.append(NOT_TRIED)
            continue
        try:
            if channel == Channel.CHAT:
                send_chat(message)
            else:
                send_post(message)
        except SendError as error:
            outcomes.append(error)
        except Exception as error:  # a sender's bug or an unforeseen failure: retried
            logger.exception("Sending outbox message %s failed", message.pk)
            outcomes.append(SendError(_("%(what)s not sent: %(error)s") % describe(message, error)))
        else:
            outcomes.append(None)
    return outcomes


# Marks a message the batch did not get to (the lease's half was spent): handed back as it
# was, the attempt not counted.
NOT_TRIED = object()


def describe(message, error) -> dict:
    return {"what": what(message), "error": one_line(str(error) or type(error).__name__)}


def what(message) -> str:
    if message.channel == Channel.EMAIL:
        return _("e-mail to %(to)s") % {"to": who(message)}
    if message.channel == Channel.CHAT:
        return _("chat message to %(to)s") % {"to": who(message)}
    return _("post to %(to)s") % {"to": who(message)}


def one_line(text: str, limit: int = MAX_REPLY) -> str:
    text = single_line(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


# E-mail ------------------------------------------------------------------------------------


def send_emails(messages: list, *, deadline: Callable[[], bool]) -> list:
    """Through the configured backend (EMAIL_BACKEND), one connection for the batch. A
    refusal of one message (4xx, 5xx) leaves the connection usable for the next; a
    connection that fails (refused, timed out, dropped) ends the batch: the messages not
    tried get the same error."""
    connection = get_connection(fail_silently=False)
    try:
        connection.open()
    except Exception as error:
        return [unavailable(message, error) for message in messages]
    outcomes: list = []
    try:
        for index, message in enumerate(messages):
            if deadline():
                outcomes.extend([NOT_TRIED] * (len(messages) - index))
                break
            try:
                email_address(message)
                connection.send_messages([email(message)])
            except SendError as failure:
                outcomes.append(failure)
            except REFUSALS as error:  # smtplib reset the session: the connection goes on
                outcomes.append(refusal(message, error))
            except (OSError, smtplib.SMTPException) as error:
                outcomes.extend(unavailable(m, error) for m in messages[index:])
                break
            except Exception as error:  # the message itself (a header Django refuses...)
                logger.exception("Building outbox e-mail %s failed", message.pk)
                outcomes.append(
                    PermanentError(_("%(what)s not sent: %(error)s") % describe(message, error))
                )
            else:
                outcomes.append(None)
    finally:
        try:
            connection.close()
        except Exception:  # a server that hung or dropped: its answer to QUIT does not matter
            logger.info("Closing the mail connection failed", exc_info=True)
    return outcomes


# The server's answers to one message (MAIL FROM, RCPT TO, DATA).
REFUSALS = (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError)


def email_address(message) -> None:
    if not email_sendable(message.recipient):
        raise PermanentError(
            _("%(what)s not sent: not a valid e-mail address") % {"what": what(message)}
        )


def email(message) -> EmailMessage:
    return EmailMessage(
        subject=message.subject,
        body=message.body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[message.recipient],
        headers={
            **(message.headers or {}),
            "Message-ID": message_id(message.key),
            # Tells mail servers and out-of-office responders a program sent it (RFC 3834).
            "Auto-Submitted": "auto-generated",
        },
    )


def refusal(message, error) -> SendError:
    """A reply of the server: 5xx is final, anything else (4xx) is retried."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        code, reply = next(iter(error.recipients.values()), (0, b""))
    else:
        code, reply = error.smtp_code, error.smtp_error
    if isinstance(reply, bytes):
        reply = reply.decode("utf-8", "replace")
    reason = _("%(what)s refused by the mail server: %(reply)s") % {
        "what": what(message),
        "reply": one_line(f"{code} {reply}"),
    }
    return PermanentError(reason) if 500 <= code < 600 else SendError(reason)


def unavailable(message, error) -> ServerUnavailable:
    """The connection failed: refused, timed out, dropped, or the server turned us away
    while connecting (a 421 greeting, bad credentials: the site's settings, not the
    message's, so retried)."""
    host = f"{settings.EMAIL_HOST}:{settings.EMAIL_PORT}"
    if isinstance(error, smtplib.SMTPResponseException):
        reason = refusal(message, error).reason
    # smtplib reports a timeout mid-conversation as a disconnection caused by it.
    elif isinstance(error, TimeoutError) or isinstance(error.__context__, TimeoutError):
        reason = _(
            "%(what)s not sent: the mail server (%(host)s) did not answer within %(seconds)s s"
        ) % {"what": what(message), "host": host, "seconds": settings.EMAIL_TIMEOUT}
    else:
        reason = _("%(what)s not sent: the mail server (%(host)s) is unreachable: %(error)s") % {
            "what": what(message),
            "host": host,
            "error": one_line(str(error) or type(error).__name__),
        }
    return ServerUnavailable(reason)


# Chat and SMS through Apprise --------------------------------------------------------------


def send_chat(message) -> None:
    """One notification through Apprise to the row's Apprise URL (Slack, Teams, Matrix,
    an SMS gateway...); Apprise's own timeouts (4 s to connect, 4 s to read, per URL
    options `cto=`/`rto=`) bound it. An URL Apprise cannot use fails for good; a refusal
    or a timeout of the service is retried."""
    import apprise

    # No HTTP redirect is followed (the asset's default, and the URL's own ?redirect=
    # overridden): a service answering 307 to http://127.0.0.2/… had the message posted
    # into the server's own network, past the address checks. The 3xx is the answer.
    notifier = apprise.Apprise(
        asset=apprise.AppriseAsset(storage_mode="memory", http_redirects=False)
    )
    if (
        not chat_scheme_allowed(message.recipient)
        or not notifier.add(message.recipient)
        or len(notifier) != 1  # one checked address
    ):
        raise PermanentError(
            _("%(what)s not sent: the chat address cannot be used (an unknown or malformed URL)")
            % {"what": what(message)}
        )
    # Checked when the address was saved, and again now (its name may resolve elsewhere),
    # as urlsplit and as Apprise read it.
    loopback = settings.CHAT_ALLOW_LOOPBACK
    if url_points_inside(message.recipient, allow_loopback=loopback) or sender_points_inside(
        notifier[0], allow_loopback=loopback
    ):
        raise PermanentError(
            _("%(what)s not sent: the chat address points to a private or local network address")
            % {"what": what(message)}
        )
    notifier[0].redirects = False  # whatever the URL's ?redirect= said
    with apprise.LogCapture(level=logging.WARNING, fmt="%(message)s") as logs:
        sent = notifier.notify(title=message.subject, body=message.body)
    if not sent:
        said = [line for line in logs.getvalue().splitlines() if line.strip()]
        detail = said[-1] if said else _("the service did not accept it")
        # Apprise masks secrets in its logs; never echo the URL itself all the same.
        detail = detail.replace(message.recipient, masked(Channel.CHAT, message.recipient))
        raise SendError(
            _("%(what)s not delivered: %(error)s")
            % {"what": what(message), "error": one_line(detail)}
        )


# Platform posts ----------------------------------------------------------------------------


def send_post(message) -> None:
    platform = post_platform(message.recipient)
    sender = hooks.post_sender(platform)
    if sender is None:
        raise PermanentError(
            _("%(what)s not sent: no sender is installed for the platform “%(platform)s”")
            % {"what": what(message), "platform": one_line(platform, 40)}
        )
    sender(message)
