import importlib

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    """The bell and the messages beyond it: one notification per person and event, from
    any producer (hand-offs, task reminders), sent by e-mail and chat through the outbox
    per each person's preferences."""

    name = "incidents.notifications"
    label = "notifications"
    verbose_name = _("Notifications")

    def ready(self):
        # The outbox tells us what it could not deliver (its last attempt failed): the
        # lead, or the sender, hears of it in the bell. Its hook may not exist yet in an
        # older outbox; then there is nothing to register.
        from .actions import on_delivery_failed

        try:
            hooks = importlib.import_module("incidents.outbox.hooks")
        except ImportError:
            hooks = importlib.import_module("incidents.outbox")
        register = getattr(hooks, "register_failure_handler", None)
        if register is not None:
            register(on_delivery_failed)
