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


class PromiseOutcome(models.TextChoices):
    """What became of a promised update time (docs/architecture.md, "Promises kept"). Set by
    the actions only: open -> kept | late | missed | moved | withdrawn, and missed -> late
    when an update finally comes before any new promise."""

    OPEN = "open", _("Awaited")
    KEPT = "kept", _("Kept on time")
    LATE = "late", _("Kept late")
    MISSED = "missed", _("Missed")
    MOVED = "moved", _("Moved before its time")
    WITHDRAWN = "withdrawn", _("Withdrawn before its time")


# Outcomes of a promise that came due: the post-mortem's and the metrics' "n".
CAME_DUE = (PromiseOutcome.KEPT, PromiseOutcome.LATE, PromiseOutcome.MISSED)
