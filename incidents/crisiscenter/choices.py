"""Enumerations of the public crisis center, in one place (docs/api.md lists their values)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class PageState(models.TextChoices):
    DARK = "dark", _("Dark (prepared, not public)")
    LIVE = "live", _("Live")
    RESOLVED = "resolved", _("Resolved (archived, still online)")


class Section(models.TextChoices):
    """The page's texts. Each is a statement of the crisis center channel bound to its
    section; a summary's and an FAQ entry's first line is their heading (the page's title,
    the question), the rest their body."""

    SUMMARY = "summary", _("Summary")
    DOING = "doing", _("What we are doing")
    HELP = "help", _("Where to get help")
    FAQ = "faq", _("FAQ entry")


# The order the room lists a page's texts in (the page's own order).
SECTION_ORDER = [Section.SUMMARY, Section.DOING, Section.HELP, Section.FAQ]
