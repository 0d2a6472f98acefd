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
