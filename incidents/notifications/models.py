"""The in-app bell: one row per person and event. A notification names what it is about
(`subject`, e.g. a task's title) and where to act (`url`, a path of this site), so any app
can produce one without the bell knowing that app's models."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from incidents.models import Incident

from .choices import NotificationKind

MAX_SUBJECT = 200
MAX_URL = 500


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

    class Meta:
        db_table = "incidents_notification"  # created by the incidents app before the split
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "read_at"])]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")

    def __str__(self):
        return f"{self.get_kind_display()}: {self.subject}"
