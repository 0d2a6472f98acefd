"""One row per outgoing message. The row is the message's whole life: what to send, to whom,
how many attempts so far, when the next one is due, and why the last one failed."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from incidents.models import Incident

from .choices import Channel, Status

MAX_KEY = 200
MAX_RECIPIENT = 1000
MAX_LABEL = 200
MAX_SUBJECT = 250
MAX_BODY = 20_000
MAX_ERROR = 1000


class OutboundMessage(models.Model):
    # The idempotency key: the same event for the same person and channel is one row, so a
    # producer that runs twice (a retried task, a double click) never sends twice.
    key = models.CharField(_("idempotency key"), max_length=MAX_KEY, unique=True)
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    # An e-mail address, an Apprise URL (may hold a token: never shown whole) or a post
    # target; `recipient_label` is what people see ("legal@example.com", "Slack — Inès").
    recipient = models.CharField(_("recipient"), max_length=MAX_RECIPIENT)
    recipient_label = models.CharField(_("recipient"), max_length=MAX_LABEL, blank=True)
    subject = models.CharField(_("subject"), max_length=MAX_SUBJECT, blank=True)
    body = models.TextField(_("body"), max_length=MAX_BODY)
    # Extra e-mail headers (List-Unsubscribe...), added to the fixed ones; names and values
    # are plain strings.
    headers = models.JSONField(_("e-mail headers"), default=dict, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("The person the message is for, when it is for a person."),
    )
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("The person whose action caused the message."),
    )
    incident = models.ForeignKey(
        Incident, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.PENDING
    )
    # Counted when a worker claims the row (so a worker killed mid-send counts too).
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    created_at = models.DateTimeField(_("created at"))
    # Pending: when the next attempt is due. Sending: when the worker's lease runs out (past
    # it, the sweep hands the row back). One indexed column serves both.
    next_attempt_at = models.DateTimeField(_("next attempt at"))
    last_attempt_at = models.DateTimeField(_("last attempt at"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=MAX_ERROR, blank=True)
    # The claim of the batch that is sending the row (random, per claim): a worker whose
    # lease ran out cannot overwrite what the worker that took over recorded.
    claim = models.CharField(_("claim"), max_length=32, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]
        verbose_name = _("outgoing message")
        verbose_name_plural = _("outgoing messages")

    def __str__(self):
        return f"{self.get_channel_display()} → {self.shown_recipient}"

    @property
    def shown_recipient(self) -> str:
        """The recipient as pages, errors and logs name it: its label, else a masked form."""
        return self.recipient_label or masked(self.channel, self.recipient)


def masked(channel: str, recipient: str) -> str:
    """What may be shown of a recipient: an e-mail address or a post target whole, an
    Apprise URL only by its scheme (the rest often holds a token)."""
    if channel == Channel.CHAT:
        scheme, sep, _rest = recipient.partition("://")
        return f"{scheme[:20]}://…" if sep else "…"
    return recipient
