"""Enumerations of this app, in one place (docs/api.md lists their values)."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from incidents.choices import SOCIAL_NETWORKS


class StatementKind(models.TextChoices):
    HOLDING = "holding", _("Holding statement")
    APOLOGY = "apology", _("Apology")
    UPDATE = "update", _("Update")
    CORRECTION = "correction", _("Correction")
    REPLY = "reply", _("Individual reply")
    FAQ = "faq", _("FAQ answer")
    BRIEFING = "briefing", _("Internal briefing")


# Where a statement is published: the social networks (the same list as incidents'
# Platform) and the company's own channels.
Channel = models.TextChoices(
    "Channel",
    [
        *SOCIAL_NETWORKS,
        # The two platforms a statement can also be posted on through their API
        # (incidents.publishing).
        ("MASTODON", ("mastodon", _("Mastodon"))),
        ("BLUESKY", ("bluesky", _("Bluesky"))),
        ("PRESS_RELEASE", ("press_release", _("Press release"))),
        ("CRISIS_CENTER", ("crisis_center", _("Crisis center page"))),
        ("EMAIL", ("email", _("Email"))),
    ],
)


class Language(models.TextChoices):
    FR = "fr", _("French")
    EN = "en", _("English")
    DE = "de", _("German")
    ES = "es", _("Spanish")
    IT = "it", _("Italian")
    NL = "nl", _("Dutch")


class StatementStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    IN_REVIEW = "in_review", _("In review")
    CHANGES_REQUESTED = "changes_requested", _("Changes requested")
    APPROVED = "approved", _("Approved")
    PUBLISHED = "published", _("Published")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class Decision(models.TextChoices):
    APPROVED = "approved", _("Approved")
    # Given before the text existed: the approver signed the reply template it was made from,
    # and the reply is that template with only its placeholders filled (statements.preapproval).
    PREAPPROVED = "preapproved", _("Approved in advance")
    CHANGES_REQUESTED = "changes_requested", _("Changes requested")
