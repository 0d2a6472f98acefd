from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    """The in-app bell: one notification per person and event, from any producer (task
    reminders today; signals, the reply queue and hand-offs next)."""

    name = "incidents.notifications"
    label = "notifications"
    verbose_name = _("Notifications")
