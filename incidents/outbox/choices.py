"""Enumerations of the outbox, in one place."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    EMAIL = "email", _("E-mail")
    # Chat and SMS through Apprise (Slack, Teams, Mattermost, Telegram, SMS gateways...).
    CHAT = "chat", _("Chat or SMS")
    # A post on a platform account of the brand (the reply queue, the crisis center).
    POST = "post", _("Platform post")


class Status(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
