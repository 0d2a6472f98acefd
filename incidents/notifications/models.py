"""The in-app bell: one row per person and event. A notification names what it is about
(`subject`, e.g. a task's title) and where to act (`url`, a path of this site), so any app
can produce one without the bell knowing that app's models."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from incidents.models import Incident

from .chat import mask
from .choices import NotificationKind

MAX_SUBJECT = 200
MAX_URL = 500
MAX_KEY = 150
# Chat targets per person and per cell: "one or a few".
MAX_PERSONAL_TARGETS = 5
MAX_CELL_TARGETS = 3


class Notification(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    incident = models.ForeignKey(
        Incident, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(_("kind"), max_length=32, choices=NotificationKind.choices)
    subject = models.CharField(_("about"), max_length=MAX_SUBJECT, blank=True)
    url = models.CharField(_("link"), max_length=MAX_URL, blank=True)
    created_at = models.DateTimeField(_("created at"))
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    # The producer's event key, when it gave one: the same event notifies a person once.
    key = models.CharField(_("event key"), max_length=MAX_KEY, blank=True, default="")

    class Meta:
        db_table = "incidents_notification"  # created by the incidents app before the split
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "read_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "key"],
                condition=~models.Q(key=""),
                name="notification_once_per_event",
            )
        ]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")

    def __str__(self):
        return f"{self.get_kind_display()}: {self.subject}"


class NotificationPreference(models.Model):
    """What one person receives beyond the bell. No row means the defaults: every kind by
    e-mail and by chat (chat only reaches someone who has set a chat target), never quiet,
    messages in the site's language. The lists name the kinds turned *off*, so a kind added
    later is on until the person says otherwise.

    The language of their messages (messages.language_of) is the one they chose
    (`language`: the header's switch, the settings page, the API), else the one their
    browser showed the app in when they last signed in (`browser_language`, remembered at
    each sign-in, never a choice), else the site's. Only a chosen language follows them to
    another browser (the language cookie set at sign-in)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preference"
    )
    email_off = models.JSONField(_("kinds not sent by e-mail"), default=list, blank=True)
    chat_off = models.JSONField(_("kinds not sent by chat"), default=list, blank=True)
    quiet_when_looking = models.BooleanField(
        _("quiet when I am looking at the incident room"),
        default=False,
        help_text=_(
            "No e-mail or chat message about an incident whose room you have open (the bell "
            "still shows it at once)."
        ),
    )
    language = models.CharField(
        _("language of my messages"),
        max_length=8,
        choices=settings.LANGUAGES,
        blank=True,
        help_text=_(
            "The language the person chose. Empty: none chosen (the language of their last "
            "sign-in, else the site's)."
        ),
    )
    browser_language = models.CharField(
        _("language of the last sign-in"),
        max_length=8,
        choices=settings.LANGUAGES,
        blank=True,
        default="",
        help_text=_(
            "The language the person's browser showed the app in when they last signed in: "
            "their messages' language until they choose one."
        ),
    )
    updated_at = models.DateTimeField(_("updated at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")

    def __str__(self):
        return str(self.user)

    def wants(self, kind: str, channel: str) -> bool:
        """Whether this kind goes to this channel ("email" or "chat")."""
        return kind not in (self.email_off if channel == "email" else self.chat_off)


class ChatTarget(models.Model):
    """An Apprise URL that receives notifications: a person's own (`user`) or a crisis
    cell's channel (`incident`, set by its lead), which gets each hand-off of the incident
    once. `url` holds secrets: shown only through `masked` (chat.mask)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="chat_targets",
    )
    incident = models.ForeignKey(
        Incident, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    label = models.CharField(_("name"), max_length=100)
    url = models.CharField(_("chat address"), max_length=1000)
    service = models.CharField(_("service"), max_length=50, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(user__isnull=False, incident__isnull=True)
                | models.Q(user__isnull=True, incident__isnull=False),
                name="chat_target_of_a_person_or_a_cell",
            )
        ]
        verbose_name = _("chat target")
        verbose_name_plural = _("chat targets")

    def __str__(self):
        return f"{self.label} ({self.masked})"

    @property
    def masked(self) -> str:
        return mask(self.url)

    @property
    def display(self) -> str:
        """How messages and failure notices name it: "Slack — Inès's phone"."""
        return f"{self.service} — {self.label}" if self.service else self.label
