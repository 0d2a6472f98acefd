"""Enumerations of the listening app (docs/api.md lists their values)."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Sentiment(models.TextChoices):
    POSITIVE = "positive", _("Positive")
    NEUTRAL = "neutral", _("Neutral")
    NEGATIVE = "negative", _("Negative")
    # A language no lexicon covers, or a text too short to tell: never a guess.
    UNKNOWN = "unknown", _("Unknown")


class Source(models.TextChoices):
    """The path a mention came in by (not the platform it was posted on)."""

    BLUESKY = "bluesky", _("Bluesky Jetstream")
    MASTODON = "mastodon", _("Mastodon")
    FEED = "feed", _("RSS/Atom feed")
    IMPORT = "import", _("File import")
    API = "api", _("API")


class SignalKind(models.TextChoices):
    VOLUME = "volume", _("Volume spike")
    TONE = "tone", _("Tone shift")


class SignalStatus(models.TextChoices):
    # Their own context: "Open" is also a task's status ("À faire"), a signal's is "Ouvert".
    OPEN = "open", pgettext_lazy("signal status", "Open")
    CLOSED = "closed", pgettext_lazy("signal status", "Closed")
