"""Enumerations of this app, in one place (docs/api.md lists their values)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ContactKind(models.TextChoices):
    COMMITTEE = "committee", _("Crisis committee")
    STAKEHOLDER = "stakeholder", _("Stakeholder")
    AMBASSADOR = "ambassador", _("Ambassador / influencer")


class TaskStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", _("Done")


class ReminderKind(models.TextChoices):
    DUE_SOON = "due_soon", _("Due in 5 minutes")
    OVERDUE = "overdue", _("Overdue")


class CompletesOn(models.TextChoices):
    """What completes a checklist step by itself: the event the cell would otherwise tick
    the task for (actions/incident.py, `_events_of`, reads them off the timeline entry the
    event writes)."""

    HOLDING_PUBLISHED = "holding_published", _("First public holding statement published")
    STATEMENT_PUBLISHED = "statement_published", _("Any statement published")
    # A statement of kind "update" published, on a network or on the crisis page: the
    # "regular update" cadence (an individual reply does not keep the public informed).
    UPDATE_PUBLISHED = "update_published", _("An update published")
    CRISIS_PAGE_LIVE = "crisis_page_live", _("Crisis page live")
    POSTMORTEM_SIGNED_OFF = "postmortem_signed_off", _("Post-mortem signed off")
    # The promotion freeze is set (by default at the declaration, or by the lead): the
    # step "pause scheduled posts" is that decision.
    PROMOTION_FROZEN = "promotion_frozen", _("Promotion freeze set")
