"""The triage of a mention attached to an incident: who wrote it, whether it needs an
answer, what was decided, and who is working on it.

One row per (incident, mention), created by the first action on it (replies/actions.py);
a mention without a row is "not triaged yet". The mention itself (listening) is never
changed, and nothing here deletes or hides anyone's post: no such action exists.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from incidents.evidence.models import CaptureJob
from incidents.listening.models import Mention
from incidents.models import Incident
from statements.models import Statement

from .choices import AuthorType, CaptureTarget, NeedsAnswer, Outcome

NOTE_MAX = 500
REASON_MAX = 500


class Triage(models.Model):
    incident = models.ForeignKey(
        Incident, on_delete=models.PROTECT, related_name="+", verbose_name=_("incident")
    )
    mention = models.ForeignKey(
        Mention, on_delete=models.PROTECT, related_name="triages", verbose_name=_("mention")
    )
    # "" until a person sets it (the suggestion is computed, never stored as a decision).
    author_type = models.CharField(
        _("author type"), max_length=20, choices=AuthorType.choices, blank=True
    )
    needs_answer = models.CharField(
        _("needs an answer"),
        max_length=10,
        choices=NeedsAnswer.choices,
        default=NeedsAnswer.UNDECIDED,
    )
    note = models.CharField(_("note"), max_length=NOTE_MAX, blank=True)
    triaged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    triaged_at = models.DateTimeField(_("triaged at"), null=True)
    outcome = models.CharField(
        _("outcome"), max_length=20, choices=Outcome.choices, default=Outcome.OPEN
    )
    outcome_reason = models.CharField(_("reason"), max_length=REASON_MAX, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided at"), null=True)
    # Who is answering this person now (one at a time; replies/rules.py says when a claim
    # may be taken over).
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    claimed_at = models.DateTimeField(_("claimed at"), null=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["incident", "mention"], name="triage_once_per_incident")
        ]
        indexes = [
            models.Index(fields=["incident", "needs_answer", "outcome"], name="triage_queue"),
        ]
        verbose_name = _("triage")
        verbose_name_plural = _("triages")

    def __str__(self):
        return f"{self.incident_id}/{self.mention_id}: {self.author_type or '-'} {self.outcome}"


class Reply(models.Model):
    """An individual reply: a statement of kind "individual reply" (statements' workflow:
    revisions, approvals, four-eyes, the spokesperson publishes) bound to the mention it
    answers, through its triage. Written by `actions.reply_write`, never edited.

    One live reply per mention at a time (the action checks it under the incident lock):
    a withdrawn statement frees the mention for another; a published one answers it
    (`actions.reply_published`, followed from the timeline, sets the triage's outcome)."""

    triage = models.ForeignKey(
        Triage, on_delete=models.PROTECT, related_name="replies", verbose_name=_("triage")
    )
    statement = models.OneToOneField(
        Statement, on_delete=models.PROTECT, related_name="+", verbose_name=_("statement")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("reply")
        verbose_name_plural = _("replies")
        ordering = ["triage", "-created_at", "-id"]

    def __str__(self):
        return f"{self.triage_id} -> {self.statement_id}"


class MentionCapture(models.Model):
    """A URL capture of the evidence locker asked for from a mention: its post or its
    author's profile page (the author may delete them later). The evidence items are the
    capture job's (`job.items`: a screenshot and the page archive, hashed and append-only
    as any capture); this row only says which mention and which page they document.
    Written by `actions.mention_capture`, never changed afterwards."""

    incident = models.ForeignKey(
        Incident, on_delete=models.PROTECT, related_name="+", verbose_name=_("incident")
    )
    mention = models.ForeignKey(
        Mention, on_delete=models.PROTECT, related_name="captures", verbose_name=_("mention")
    )
    target = models.CharField(_("page"), max_length=10, choices=CaptureTarget.choices)
    job = models.OneToOneField(CaptureJob, on_delete=models.PROTECT, related_name="mention_capture")

    class Meta:
        indexes = [models.Index(fields=["incident", "mention"], name="mention_capture_lookup")]
        verbose_name = _("mention capture")
        verbose_name_plural = _("mention captures")

    def __str__(self):
        return f"{self.incident_id}/{self.mention_id}: {self.target} (capture {self.job_id})"
