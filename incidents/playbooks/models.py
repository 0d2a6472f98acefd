"""Playbooks (prepared in the admin panel before any crisis) and what they become in an
incident: tasks with due times, statement templates, an approval policy, contacts.

Applying a playbook copies what the incident needs (steps become tasks, templates and
contacts are copied), so editing the playbook later never changes a running incident.
"""

# The tables keep the names they had when these models belonged to the incidents app
# (Meta.db_table): moving the models into their own app moved no data.

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from incidents.choices import AuthorType
from incidents.models import ApproverFunction, Incident, Platform, Role, Severity
from statements.models import Channel, Language, StatementKind

from .choices import CompletesOn, ContactKind, ReminderKind, TaskStatus

REVIEW_EVERY = timedelta(days=182)  # "not reviewed for 6 months" is flagged in the admin

TASK_ROLES = [(role, label) for role, label in Role.choices if role != Role.OBSERVER]


class Playbook(models.Model):
    name = models.CharField(_("name"), max_length=150, unique=True)
    description = models.TextField(_("description"), blank=True)
    categories = models.JSONField(
        _("incident categories"),
        default=list,
        blank=True,
        help_text=_("Empty: suits every category."),
    )
    min_severity = models.PositiveSmallIntegerField(
        _("from severity"), choices=Severity.choices, default=Severity.LOW
    )
    max_severity = models.PositiveSmallIntegerField(
        _("to severity"), choices=Severity.choices, default=Severity.CRITICAL
    )
    brand = models.CharField(
        _("brand"), max_length=120, blank=True, help_text=_("The {{ brand }} of the templates.")
    )
    version = models.PositiveIntegerField(_("version"), default=1)
    last_reviewed_on = models.DateField(_("last reviewed on"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        db_table = "incidents_playbook"
        ordering = ["name"]
        verbose_name = _("playbook")
        verbose_name_plural = _("playbooks")
        constraints = [
            models.CheckConstraint(
                condition=Q(min_severity__lte=models.F("max_severity")),
                name="playbook_severity_range",
            )
        ]

    def __str__(self):
        return self.name

    def needs_review(self, today=None) -> bool:
        today = today or timezone.localdate()
        return self.last_reviewed_on is None or today - self.last_reviewed_on > REVIEW_EVERY

    def suits(self, category: str, severity: int) -> bool:
        return (not self.categories or category in self.categories) and (
            self.min_severity <= severity <= self.max_severity
        )


class PlaybookStep(models.Model):
    playbook = models.ForeignKey(Playbook, on_delete=models.CASCADE, related_name="steps")
    order = models.PositiveIntegerField(_("order"), default=0)
    title = models.CharField(_("title"), max_length=200)
    guidance = models.TextField(_("guidance (Markdown)"), blank=True)
    role = models.CharField(_("role responsible"), max_length=16, choices=TASK_ROLES)
    due_minutes = models.PositiveIntegerField(
        _("due, minutes after declaration"), help_text=_("e.g. 15, 60, 180")
    )
    repeat_minutes = models.PositiveIntegerField(
        _("then repeat every (minutes)"),
        null=True,
        blank=True,
        help_text=_("For a cadence such as regular updates, while the incident is open."),
    )
    completes_on = models.CharField(
        _("completes itself when"),
        max_length=32,
        choices=CompletesOn.choices,
        blank=True,
        help_text=_("Leave empty for a task the cell ticks by hand."),
    )

    class Meta:
        db_table = "incidents_playbookstep"
        ordering = ["playbook", "order", "id"]
        verbose_name = _("checklist step")
        verbose_name_plural = _("checklist steps")

    def __str__(self):
        return self.title


def written_for_field():
    """A reply template's author type: the reply queue offers it first for that type."""
    return models.CharField(
        _("written for"),
        max_length=20,
        choices=AuthorType.choices,
        blank=True,
        help_text=_(
            "A reply template: the type of author it answers; the reply queue offers it "
            "first for that type. Blank: anyone."
        ),
    )


def require_reply_for_author_type(template) -> None:
    """Only a reply answers a type of author (model validation: admin and import alike;
    an unknown kind is refused by its own field, and says enough)."""
    if template.author_type and template.kind in set(StatementKind) - {StatementKind.REPLY}:
        raise ValidationError(
            {"author_type": _("Only a reply template is written for a type of author.")}
        )


class StatementTemplate(models.Model):
    playbook = models.ForeignKey(Playbook, on_delete=models.CASCADE, related_name="templates")
    order = models.PositiveIntegerField(_("order"), default=0)
    name = models.CharField(_("name"), max_length=150)
    kind = models.CharField(_("kind"), max_length=16, choices=StatementKind.choices)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    language = models.CharField(_("language"), max_length=2, choices=Language.choices)
    author_type = written_for_field()
    text = models.TextField(
        _("text"),
        help_text=_(
            "Placeholders: {{ incident.title }}, {{ brand }}, {{ next_update_at }}, "
            "{{ declared_at }}, {{ platforms }}; in a reply template also {{ author.handle }}, "
            "{{ author.name }} and {{ mention.url }}, filled from the post it answers."
        ),
    )

    class Meta:
        db_table = "incidents_statementtemplate"
        ordering = ["playbook", "order", "id"]
        verbose_name = _("statement template")
        verbose_name_plural = _("statement templates")

    def __str__(self):
        return f"{self.name} ({self.get_language_display()})"

    def clean(self):
        require_reply_for_author_type(self)


class PlaybookPolicy(models.Model):
    """Which approval policy statements of the incident follow, by severity."""

    playbook = models.ForeignKey(Playbook, on_delete=models.CASCADE, related_name="policies")
    severity = models.PositiveSmallIntegerField(_("severity"), choices=Severity.choices)
    policy = models.ForeignKey(
        "statements.ApprovalPolicy", on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        db_table = "incidents_playbookpolicy"
        ordering = ["playbook", "severity"]
        verbose_name = _("approval policy by severity")
        verbose_name_plural = _("approval policies by severity")
        constraints = [
            models.UniqueConstraint(
                fields=["playbook", "severity"], name="one_policy_per_playbook_severity"
            )
        ]

    def __str__(self):
        return f"{self.get_severity_display()}: {self.policy}"


class ContactFields(models.Model):
    kind = models.CharField(_("kind"), max_length=16, choices=ContactKind.choices)
    name = models.CharField(_("name"), max_length=150)
    role_title = models.CharField(_("role or organisation"), max_length=150, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    email = models.EmailField(_("email"), blank=True)
    # The committee roster: the role this person takes in the cell, the function they sign
    # off for as an approver, and who stands in for them (name in `backup`).
    role = models.CharField(_("role in the cell"), max_length=16, choices=Role.choices, blank=True)
    function = models.CharField(
        _("approver function"),
        max_length=16,
        choices=ApproverFunction.choices,
        blank=True,
        help_text=_("Only for an approver: what they sign off for."),
    )
    backup = models.CharField(_("backup"), max_length=150, blank=True)
    backup_email = models.EmailField(_("backup's email"), blank=True)
    handle = models.CharField(_("handle"), max_length=150, blank=True)
    platform = models.CharField(_("platform"), max_length=16, choices=Platform.choices, blank=True)
    audience = models.PositiveBigIntegerField(_("audience size"), null=True, blank=True)
    language = models.CharField(_("language"), max_length=2, choices=Language.choices, blank=True)
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        abstract = True

    def __str__(self):
        return self.name


COPIED_CONTACT_FIELDS = [
    "kind",
    "name",
    "role_title",
    "phone",
    "email",
    "role",
    "function",
    "backup",
    "backup_email",
    "handle",
    "platform",
    "audience",
    "language",
    "notes",
]


class Contact(ContactFields):
    playbook = models.ForeignKey(Playbook, on_delete=models.CASCADE, related_name="contacts")
    order = models.PositiveIntegerField(_("order"), default=0)

    class Meta:
        db_table = "incidents_contact"
        ordering = ["playbook", "kind", "order", "id"]
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")


MAX_ADVICE = 600  # characters of advice per type and language: a few plain sentences


class PlaybookAdvice(models.Model):
    """How to handle one author type of the reply queue, in this playbook's words (French
    and English). A blank language shows the default advice in that language."""

    playbook = models.ForeignKey(Playbook, on_delete=models.CASCADE, related_name="advice")
    author_type = models.CharField(_("author type"), max_length=20, choices=AuthorType.choices)
    text_en = models.CharField(
        _("advice in English"),
        max_length=MAX_ADVICE,
        blank=True,
        help_text=_("Blank: the default advice."),
    )
    text_fr = models.CharField(
        _("advice in French"),
        max_length=MAX_ADVICE,
        blank=True,
        help_text=_("Blank: the default advice."),
    )

    class Meta:
        db_table = "incidents_playbookadvice"
        ordering = ["playbook", "author_type"]
        verbose_name = _("handling advice")
        verbose_name_plural = _("handling advice")
        constraints = [
            models.UniqueConstraint(
                fields=["playbook", "author_type"], name="one_advice_per_playbook_type"
            )
        ]

    def __str__(self):
        return str(self.get_author_type_display())

    def texts(self) -> dict[str, str]:
        """The languages written: {"en": ..., "fr": ...}, blanks left out."""
        texts = {"en": self.text_en.strip(), "fr": self.text_fr.strip()}
        return {language: text for language, text in texts.items() if text}


# --- Incident side: copies made when the playbook is applied --------------------------------


class AppliedPlaybook(models.Model):
    """Which playbook (and version) an incident follows, with the values it was applied with."""

    incident = models.OneToOneField(
        Incident, on_delete=models.PROTECT, related_name="applied_playbook"
    )
    playbook = models.ForeignKey(
        Playbook, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    name = models.CharField(_("playbook"), max_length=150)
    version = models.PositiveIntegerField(_("version"))
    brand = models.CharField(_("brand"), max_length=120, blank=True)
    applied_at = models.DateTimeField(_("applied at"))
    applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    # The playbook's handling advice, copied: {author_type: {"en": text, "fr": text}}, only
    # what it wrote (PlaybookAdvice.texts()).
    advice = models.JSONField(_("handling advice"), default=dict, blank=True)

    class Meta:
        db_table = "incidents_appliedplaybook"
        verbose_name = _("applied playbook")
        verbose_name_plural = _("applied playbooks")

    def __str__(self):
        return f"{self.name} v{self.version}"


class IncidentTemplate(models.Model):
    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="templates")
    order = models.PositiveIntegerField(default=0)
    name = models.CharField(_("name"), max_length=150)
    kind = models.CharField(_("kind"), max_length=16, choices=StatementKind.choices)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    language = models.CharField(_("language"), max_length=2, choices=Language.choices)
    author_type = written_for_field()
    text = models.TextField(_("text"))

    class Meta:
        db_table = "incidents_incidenttemplate"
        ordering = ["incident", "order", "id"]
        verbose_name = _("incident statement template")
        verbose_name_plural = _("incident statement templates")

    def __str__(self):
        return f"{self.name} ({self.get_language_display()})"


class Task(models.Model):
    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="tasks")
    order = models.PositiveIntegerField(default=0)
    title = models.CharField(_("title"), max_length=200)
    guidance = models.TextField(_("guidance"), blank=True)
    role = models.CharField(_("role responsible"), max_length=16, choices=TASK_ROLES)
    due_at = models.DateTimeField(_("due at"))
    repeat_minutes = models.PositiveIntegerField(
        _("repeats every (minutes)"), null=True, blank=True
    )
    occurrence = models.PositiveIntegerField(_("occurrence"), default=1)
    completes_on = models.CharField(
        _("completes itself when"), max_length=32, choices=CompletesOn.choices, blank=True
    )
    status = models.CharField(
        _("status"), max_length=8, choices=TaskStatus.choices, default=TaskStatus.OPEN
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    note = models.TextField(_("completion note"), blank=True)

    class Meta:
        db_table = "incidents_task"
        ordering = ["incident", "due_at", "order", "id"]
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        indexes = [models.Index(fields=["status", "due_at"])]

    def __str__(self):
        return self.title

    def is_overdue(self, now=None) -> bool:
        return self.status == TaskStatus.OPEN and (now or timezone.now()) > self.due_at


class TaskReminder(models.Model):
    """One row per task and threshold: the unique constraint is what makes reminders
    idempotent (a second run, or a restarted worker, cannot send the same one twice)."""

    task = models.ForeignKey(Task, on_delete=models.PROTECT, related_name="reminders")
    kind = models.CharField(max_length=16, choices=ReminderKind.choices)
    sent_at = models.DateTimeField()

    class Meta:
        db_table = "incidents_taskreminder"
        constraints = [
            models.UniqueConstraint(fields=["task", "kind"], name="one_reminder_per_threshold")
        ]

    def __str__(self):
        return f"{self.task} — {self.get_kind_display()}"


class IncidentContact(ContactFields):
    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="contacts")
    order = models.PositiveIntegerField(default=0)
    briefed_at = models.DateTimeField(_("briefed at"), null=True, blank=True)
    thanked_at = models.DateTimeField(_("thanked at"), null=True, blank=True)

    class Meta:
        db_table = "incidents_incidentcontact"
        ordering = ["incident", "kind", "order", "id"]
        verbose_name = _("incident contact")
        verbose_name_plural = _("incident contacts")
