"""Enumerations of this app, in one place (docs/api.md lists their values)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Category(models.TextChoices):
    PRODUCT = "product", _("Product")
    SERVICE = "service", _("Service")
    BRAND = "brand", _("Brand")
    PUBLIC_STATEMENT = "public_statement", _("Public statement")
    EXTERNAL_EVENT = "external_event", _("External event")
    RUMOUR = "rumour", _("Rumour / fake")
    OTHER = "other", _("Other")


class Origin(models.TextChoices):
    ONLINE = "online", _("Started on a social platform")
    OFFLINE = "offline", _("Off-line event picked up online")


# The social networks, once: where a crisis is seen (Platform) and where a statement is
# published (statements' Channel) both start from this list.
SOCIAL_NETWORKS = [
    ("X", ("x", _("X / Twitter"))),
    ("FACEBOOK", ("facebook", _("Facebook"))),
    ("INSTAGRAM", ("instagram", _("Instagram"))),
    ("LINKEDIN", ("linkedin", _("LinkedIn"))),
    ("TIKTOK", ("tiktok", _("TikTok"))),
    ("YOUTUBE", ("youtube", _("YouTube"))),
]

# Where an incident shows: the social networks, the press, forums. Bluesky and Mastodon are
# listened to (incidents.listening), and statements are posted there through their API
# (incidents.publishing).
Platform = models.TextChoices(
    "Platform",
    [
        *SOCIAL_NETWORKS,
        ("BLUESKY", ("bluesky", _("Bluesky"))),
        ("MASTODON", ("mastodon", _("Mastodon"))),
        ("PRESS", ("press", _("Press"))),
        ("FORUM", ("forum", _("Forum"))),
        ("OTHER", ("other", _("Other"))),
    ],
)


class Severity(models.IntegerChoices):
    """Higher is worse: 1 (low) to 4 (critical). Some incident tools count the other way
    (SEV1 = worst); this product never does (docs/api.md)."""

    LOW = 1, _("Low — contained")
    MODERATE = 2, _("Moderate — spreading")
    HIGH = 3, _("High — viral")
    CRITICAL = 4, _("Critical — major threat")

    @property
    def css(self) -> str:
        return {1: "low", 2: "moderate", 3: "high", 4: "critical"}[self.value]


class Status(models.TextChoices):
    DETECTED = "detected", _("Detected")
    ACTIVE = "active", _("Active")
    MONITORING = "monitoring", _("Monitoring")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")


class Role(models.TextChoices):
    LEAD = "lead", _("Lead")
    DRAFTER = "drafter", _("Drafter (community manager)")
    # What an approver signs off for is their function (ApproverFunction), chosen beside the
    # role: "Approver (legal, communications)" read as signing for both.
    APPROVER = "approver", _("Approver")
    SPOKESPERSON = "spokesperson", _("Spokesperson")
    OBSERVER = "observer", _("Observer (read-only)")


class ApproverFunction(models.TextChoices):
    """What an approver signs off for; approval policies require functions, not people."""

    LEGAL = "legal", _("Legal")
    COMMUNICATIONS = "communications", _("Communications")
    EXECUTIVE = "executive", _("Executive management")
    OTHER = "other", _("Other")


class EntryKind(models.TextChoices):
    # Written by actions.
    DECLARED = "declared", _("Incident declared")
    UPDATED = "updated", _("Details edited")
    STATUS_CHANGED = "status_changed", _("Status changed")
    REOPENED = "reopened", _("Reopened")
    SEVERITY_CHANGED = "severity_changed", _("Severity changed")
    MEMBER_ADDED = "member_added", _("Member added")
    MEMBER_REMOVED = "member_removed", _("Member removed")
    ROLE_CHANGED = "role_changed", _("Role changed")
    LEAD_HANDED_OVER = "lead_handed_over", _("Lead handed over")
    # Typed by the committee.
    NOTE = "note", _("Note")
    KEY_EVENT = "key_event", _("Key event")
    AMPLIFICATION = "amplification", _("Amplification")
    PUBLIC_REACTION = "public_reaction", _("Public reaction")
    SUPPORTER = "supporter", _("Supporter / defender identified")
    PRESS_CONTACT = "press_contact", _("Press contact")
    DECISION = "decision", _("Decision")
    # Written by the statements workflow.
    STATEMENT_DRAFTED = "statement_drafted", _("Statement drafted")
    STATEMENT_REVISED = "statement_revised", _("Statement revised")
    STATEMENT_SUBMITTED = "statement_submitted", _("Statement submitted for approval")
    STATEMENT_APPROVED = "statement_approved", _("Statement approved")
    STATEMENT_CHANGES_REQUESTED = "statement_changes_requested", _("Changes requested")
    STATEMENT_PUBLISHED = "statement_published", _("Statement published")
    STATEMENT_WITHDRAWN = "statement_withdrawn", _("Statement withdrawn")
    STATEMENT_ESCALATED = "statement_escalated", _("Approval escalated")
    # Reply templates approved in advance (statements.preapproval), and the incident's
    # choice of letting replies made from them skip review.
    TEMPLATE_PREAPPROVED = "template_preapproved", _("Template approved in advance")
    TEMPLATE_PREAPPROVAL_WITHDRAWN = (
        "template_preapproval_withdrawn",
        _("Advance approval withdrawn"),
    )
    PREAPPROVED_REPLIES_SET = "preapproved_replies_set", _("Pre-approved replies switched")
    # Written by the evidence locker.
    EVIDENCE_ADDED = "evidence_added", _("Evidence preserved")
    EVIDENCE_CAPTURE_FAILED = "evidence_capture_failed", _("URL capture failed")
    EVIDENCE_EXPORTED = "evidence_exported", _("Evidence exported")
    # Written by playbooks and their tasks.
    PLAYBOOK_APPLIED = "playbook_applied", _("Playbook applied")
    TASK_ASSIGNED = "task_assigned", _("Task assigned")
    TASK_COMPLETED = "task_completed", _("Task completed")
    CONTACT_BRIEFED = "contact_briefed", _("Contact briefed")
    CONTACT_THANKED = "contact_thanked", _("Contact thanked")
    # Written by listening (mentions attached to the incident or detached from it).
    MENTIONS_ATTACHED = "mentions_attached", _("Mentions attached")
    MENTION_DETACHED = "mention_detached", _("Mention detached")
    # Written by the reply queue (incidents.replies): each person to answer, one by one.
    MENTION_TRIAGED = "mention_triaged", _("Mention triaged")
    MENTION_CLAIMED = "mention_claimed", _("Answering a mention")
    MENTION_RELEASED = "mention_released", _("Mention released")
    REPLY_DECIDED = "reply_decided", _("Reply decided")
    DEFENDER_THANKED = "defender_thanked", _("Defender thanked")
    # Written by the post-mortem (incidents.postmortems).
    POSTMORTEM_STARTED = "postmortem_started", _("Post-mortem started")
    POSTMORTEM_SUBMITTED = "postmortem_submitted", _("Post-mortem submitted for sign-off")
    POSTMORTEM_REVIEWED = "postmortem_reviewed", _("Post-mortem reviewed")
    POSTMORTEM_SIGNED_OFF = "postmortem_signed_off", _("Post-mortem signed off")
    ACTION_ITEM_ADDED = "action_item_added", _("Action item added")
    ACTION_ITEM_CLOSED = "action_item_closed", _("Action item closed")
    # Written by the public crisis center (incidents.crisiscenter): its page's state.
    CRISIS_PAGE_PREPARED = "crisis_page_prepared", _("Crisis page prepared")
    CRISIS_PAGE_LIVE = "crisis_page_live", _("Crisis page live")
    CRISIS_PAGE_RESOLVED = "crisis_page_resolved", _("Crisis page resolved")
    CRISIS_PAGE_NEXT_UPDATE = "crisis_page_next_update", _("Next public update promised")
    CRISIS_PAGE_FAQ_ORDERED = "crisis_page_faq_ordered", _("Crisis page FAQ reordered")
    CRISIS_PAGE_PROMISE_MISSED = "crisis_page_promise_missed", _("Promised public update missed")
    # The promotion freeze (no promotional posts while it holds): set by default at the
    # declaration of a high or critical incident, then by the lead; lifting it is the
    # return to normal posting.
    PROMOTION_FREEZE_SET = "promotion_freeze_set", _("Promotion freeze set")
    PROMOTION_FREEZE_LIFTED = "promotion_freeze_lifted", _("Promotion freeze lifted")


class AuthorType(models.TextChoices):
    """Who wrote a mention, as the cell sees it (docs/user-guide.md, "Reply queue"): the
    reply queue triages by it, playbooks hold handling advice per type."""

    UNHAPPY_CUSTOMER = "unhappy_customer", _("Unhappy customer")
    HATER_PERSISTENT = "hater_persistent", _("Hater — persistent")
    HATER_OCCASIONAL = "hater_occasional", _("Hater — occasional")
    TROLL = "troll", _("Troll")
    DEFENDER = "defender", _("Supporter / defender")
    PRESS = "press", _("Journalist / press")
    INFLUENCER = "influencer", _("Influencer")
    NEUTRAL = "neutral", _("Neutral")
