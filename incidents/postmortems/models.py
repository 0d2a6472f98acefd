"""The post-mortem of an incident (one per incident), its action items, the approvals of
its sign-off and its frozen versions.

The written parts and the action items are working state, edited through actions.py with
optimistic concurrency (`text_version`, an item's `version`): a save based on an older
version is refused, never silently applied over someone else's. `revision` counts every
change of content; an approval is of one revision, so any change voids the approvals given
(as a statement's new revision does). Once the policy is met, the post-mortem is signed off
and its whole content is frozen as a `PostmortemVersion`, append-only (a trigger refuses
UPDATE/DELETE/TRUNCATE on PostgreSQL); later edits make a draft again and, signed off once
more, a new version.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from incidents.models import AppendOnlyModel, ApproverFunction, Incident, append_only_triggers
from statements.models import ApprovalPolicy, Statement

from .choices import Decision, ItemStatus, PostmortemStatus

PART_MAX = 5000
TITLE_MAX = 300
REASON_MAX = 500
COMMENT_MAX = 1000
# Action items of one post-mortem (the page, the API and the exports show them all).
MAX_ITEMS = 50


class Postmortem(models.Model):
    incident = models.OneToOneField(
        Incident, on_delete=models.PROTECT, related_name="postmortem", verbose_name=_("incident")
    )
    status = models.CharField(
        _("status"), max_length=16, choices=PostmortemStatus.choices, default=PostmortemStatus.DRAFT
    )
    summary = models.TextField(_("summary"), max_length=PART_MAX, blank=True)
    went_well = models.TextField(_("what went well"), max_length=PART_MAX, blank=True)
    went_wrong = models.TextField(_("what went wrong"), max_length=PART_MAX, blank=True)
    lucky = models.TextField(_("where we got lucky"), max_length=PART_MAX, blank=True)
    factors = models.TextField(_("contributing factors"), max_length=PART_MAX, blank=True)
    # The base of the written parts' optimistic concurrency: +1 on each save of them.
    text_version = models.PositiveIntegerField(_("text version"), default=1)
    # +1 on every change of content (written parts, action items): approvals are of one.
    revision = models.PositiveIntegerField(_("revision"), default=1)
    policy = models.ForeignKey(
        ApprovalPolicy, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"))
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(_("updated at"))
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    signed_off_at = models.DateTimeField(_("signed off at"), null=True, blank=True)

    class Meta:
        verbose_name = _("post-mortem")
        verbose_name_plural = _("post-mortems")

    def __str__(self):
        return f"Post-mortem: {self.incident}"


class ActionItem(models.Model):
    """A lesson turned into work: an owner from the cell, a due date, closed explicitly as
    done or dropped with a reason."""

    postmortem = models.ForeignKey(Postmortem, on_delete=models.PROTECT, related_name="items")
    title = models.CharField(_("action"), max_length=TITLE_MAX)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("owner"),
    )
    due_date = models.DateField(_("due date"))
    status = models.CharField(
        _("status"), max_length=8, choices=ItemStatus.choices, default=ItemStatus.OPEN
    )
    reason = models.CharField(_("reason"), max_length=REASON_MAX, blank=True)
    version = models.PositiveIntegerField(_("version"), default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"))
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        ordering = ["due_date", "id"]
        verbose_name = _("action item")
        verbose_name_plural = _("action items")
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in ItemStatus]), name="action_item_status"
            ),
            models.CheckConstraint(
                condition=~Q(status=ItemStatus.DROPPED) | ~Q(reason=""),
                name="action_item_dropped_has_reason",
            ),
        ]

    def __str__(self):
        return self.title


class PostmortemApproval(AppendOnlyModel):
    """An approver's decision on one revision of the post-mortem (the statements' review,
    for a post-mortem): evaluated against the policy by statements.policy.progress."""

    postmortem = models.ForeignKey(Postmortem, on_delete=models.PROTECT, related_name="approvals")
    revision = models.PositiveIntegerField(_("revision"))
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    function = models.CharField(
        _("approver function"), max_length=16, choices=ApproverFunction.choices, blank=True
    )
    decision = models.CharField(_("decision"), max_length=20, choices=Decision.choices)
    comment = models.TextField(_("comment"), max_length=COMMENT_MAX, blank=True)
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        ordering = ["postmortem", "created_at", "id"]
        verbose_name = _("post-mortem approval")
        verbose_name_plural = _("post-mortem approvals")
        constraints = [
            models.UniqueConstraint(
                fields=["postmortem", "revision", "reviewer"],
                condition=Q(decision="approved"),
                name="one_postmortem_approval_per_reviewer_and_revision",
            )
        ]
        triggers = append_only_triggers("postmortem_approval")


class PostmortemVersion(AppendOnlyModel):
    """What was signed off, whole: the written parts, the action items, the approvals, the
    computed figures and the timeline's head at that moment. Never changed."""

    postmortem = models.ForeignKey(Postmortem, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField(_("number"))
    revision = models.PositiveIntegerField(_("revision"))
    content = models.JSONField(_("content"))
    content_hash = models.CharField(_("SHA-256 of the content"), max_length=64)
    signed_off_at = models.DateTimeField(_("signed off at"))

    class Meta:
        ordering = ["postmortem", "number"]
        verbose_name = _("post-mortem version")
        verbose_name_plural = _("post-mortem versions")
        constraints = [
            models.UniqueConstraint(
                fields=["postmortem", "number"], name="postmortem_version_number_unique"
            )
        ]
        triggers = append_only_triggers("postmortem_version")

    def __str__(self):
        return f"v{self.number}"


class LessonsStatement(models.Model):
    """A public "what we learned" statement started from the post-mortem (the link back):
    a draft of the crisis center channel, pre-filled from the signed-off `version`, which
    then lives as any statement (statements' workflow, the crisis page's updates)."""

    postmortem = models.ForeignKey(
        Postmortem, on_delete=models.PROTECT, related_name="lessons_statements"
    )
    statement = models.OneToOneField(
        Statement, on_delete=models.PROTECT, related_name="+", verbose_name=_("statement")
    )
    version = models.PositiveIntegerField(_("from the signed-off version"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        ordering = ["postmortem", "id"]
        verbose_name = _('"what we learned" statement')
        verbose_name_plural = _('"what we learned" statements')

    def __str__(self):
        return f"{self.postmortem} -> {self.statement_id}"
