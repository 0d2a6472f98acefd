"""The post-mortem's enumerations (docs/api.md lists their values)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class PostmortemStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    IN_REVIEW = "in_review", _("In review")
    SIGNED_OFF = "signed_off", _("Signed off")


class ItemStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", _("Done")
    DROPPED = "dropped", _("Dropped")


class Decision(models.TextChoices):
    APPROVED = "approved", _("Approved")
    CHANGES_REQUESTED = "changes_requested", _("Changes requested")


class Part(models.TextChoices):
    """The written parts, in the order the page and the exports show them."""

    SUMMARY = "summary", _("Summary")
    WENT_WELL = "went_well", _("What went well")
    WENT_WRONG = "went_wrong", _("What went wrong")
    LUCKY = "lucky", _("Where we got lucky")
    FACTORS = "factors", _("Contributing factors")
