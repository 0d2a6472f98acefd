"""The reply queue's enumerations, and the handling advice of each author type."""

from django.db import models
from django.utils.translation import gettext_lazy as _

# The author types live in the core: playbooks (advice per type) and the reply queue are
# siblings that both name them (.importlinter). Re-exported here for the queue's code.
from incidents.choices import AuthorType


class NeedsAnswer(models.TextChoices):
    YES = "yes", _("Needs an answer")
    NO = "no", _("No answer needed")
    UNDECIDED = "undecided", _("Not decided yet")


class Outcome(models.TextChoices):
    OPEN = "open", _("Open")
    # Set when a reply bound to the mention is published (actions.reply_published).
    ANSWERED = "answered", _("Answered")
    # Any author type: a troll, a persistent hater after one answer, a remark needing none.
    NO_ANSWER = "no_answer", _("Deliberately not answered")
    PRIVATE = "private", _("Answered privately")
    CUSTOMER_SERVICE = "customer_service", _("Handed to customer service")
    THANKED = "thanked", _("Thanked")


# What a person decides with the "decide" action (a reason is required); "answered" comes
# with the replies, "thanked" with the thank action.
DECISIONS = (Outcome.NO_ANSWER, Outcome.PRIVATE, Outcome.CUSTOMER_SERVICE)
# Outcomes that count as the person having been dealt with (coverage).
HANDLED = (Outcome.ANSWERED, Outcome.PRIVATE, Outcome.CUSTOMER_SERVICE, Outcome.NO_ANSWER)
# Outcomes that say the person needed an answer: a mention left "not decided yet" and then
# answered counts as needing one (actions._conclude), so the coverage shows it.
ANSWERS = (Outcome.ANSWERED, Outcome.PRIVATE, Outcome.CUSTOMER_SERVICE)


class QueueView(models.TextChoices):
    """The queue's tabs (page) and `view` filter (API)."""

    TO_ANSWER = "to_answer", _("To answer")
    TO_TRIAGE = "to_triage", _("To triage")
    DEFENDERS = "defenders", _("Defenders")
    HANDLED = "handled", _("Handled")


# The default handling advice per author type, in plain words (translated). A playbook may
# replace it per type and language (incidents.extensions.handling_advice); which text is
# shown is decided in one place, selectors.advice_text.
ADVICE = {
    AuthorType.UNHAPPY_CUSTOMER: _(
        "Answer them individually, on the platform where they wrote, quickly and "
        "kindly: acknowledge the problem, say what you are doing and how to reach you "
        "(a private message or customer service). Followers of the brand first."
    ),
    AuthorType.HATER_PERSISTENT: _(
        "They follow the brand everywhere and will not be convinced. Give one calm, "
        "factual answer that others reading the thread will see, then do not argue. "
        "Never delete or hide their posts; keep evidence of abuse."
    ),
    AuthorType.HATER_OCCASIONAL: _(
        "Angry at this moment, often for a real reason. One calm, factual answer that "
        "acknowledges the anger and points to the facts or to a fix is usually enough."
    ),
    AuthorType.TROLL: _(
        "They want a reaction: do not answer, do not delete. Record the decision "
        "“deliberately not answered” and preserve the post as evidence if it crosses a line."
    ),
    AuthorType.DEFENDER: _(
        "Someone who stood up for the brand. Thank them, personally and without "
        "asking anything of them; never ask them to defend the brand for you."
    ),
    AuthorType.PRESS: _(
        "A journalist or a media outlet. Do not debate in public: give the facts "
        "already published and hand them to the press contact with the spokesperson."
    ),
    AuthorType.INFLUENCER: _(
        "A large audience reads them. Answer with care, with the facts, and consider "
        "a private message; tell the lead, whose reach may change the severity."
    ),
    AuthorType.NEUTRAL: _(
        "A question or a remark without hostility. Answer it if it asks something; "
        "otherwise no answer is needed."
    ),
}


class ReviewDecision(models.TextChoices):
    """One decision of a batch review (actions.review_batch)."""

    APPROVE = "approve", _("Approve")
    REQUEST_CHANGES = "request_changes", _("Return with a comment")


class CaptureTarget(models.TextChoices):
    """Which page of a mention a URL capture keeps (replies/models.MentionCapture)."""

    POST = "post", _("The post")
    PROFILE = "profile", _("The author's profile")


# The type whose reply template is the next best for a type that has none of its own: a
# calm reply to an occasional hater suits a persistent one, and the other way round.
KIN_TYPE = {
    AuthorType.HATER_PERSISTENT: AuthorType.HATER_OCCASIONAL,
    AuthorType.HATER_OCCASIONAL: AuthorType.HATER_PERSISTENT,
}
