import hashlib

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from incidents.chains import canonical_hash
from incidents.models import (
    AppendOnlyModel,
    ApproverFunction,
    Incident,
    _utc_iso,
    append_only_triggers,
)

from .choices import Channel, Decision, Language, StatementKind, StatementStatus

# Statements that never reach the public do not count as the incident's first response.
INTERNAL_KINDS = (StatementKind.BRIEFING,)


# Characters per post. None: no platform limit.
CHANNEL_LIMITS: dict[str, int | None] = {
    Channel.X: 280,
    Channel.FACEBOOK: 63_206,
    Channel.INSTAGRAM: 2_200,
    Channel.LINKEDIN: 3_000,
    Channel.TIKTOK: 2_200,
    Channel.YOUTUBE: 10_000,
    # Mastodon's default (an instance may allow more); Bluesky counts 300 graphemes, which
    # a count of characters never understates.
    Channel.MASTODON: 500,
    Channel.BLUESKY: 300,
    Channel.PRESS_RELEASE: None,
    Channel.CRISIS_CENTER: None,
    Channel.EMAIL: None,
}
# Platforms where a long text can go out as a numbered thread of posts.
THREADABLE = (Channel.X,)
MAX_TEXT = 50_000
# An approval deadline beyond a week is a typo (the field holds minutes).
MAX_DEADLINE_MINUTES = 7 * 24 * 60


EDITABLE_STATUSES = (
    StatementStatus.DRAFT,
    StatementStatus.IN_REVIEW,
    StatementStatus.CHANGES_REQUESTED,
    StatementStatus.APPROVED,
)
FINAL_STATUSES = (StatementStatus.PUBLISHED, StatementStatus.WITHDRAWN)


# The stock policies (migration 0002) keep these English names as identifiers: playbooks and
# their portable files name them. Pages show them in the reader's language; a policy an
# admin created or renamed is shown as named.
ONE_APPROVER = "One approver"
LEGAL_THEN_COMMUNICATIONS = "Legal, then communications"
COMMUNICATIONS_ONLY = "Communications only"
STOCK_POLICY_LABELS = {
    ONE_APPROVER: _("One approver"),
    LEGAL_THEN_COMMUNICATIONS: _("Legal, then communications"),
    COMMUNICATIONS_ONLY: _("Communications only"),
}


def policy_label(name: str) -> str:
    """A policy's name as pages show it (a stock policy's translated)."""
    return str(STOCK_POLICY_LABELS.get(name, name))


class ApprovalPolicy(models.Model):
    """Who must sign a statement off before it goes public. Edited in the admin panel."""

    class Mode(models.TextChoices):
        ALL = "all", _("Every requirement must be met")
        ANY = "any", _("Any one requirement is enough")

    name = models.CharField(_("name"), max_length=120, unique=True)
    description = models.TextField(_("description"), blank=True)
    mode = models.CharField(_("mode"), max_length=8, choices=Mode.choices, default=Mode.ALL)
    allow_lead_publish = models.BooleanField(
        _("the lead may publish"),
        default=False,
        help_text=_("Otherwise only the spokesperson marks statements as published."),
    )
    is_default = models.BooleanField(
        _("default policy"), default=False, help_text=_("Used when nothing else applies.")
    )

    class Meta:
        verbose_name = _("approval policy")
        verbose_name_plural = _("approval policies")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=Q(is_default=True), name="one_default_policy"
            )
        ]

    def __str__(self):
        return policy_label(self.name)


class ApprovalRequirement(models.Model):
    """One sign-off a policy needs: an approver with `function` (blank: any approver).
    With ordered steps, step 2 approvers can only sign once every step-1 requirement is met
    (in "all" mode)."""

    policy = models.ForeignKey(
        ApprovalPolicy, on_delete=models.CASCADE, related_name="requirements"
    )
    step = models.PositiveSmallIntegerField(_("step"), default=1)
    function = models.CharField(
        _("approver function"),
        max_length=16,
        choices=ApproverFunction.choices,
        blank=True,
        help_text=_("Leave empty for any approver."),
    )
    deadline_minutes = models.PositiveSmallIntegerField(
        _("deadline (minutes)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_DEADLINE_MINUTES)],
        help_text=_(
            "How long this step may wait for its approval, counted from submission (or from "
            "the end of the previous step). When it passes, the playbook roster's backups "
            "for the function and the lead are alerted. Empty: no deadline."
        ),
    )

    class Meta:
        verbose_name = _("required approval")
        verbose_name_plural = _("required approvals")
        ordering = ["step", "id"]

    def __str__(self):
        who = self.get_function_display() if self.function else _("any approver")
        return f"{self.step}. {who}"

    def accepts(self, function: str) -> bool:
        return not self.function or self.function == function


class IncidentPolicy(models.Model):
    """The approval policy this incident's new statements follow, chosen when a playbook is
    applied (its policy for the incident's severity). Without one, the default policy."""

    incident = models.OneToOneField(
        Incident, on_delete=models.PROTECT, related_name="statement_policy"
    )
    policy = models.ForeignKey(ApprovalPolicy, on_delete=models.PROTECT, related_name="+")
    set_at = models.DateTimeField(_("set at"))
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # On by default: nothing skips review until the approvers the policy names have signed a
    # reply template's exact text in advance; the lead may switch it off for the incident
    # (docs/user-guide.md, "Pre-approved replies").
    preapproved_replies = models.BooleanField(
        _("pre-approved replies skip review"),
        default=True,
        help_text=_(
            "A reply made from a reply template approved in advance, whose only changes are "
            "its placeholders, is approved when it is submitted."
        ),
    )

    class Meta:
        verbose_name = _("approval policy of an incident")
        verbose_name_plural = _("approval policies of incidents")

    def __str__(self):
        return f"{self.incident_id}: {self.policy}"


class Statement(models.Model):
    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="statements")
    kind = models.CharField(_("kind"), max_length=16, choices=StatementKind.choices)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    language = models.CharField(_("language"), max_length=8, choices=Language.choices)
    title = models.CharField(
        _("internal title"), max_length=200, blank=True, help_text=_("For the committee only.")
    )
    reply_to_account = models.CharField(_("replying to (account)"), max_length=200, blank=True)
    reply_to_url = models.URLField(_("replying to (post URL)"), max_length=500, blank=True)
    corrects = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="corrections",
        verbose_name=_("corrects"),
    )
    policy = models.ForeignKey(ApprovalPolicy, on_delete=models.PROTECT, related_name="+")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(
        _("status"), max_length=20, choices=StatementStatus.choices, default=StatementStatus.DRAFT
    )
    revision = models.PositiveIntegerField(_("current revision"), default=1)
    # The current revision's text and author, kept here for lists and the four-eyes check.
    text = models.TextField(_("text"))
    revised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"))
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    published_url = models.URLField(_("published at URL"), max_length=500, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)
    # Made from one of the incident's templates (statements.drafting names them by id): the
    # template's text and the first revision's text as rendered, by their SHA-256, so a
    # reply still word for word what the template gave can be approved in advance
    # (statements.preapproval). Empty for a statement written freely.
    template_id = models.PositiveBigIntegerField(_("made from template"), null=True, blank=True)
    template_fingerprint = models.CharField(
        _("SHA-256 of the template's text"), max_length=64, blank=True
    )
    rendered_hash = models.CharField(_("SHA-256 of the rendered text"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("statement")
        verbose_name_plural = _("statements")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["incident", "status"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in StatementStatus]),
                name="statement_status_valid",
            ),
            models.CheckConstraint(
                condition=~Q(status="published") | Q(published_at__isnull=False),
                name="published_statement_has_time",
            ),
        ]

    def __str__(self):
        return self.title or f"{self.get_kind_display()} ({self.get_channel_display()})"

    @property
    def limit(self) -> int | None:
        return CHANNEL_LIMITS[self.channel]

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATUSES

    @property
    def is_public(self) -> bool:
        return self.kind not in INTERNAL_KINDS


class TemplatePreapproval(models.Model):
    """One approver's sign-off, given in advance, on the exact text of one of the incident's
    reply templates (by its SHA-256, `fingerprint`; `text` keeps what they read). A template
    is approved in advance when the signatures on its current text meet the incident's
    approval policy (statements.preapproval); a change of the template's text leaves them on
    the old fingerprint, where they no longer count. Withdrawn, never deleted; the timeline
    records each signature and each withdrawal."""

    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="+")
    # The template as statements.drafting names it (the playbooks app owns the row).
    template_id = models.PositiveBigIntegerField(_("template"))
    template_name = models.CharField(_("template name"), max_length=150)
    fingerprint = models.CharField(_("SHA-256 of the text approved"), max_length=64)
    text = models.TextField(_("text approved"))
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    function = models.CharField(
        _("approver function"), max_length=16, choices=ApproverFunction.choices, blank=True
    )
    approved_at = models.DateTimeField(_("approved at"))
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("template approved in advance")
        verbose_name_plural = _("templates approved in advance")
        ordering = ["incident", "template_id", "approved_at", "id"]
        indexes = [models.Index(fields=["incident", "template_id"], name="preapproval_lookup")]
        constraints = [
            # One standing signature per person on a given text: a double click signs once.
            models.UniqueConstraint(
                fields=["incident", "template_id", "fingerprint", "approver"],
                condition=Q(withdrawn_at__isnull=True),
                name="one_standing_preapproval",
            )
        ]

    def __str__(self):
        return f"{self.template_name}: {self.approver}"

    # Read by policy.progress like a review's approval.
    @property
    def created_at(self):
        return self.approved_at


class Escalation(models.Model):
    """A policy step whose deadline passed: its roster backups and the lead were alerted,
    once per statement, revision and step (the unique constraint makes a second sweep a
    no-op). Working state beside the timeline, which records the same escalation."""

    statement = models.ForeignKey(Statement, on_delete=models.PROTECT, related_name="escalations")
    revision = models.PositiveIntegerField(_("revision"))
    step = models.PositiveSmallIntegerField(_("step"))
    functions = models.JSONField(
        _("awaited functions"), default=list, help_text=_('"" stands for any approver.')
    )
    deadline_at = models.DateTimeField(_("deadline"))
    escalated_at = models.DateTimeField(_("escalated at"))
    alerted = models.JSONField(
        _("alerted"), default=list, help_text=_("The backups alerted: name, e-mail, user id.")
    )

    class Meta:
        verbose_name = _("approval escalation")
        verbose_name_plural = _("approval escalations")
        ordering = ["statement", "escalated_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["statement", "revision", "step"], name="one_escalation_per_step"
            )
        ]

    def __str__(self):
        return f"{self.statement_id} r{self.revision} step {self.step}"


class Revision(AppendOnlyModel):
    """What was said, by whom, when. Never rewritten: a change is a new revision."""

    statement = models.ForeignKey(Statement, on_delete=models.PROTECT, related_name="revisions")
    number = models.PositiveIntegerField(_("number"))
    text = models.TextField(_("text"))
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created at"))
    content_hash = models.CharField(_("SHA-256 of the text"), max_length=64)

    class Meta:
        verbose_name = _("revision")
        verbose_name_plural = _("revisions")
        ordering = ["statement", "number"]
        constraints = [
            models.UniqueConstraint(fields=["statement", "number"], name="revision_number_unique")
        ]
        triggers = append_only_triggers("revision")

    def __str__(self):
        return f"r{self.number}"

    def digest(self) -> str:
        return revision_digest(self)


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class Review(AppendOnlyModel):
    """An approver's decision on one exact revision. A later revision needs new ones."""

    statement = models.ForeignKey(Statement, on_delete=models.PROTECT, related_name="reviews")
    revision = models.PositiveIntegerField(_("revision"))
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    function = models.CharField(
        _("approver function"), max_length=16, choices=ApproverFunction.choices, blank=True
    )
    decision = models.CharField(_("decision"), max_length=20, choices=Decision.choices)
    comment = models.TextField(_("comment"), blank=True)
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("review")
        verbose_name_plural = _("reviews")
        ordering = ["statement", "created_at", "id"]
        constraints = [
            # One approval per person per revision: a double click cannot count twice.
            models.UniqueConstraint(
                fields=["statement", "revision", "reviewer"],
                condition=Q(decision="approved"),
                name="one_approval_per_reviewer_and_revision",
            )
        ]
        triggers = append_only_triggers("review")

    def __str__(self):
        return f"{self.get_decision_display()} r{self.revision} by {self.reviewer}"

    def digest(self) -> str:
        return review_digest(self)


# Each row's digest, folded into its statement's signed checkpoint (incidents/chains.py).
# Plain functions of the stored fields: the data migration that anchored the existing
# statements uses them on its historical models.


def revision_digest(revision) -> str:
    return canonical_hash(
        {
            "statement": revision.statement_id,
            "number": revision.number,
            "text": revision.text,
            "author": revision.author_id,
            "created_at": _utc_iso(revision.created_at),
            "content_hash": revision.content_hash,
        }
    )


def review_digest(review) -> str:
    return canonical_hash(
        {
            "statement": review.statement_id,
            "revision": review.revision,
            "reviewer": review.reviewer_id,
            "function": review.function,
            "decision": review.decision,
            "comment": review.comment,
            "created_at": _utc_iso(review.created_at),
        }
    )
