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
        from incidents import extensions
        from incidents.outbox.hooks import register_failure_handler

        from .actions import on_delivery_failed
        from .selectors import member_warnings

        # The outbox gave up on a message: the lead (or the sender) hears of it in the bell,
        # and the cell panel says who was not reached.
        register_failure_handler(on_delivery_failed)
        extensions.register_member_warnings(member_warnings)
