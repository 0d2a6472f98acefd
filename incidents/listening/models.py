"""Watches and the mentions they collect.

A mention is what someone posted, as the platform gave it: it is written once by the
ingest path (actions.mentions_ingest) and never edited by people; what the team later
decides about it (triage, replies) lives beside it. `(platform, external_id)` is unique, so
every ingest path (connectors, imports, the bulk API) is idempotent.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from incidents.models import Incident, Platform

from .choices import Sentiment, Source

MAX_NAME = 200
MAX_TERM = 100
MAX_TERMS = 200
MAX_EXTERNAL_ID = 300
MAX_URL = 2000
MAX_HANDLE = 200
MAX_TEXT = 20_000


class Watch(models.Model):
    """A named set of queries for a brand. The term lists are JSON lists of strings; they are
    matched case- and accent-insensitively on word boundaries (listening/matching.py)."""

    name = models.CharField(_("name"), max_length=MAX_NAME, unique=True)
    brand = models.CharField(_("brand"), max_length=MAX_NAME)
    keywords = models.JSONField(
        _("keywords and phrases"),
        default=list,
        blank=True,
        help_text=_("A mention matches when it contains one of them."),
    )
    exclusions = models.JSONField(
        _("exclusions"),
        default=list,
        blank=True,
        help_text=_("A mention containing one of them never matches."),
    )
    hashtags = models.JSONField(_("hashtags"), default=list, blank=True)
    handles = models.JSONField(
        _("the brand's handles"),
        default=list,
        blank=True,
        help_text=_("Posts by these accounts and posts naming them match."),
    )
    languages = models.JSONField(
        _("languages"), default=list, blank=True, help_text=_("Empty: every language.")
    )
    platforms = models.JSONField(
        _("platforms"), default=list, blank=True, help_text=_("Empty: every platform.")
    )
    is_active = models.BooleanField(_("active"), default=True)
    # Alert rules (spike detection): a volume spike is this many robust deviations above the
    # baseline and at least `volume_min_count` mentions in the hour; a tone shift is this
    # many points more negative share over at least `tone_min_scored` scored mentions.
    volume_deviations = models.FloatField(_("volume threshold (robust deviations)"), default=4.0)
    volume_min_count = models.PositiveIntegerField(_("minimum mentions in an hour"), default=10)
    tone_shift_points = models.PositiveSmallIntegerField(
        _("negative share shift (points)"), default=25
    )
    tone_min_scored = models.PositiveIntegerField(_("minimum scored mentions"), default=25)
    subscribers = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="+",
        verbose_name=_("alerted people"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"))
    updated_at = models.DateTimeField(_("updated at"))

    class Meta:
        ordering = ["name"]
        verbose_name = _("watch")
        verbose_name_plural = _("watches")

    def __str__(self):
        return self.name


class Mention(models.Model):
    platform = models.CharField(_("platform"), max_length=16, choices=Platform.choices)
    external_id = models.CharField(_("id on the platform"), max_length=MAX_EXTERNAL_ID)
    url = models.URLField(_("URL"), max_length=MAX_URL, blank=True)
    author_handle = models.CharField(_("author handle"), max_length=MAX_HANDLE, blank=True)
    author_name = models.CharField(_("author name"), max_length=MAX_HANDLE, blank=True)
    author_url = models.URLField(_("author profile URL"), max_length=MAX_URL, blank=True)
    author_followers = models.PositiveIntegerField(_("author followers"), null=True, blank=True)
    author_verified = models.BooleanField(_("author verified"), null=True, blank=True)
    # Only when the platform says so; None: not known.
    author_follows_brand = models.BooleanField(_("follows the brand"), null=True, blank=True)
    text = models.TextField(_("text"), max_length=MAX_TEXT)
    # ISO 639-1 code detected by py3langid (or given by the platform); "" when not known.
    language = models.CharField(_("language"), max_length=8, blank=True)
    posted_at = models.DateTimeField(_("posted at"))
    collected_at = models.DateTimeField(_("collected at"))
    likes = models.PositiveIntegerField(_("likes"), default=0)
    reposts = models.PositiveIntegerField(_("reposts"), default=0)
    replies = models.PositiveIntegerField(_("replies"), default=0)
    in_reply_to = models.CharField(
        _("in reply to (id on the platform)"), max_length=MAX_EXTERNAL_ID, blank=True
    )
    reply_to_brand = models.BooleanField(_("reply to the brand"), default=False)
    # VADER's compound score in [-1, 1] (negative is negative); None when not scored.
    sentiment_score = models.FloatField(_("sentiment score"), null=True, blank=True)
    sentiment = models.CharField(
        _("sentiment"), max_length=8, choices=Sentiment.choices, default=Sentiment.UNKNOWN
    )
    source = models.CharField(_("collected by"), max_length=8, choices=Source.choices)
    watches = models.ManyToManyField(
        Watch, through="MentionMatch", related_name="mentions", verbose_name=_("watches")
    )
    incident = models.ForeignKey(
        Incident,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="mentions",
        verbose_name=_("incident"),
    )

    class Meta:
        ordering = ["-posted_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["platform", "external_id"], name="mention_unique_per_platform"
            )
        ]
        indexes = [
            models.Index(fields=["-posted_at", "-id"], name="mention_newest"),
            models.Index(fields=["incident", "-posted_at", "-id"], name="mention_incident_newest"),
        ]
        verbose_name = _("mention")
        verbose_name_plural = _("mentions")

    def __str__(self):
        return f"{self.get_platform_display()} {self.author_handle}: {self.text[:60]}"


class MentionMatch(models.Model):
    """A mention matched a watch; `posted_at` is copied so a watch's volume per minute is one
    index range scan (detection reads it constantly)."""

    mention = models.ForeignKey(Mention, on_delete=models.CASCADE, related_name="+")
    # A watch that collected mentions is deactivated, never deleted.
    watch = models.ForeignKey(Watch, on_delete=models.PROTECT, related_name="+")
    posted_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["watch", "mention"], name="match_unique_per_watch")
        ]
        indexes = [models.Index(fields=["watch", "-posted_at"], name="match_watch_newest")]

    def __str__(self):
        return f"{self.watch_id} <- {self.mention_id}"
