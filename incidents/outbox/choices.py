"""Enumerations of the outbox, in one place."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Channel(models.TextChoices):
    EMAIL = "email", _("E-mail")
    # Chat and SMS through Apprise (Slack, Teams, Mattermost, Telegram, SMS gateways...).
    CHAT = "chat", _("Chat or SMS")
    # A post on a platform account of the brand (the reply queue, the crisis center).
    POST = "post", _("Platform post")


class Status(models.TextChoices):
    # In context: French agrees the words with "message".
    PENDING = "pending", pgettext_lazy("outgoing message", "Pending")
    SENDING = "sending", pgettext_lazy("outgoing message", "Sending")
    SENT = "sent", pgettext_lazy("outgoing message", "Sent")
    FAILED = "failed", pgettext_lazy("outgoing message", "Failed")
