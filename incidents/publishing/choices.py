"""Enumerations of publishing, in one place."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class BrandPlatform(models.TextChoices):
    """The platforms a statement is posted on through their API (the same values as the
    statements' Channel and listening's Platform)."""

    MASTODON = "mastodon", _("Mastodon")
    BLUESKY = "bluesky", _("Bluesky")


class PublicationStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENT = "sent", _("Posted")
    FAILED = "failed", _("Failed")
