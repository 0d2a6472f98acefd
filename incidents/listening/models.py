"""Watches and the mentions they collect.

A mention is what someone posted, as the platform gave it: it is written once by the
ingest path (actions.mentions_ingest) and never edited by people; what the team later
decides about it (triage, replies) lives beside it. `(platform, external_id)` is unique, so
every ingest path (connectors, imports, the bulk API) is idempotent.
"""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from incidents.localtime import shown
from incidents.models import Incident, Platform

from .choices import Sentiment, SignalKind, SignalStatus, Source

MAX_NAME = 200
MAX_TERM = 100
MAX_TERMS = 200
MAX_EXTERNAL_ID = 300
MAX_URL = 2000
MAX_HANDLE = 200
MAX_TEXT = 20_000
# An expected burst's size, times the usual volume (a big launch stays under 100).
BURST_SIZE_RANGE = (1.0, 100.0)
# The planned campaigns a watch may have running or to come at once: all on its campaigns
# page (selectors.UPCOMING_BURSTS_SHOWN), well within what detection reads of them (100,
# with those ended in the windows it evaluates). actions.clean_burst refuses one more.
MAX_OPEN_BURSTS = 50
DASH = "\u2013"  # between the two ends of a window

# Platforms whose accounts are named @handle.
AT_HANDLE_PLATFORMS = frozenset(
    {Platform.X, Platform.INSTAGRAM, Platform.TIKTOK, Platform.YOUTUBE, Platform.BLUESKY,
     Platform.MASTODON}
)  # fmt: skip


def shown_handle(handle: str, platform: str) -> str:
    """An author's handle as the pages show it: with one "@" on the platforms that use
    @handles, whatever the source sent ("alice" from the bulk API, "@alice" from a CSV
    export), as it was sent elsewhere. Stored as sent: the API gives it as is."""
    handle = (handle or "").strip()
    if handle and platform in AT_HANDLE_PLATFORMS:
        return "@" + handle.lstrip("@")
    return handle


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
    # The watch of the conversation this brand watch is part of (its sector, its category,
    # its competitors: "kettles"): the post-mortem's share of voice is this watch's
    # mentions over the topic's. None: the topic is not known. One level only (a topic
    # watch has no topic itself): actions.clean_watch.
    topic_watch = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("topic watch"),
        help_text=_(
            "The watch of the whole conversation this brand is part of (its sector or "
            "category, its competitors): the post-mortem's share of voice compares the two."
        ),
    )
    # Alert rules (spike detection): a volume spike is this many deviations above the
    # baseline (the same hour on past days, scaled to today's level; over the last 10, 20 or
    # 60 minutes) and at least `volume_min_count` mentions in the hour (in the window, for the
    # two- and three-hour windows: detection.py); a tone shift is this
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
    # The posts stored since then were sorted into it (actions.watch_rematch), those it
    # matches and those it does not: its volume is known from then, zeros included, even
    # when that is before its creation (a watch set up as a crisis starts).
    sorted_from = models.DateTimeField(_("posts sorted into it from"), null=True, blank=True)
    # Since when a "sort again" of its stored posts runs (actions.watch_rematch), None when
    # none does: a second one meanwhile is refused rather than reading them all again. Taken
    # and released by that action; older than actions.REMATCH_CLAIM, it was left by a
    # process that died and no longer holds.
    sorting_since = models.DateTimeField(
        _("sorting its stored posts again since"), null=True, blank=True, editable=False
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("watch")
        verbose_name_plural = _("watches")

    def __str__(self):
        return self.name

    @property
    def known_since(self):
        """Since when its volume is known: its creation, or earlier where the posts stored
        before it were sorted into it (detection's history starts there)."""
        if self.sorted_from is None:
            return self.created_at
        return min(self.created_at, self.sorted_from)


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

    @property
    def author_handle_shown(self) -> str:
        return shown_handle(self.author_handle, self.platform)

    @property
    def author_shown(self) -> str:
        """Who wrote it, as the pages name them: the display name, else the handle ("" when
        the source said neither)."""
        return self.author_name or self.author_handle_shown


class MentionMatch(models.Model):
    """A mention matched a watch; `posted_at` and `sentiment` are copied (a mention never
    changes) so a watch's volume and tone per minute are one index range scan, without the
    mentions (detection reads them constantly)."""

    mention = models.ForeignKey(Mention, on_delete=models.CASCADE, related_name="+")
    # A watch that collected mentions is deactivated, never deleted.
    watch = models.ForeignKey(Watch, on_delete=models.PROTECT, related_name="+")
    posted_at = models.DateTimeField()
    sentiment = models.CharField(max_length=8, choices=Sentiment.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["watch", "mention"], name="match_unique_per_watch")
        ]
        indexes = [models.Index(fields=["watch", "-posted_at"], name="match_watch_newest")]

    def __str__(self):
        return f"{self.watch_id} <- {self.mention_id}"


class Signal(models.Model):
    """Something abnormal on a watch: a volume spike or a tone shift against the watch's
    baseline. One signal per episode: it is updated while the episode lasts and closed when
    the stream is back to normal (listening/detection.py decides). The committee declares
    an incident from it (`incident`, `declared_*`)."""

    watch = models.ForeignKey(Watch, on_delete=models.PROTECT, related_name="signals")
    kind = models.CharField(_("kind"), max_length=8, choices=SignalKind.choices)
    status = models.CharField(
        _("status"), max_length=8, choices=SignalStatus.choices, default=SignalStatus.OPEN
    )
    # 1 (low) to 4 (critical), from the size of the deviation: the incidents' Severity scale.
    severity = models.PositiveSmallIntegerField(_("severity"), default=1)
    opened_at = models.DateTimeField(_("opened at"))
    # The minute the abnormal stream started, and its first mention: time to detect.
    started_at = models.DateTimeField(_("started at"))
    first_mention = models.ForeignKey(
        Mention, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    peak_at = models.DateTimeField(_("peak at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"))
    # Mentions per hour observed and expected at the peak, and how many robust deviations
    # apart; the negative share (0..1) observed and in the baseline.
    observed = models.FloatField(_("observed per hour"), default=0)
    expected = models.FloatField(_("expected per hour"), default=0)
    deviations = models.FloatField(_("robust deviations"), default=0)
    negative_share = models.FloatField(_("negative share"), null=True, blank=True)
    baseline_negative_share = models.FloatField(_("baseline negative share"), null=True, blank=True)
    # What the signal page shows beside the curve: top terms, top authors by reach,
    # sentiment split, sample mention ids (bounded lists, written by detection).
    summary = models.JSONField(_("summary"), default=dict, blank=True)
    incident = models.ForeignKey(
        Incident, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    declared_at = models.DateTimeField(_("declared at"), null=True, blank=True)
    declared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # How `incident` came: declared from this signal (False), or already declared (by hand,
    # from another signal) and the signal linked to it (actions.signal_link). `declared_at`
    # and `declared_by` say when and who, both ways.
    linked = models.BooleanField(_("linked to an incident already declared"), default=False)

    class Meta:
        ordering = ["-opened_at", "-id"]
        indexes = [models.Index(fields=["watch", "status", "-opened_at"], name="signal_watch_open")]
        verbose_name = _("signal")
        verbose_name_plural = _("signals")

    def __str__(self):
        return f"{self.watch} — {self.get_kind_display()} ({self.opened_at:%Y-%m-%d %H:%M})"


class ExpectedBurst(models.Model):
    """A planned campaign or announcement on a watch. Without an expected size its window
    (and, for each detection window, as long again after it) raises no volume signal; with
    one (times the usual volume) that is what the detector expects of it, so a crisis well
    beyond the campaign still alerts."""

    watch = models.ForeignKey(Watch, on_delete=models.CASCADE, related_name="expected_bursts")
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    note = models.CharField(_("note"), max_length=MAX_NAME, blank=True)
    expected_size = models.FloatField(
        _("expected size (times the usual volume)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(BURST_SIZE_RANGE[0]), MaxValueValidator(BURST_SIZE_RANGE[1])],
        help_text=_(
            "How many times the usual mentions the campaign should bring (e.g. 4). Empty: "
            "nothing in its window raises a volume signal. Given: a wave well beyond it "
            "still does."
        ),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    class Meta:
        ordering = ["-starts_at"]
        verbose_name = _("expected burst")
        verbose_name_plural = _("expected bursts")

    def __str__(self):
        return f"{self.watch}: {self.window_shown()}"

    def window_shown(self) -> str:
        """Its window as people read it, in the active time zone (the site's, unless the
        viewer's is active) and the language's format: "27 Nov 2026, 08:00 \u2013 20:00 CET",
        the end's date written only when it is another day."""
        start, end = timezone.localtime(self.starts_at), timezone.localtime(self.ends_at)
        same_day = start.date() == end.date()
        until = shown(end, "TIME_FORMAT" if same_day else "SHORT_DATETIME_FORMAT")
        if start.tzname() != end.tzname():  # a change of clocks inside the window
            return f"{shown(start, zone=True)} {DASH} {until} {end.tzname()}"
        return f"{shown(start)} {DASH} {until} {end.tzname()}"


class CollectorState(models.Model):
    """Where a long-running collector (a connector, the detector) stands, so a restart
    neither loses nor repeats anything: e.g. Jetstream's `time_us` cursor, Mastodon's
    `min_id` per timeline, a feed's ETag and Last-Modified, the last minute evaluated."""

    name = models.CharField(_("name"), max_length=MAX_URL, unique=True)
    state = models.JSONField(_("state"), default=dict, blank=True)
    updated_at = models.DateTimeField(_("updated at"))
    last_success_at = models.DateTimeField(_("last success at"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=1000, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("collector state")
        verbose_name_plural = _("collector states")

    def __str__(self):
        return self.name
