from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class NotificationKind(models.TextChoices):
    """What a notification tells. A new producer adds its kinds here."""

    DUE_SOON = "due_soon", _("Due in 5 minutes")
    OVERDUE = "overdue", _("Overdue")
    # The hand-offs of the golden hour: each one reaches the person it hands work to.
    ADDED_TO_CELL = "added_to_cell", _("Added to a crisis cell")
    REVIEW_REQUESTED = "review_requested", _("Approval needed")
    CHANGES_REQUESTED = "changes_requested", _("Changes requested")
    READY_TO_PUBLISH = "ready_to_publish", _("Approved, ready to publish")
    PUBLISHED = "published", _("Published")
    ESCALATED = "escalated", _("Approval escalated")
    TASK_ASSIGNED = "task_assigned", _("Task assigned to you")
    # The outbox could not deliver a message after its last attempt.
    DELIVERY_FAILED = "delivery_failed", _("Message not delivered")
    # Listening: a watch's stream spiked or turned negative (to the watch's subscribers).
    SIGNAL_OPENED = "signal_opened", _("Listening alert")
    # A post-mortem's open action item is due soon or overdue (to its owner, once a day).
    ACTION_ITEM_DUE = "action_item_due", _("Action item due")
    # The crisis page's promised update is due soon, or its time passed with no update (to
    # the lead and the spokespeople, once per promise each).
    UPDATE_DUE_SOON = "update_due_soon", _("Public update due soon")
    UPDATE_MISSED = "update_missed", _("Promised public update missed")
    # An incident is resolved and its promotion freeze still holds (to its lead, once a day,
    # until the freeze is lifted).
    PROMOTION_FREEZE_HOLDS = "promotion_freeze_holds", _("Promotion freeze still on")
    # A post-mortem met its approval policy (to the incident's lead).
    SIGNED_OFF = "signed_off", _("Post-mortem signed off")


# The languages of e-mails and chat messages: the site's own (empty: the site's default).
MESSAGE_LANGUAGES = list(settings.LANGUAGES)
