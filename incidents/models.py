import hashlib
import json
from datetime import UTC, timedelta

import pgtrigger
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .chains import GENESIS_HASH
from .choices import ApproverFunction, Category, EntryKind, Origin, Platform, Role, Severity, Status

# Allowed lifecycle moves. Going back to ACTIVE from RESOLVED or CLOSED is a reopening.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    Status.DETECTED: (Status.ACTIVE, Status.CLOSED),
    Status.ACTIVE: (Status.MONITORING, Status.RESOLVED),
    Status.MONITORING: (Status.ACTIVE, Status.RESOLVED),
    Status.RESOLVED: (Status.ACTIVE, Status.CLOSED),
    Status.CLOSED: (Status.ACTIVE,),
}
REOPENING_FROM = (Status.RESOLVED, Status.CLOSED)
OPEN_STATUSES = (Status.DETECTED, Status.ACTIVE, Status.MONITORING, Status.RESOLVED)


class Incident(models.Model):
    title = models.CharField(_("title"), max_length=200)
    summary = models.TextField(_("summary"), blank=True)
    category = models.CharField(_("category"), max_length=32, choices=Category.choices)
    origin = models.CharField(_("origin"), max_length=16, choices=Origin.choices)
    platforms = models.JSONField(_("platforms concerned"), default=list, blank=True)
    severity = models.PositiveSmallIntegerField(
        _("severity"), choices=Severity.choices, default=Severity.MODERATE
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.DETECTED
    )
    detected_at = models.DateTimeField(_("detected at"))
    declared_at = models.DateTimeField(_("declared at"))
    # Latest time the incident entered each status (the timeline keeps every transition).
    active_at = models.DateTimeField(_("active since"), null=True, blank=True)
    monitoring_at = models.DateTimeField(_("monitoring since"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    first_response_due_at = models.DateTimeField(_("first response due"))
    first_response_at = models.DateTimeField(_("first response at"), null=True, blank=True)
    declared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-declared_at"]
        verbose_name = _("incident")
        verbose_name_plural = _("incidents")
        constraints = [
            models.CheckConstraint(
                condition=Q(severity__gte=1, severity__lte=4), name="incident_severity_range"
            ),
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in Status]), name="incident_status_valid"
            ),
        ]
        indexes = [models.Index(fields=["status", "-declared_at"])]

    def __str__(self):
        return self.title

    @property
    def severity_css(self) -> str:
        return Severity(self.severity).css

    @property
    def platform_labels(self) -> list[str]:
        return [Platform(p).label for p in self.platforms if p in Platform.values]

    @property
    def is_open(self) -> bool:
        return self.status != Status.CLOSED

    @property
    def allowed_transitions(self) -> tuple[str, ...]:
        return TRANSITIONS[self.status]

    # The promotion freeze holding now (PromotionFreeze below): read from the selectors'
    # annotations (`freeze_since`, `freeze_by_*`: no query) when the incident came from
    # them, else once from its table (then kept on the instance; the actions set it).
    @property
    def holding_freeze(self) -> "PromotionFreeze | None":
        if "freeze_since" in self.__dict__:
            if self.freeze_since is None:
                return None
            by = get_user_model()(
                pk=self.freeze_by_id,
                username=self.freeze_by_username,
                first_name=self.freeze_by_first_name,
                last_name=self.freeze_by_last_name,
            )
            return PromotionFreeze(incident_id=self.pk, set_at=self.freeze_since, set_by=by)
        if "_holding_freeze" not in self.__dict__:
            self._holding_freeze = (
                PromotionFreeze.objects.filter(incident_id=self.pk, lifted_at__isnull=True)
                .select_related("set_by")
                .first()
            )
        return self._holding_freeze

    def refresh_from_db(self, *args, **kwargs):
        self.__dict__.pop("_holding_freeze", None)  # read again when asked
        self.__dict__.pop("freeze_since", None)
        super().refresh_from_db(*args, **kwargs)

    def freeze_holding(self, freeze: "PromotionFreeze | None") -> None:
        """Record on this instance the freeze that holds now (the actions, after writing)."""
        self.__dict__.pop("freeze_since", None)
        self._holding_freeze = freeze

    @property
    def promotion_frozen_at(self):
        freeze = self.holding_freeze
        return freeze.set_at if freeze else None

    @property
    def promotion_frozen_by(self):
        freeze = self.holding_freeze
        return freeze.set_by if freeze else None

    @property
    def promotion_frozen(self) -> bool:
        return self.holding_freeze is not None

    @property
    def first_response_minutes(self) -> int | None:
        if self.first_response_at is None:
            return None
        return int((self.first_response_at - self.declared_at).total_seconds() // 60)

    @property
    def first_response_met(self) -> bool | None:
        if self.first_response_at is None:
            return None
        return self.first_response_at <= self.first_response_due_at

    def first_response_overdue(self, now=None) -> bool:
        now = now or timezone.now()
        return self.first_response_at is None and now > self.first_response_due_at


class PromotionFreeze(models.Model):
    """One period of an incident's promotion freeze: no promotional post for the brand from
    `set_at` until `lifted_at` (normal posting resumed). At most one holds per incident.
    Set by default at the declaration of a high or critical incident (rules.
    freeze_by_default), then by the lead; each change is also a timeline entry."""

    incident = models.ForeignKey(
        Incident, on_delete=models.PROTECT, related_name="promotion_freezes"
    )
    set_at = models.DateTimeField(_("set at"))
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    lifted_at = models.DateTimeField(_("lifted at"), null=True, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )

    class Meta:
        ordering = ["incident", "set_at", "id"]
        verbose_name = _("promotion freeze")
        verbose_name_plural = _("promotion freezes")
        constraints = [
            models.UniqueConstraint(
                fields=["incident"],
                condition=Q(lifted_at__isnull=True),
                name="one_promotion_freeze_holding_per_incident",
            ),
        ]

    def __str__(self):
        return f"{self.incident} — {self.set_at:%Y-%m-%d %H:%M}"


def first_response_due(declared_at, severity: int):
    return declared_at + timedelta(minutes=settings.FIRST_RESPONSE_MINUTES[int(severity)])


def role_label(role: str, function: str = "") -> str:
    """A cell role as people read it wherever it is shown (the cell, the header's "My
    role", the incidents list, the roster, the API's `role_label`): "Approver — Legal" for
    an approver with a function, else the role's label. A value that is not a role shows as
    is."""
    if role == Role.APPROVER and function in ApproverFunction.values:
        return f"{Role.APPROVER.label} — {ApproverFunction(function).label}"
    return str(Role(role).label) if role in Role.values else (role or "")


NON_LEAD_ROLE_CHOICES = [choice for choice in Role.choices if choice[0] != Role.LEAD]


class MembershipQuerySet(models.QuerySet):
    def active(self):
        return self.filter(left_at__isnull=True)


class Membership(models.Model):
    """One user's role on one incident for a period. Role changes close the row and open a
    new one, so the history of who did what, and when, survives."""

    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="memberships"
    )
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)
    function = models.CharField(
        _("approver function"), max_length=16, choices=ApproverFunction.choices, blank=True
    )
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    added_at = models.DateTimeField(_("added at"))
    left_at = models.DateTimeField(_("left at"), null=True, blank=True)
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )

    objects = MembershipQuerySet.as_manager()

    class Meta:
        ordering = ["added_at", "id"]
        verbose_name = _("cell membership")
        verbose_name_plural = _("cell memberships")
        constraints = [
            models.UniqueConstraint(
                fields=["incident", "user"],
                condition=Q(left_at__isnull=True),
                name="one_active_membership_per_user",
            ),
            models.UniqueConstraint(
                fields=["incident"],
                condition=Q(left_at__isnull=True, role="lead"),
                name="one_active_lead_per_incident",
            ),
        ]

    def __str__(self):
        return f"{self.user} — {self.get_role_display()} ({self.incident})"

    @property
    def is_active(self) -> bool:
        return self.left_at is None

    @property
    def role_display(self) -> str:
        return role_label(self.role, self.function)


MANUAL_KINDS = (
    EntryKind.NOTE,
    EntryKind.KEY_EVENT,
    EntryKind.AMPLIFICATION,
    EntryKind.PUBLIC_REACTION,
    EntryKind.SUPPORTER,
    EntryKind.PRESS_CONTACT,
    EntryKind.DECISION,
)
MANUAL_KIND_CHOICES = [(kind.value, kind.label) for kind in MANUAL_KINDS]


class AppendOnlyError(Exception):
    """Raised on any attempt to change or delete a row kept as a record (and maybe proof)."""


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError(f"{self.model._meta.verbose_name_plural} are append-only.")

    def delete(self):
        raise AppendOnlyError(f"{self.model._meta.verbose_name_plural} are never deleted.")


class AppendOnlyModel(models.Model):
    """Rows are written once. The model refuses updates and deletes on every database;
    on PostgreSQL a trigger (declared by each subclass) refuses them in SQL too."""

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError(f"A {self._meta.verbose_name} is never rewritten.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError(f"A {self._meta.verbose_name} is never deleted.")


def next_link(chain: models.QuerySet) -> tuple[int, str]:
    """The next (seq, prev_hash) of a hash chain: one after its last link, or the genesis.
    Only meaningful while the caller holds the lock that serializes the chain's writers."""
    last = chain.order_by("-seq").values_list("seq", "hash").first()
    return (last[0] + 1, last[1]) if last else (1, GENESIS_HASH)


def append_only_trigger(name: str):
    return pgtrigger.Protect(name=name, operation=pgtrigger.Update | pgtrigger.Delete)


class NoTruncate(pgtrigger.Trigger):
    """TRUNCATE fires no row trigger: without this statement-level one, it would empty a
    table of records unnoticed (pgtrigger's Protect has no statement-level TRUNCATE)."""

    when = pgtrigger.Before
    operation = pgtrigger.Truncate
    level = pgtrigger.Statement
    func = "RAISE EXCEPTION 'pgtrigger: Cannot truncate % table', TG_TABLE_NAME;"


def no_truncate_trigger(name: str):
    return NoTruncate(name=name)


def append_only_triggers(prefix: str) -> list:
    return [
        append_only_trigger(f"{prefix}_append_only"),
        no_truncate_trigger(f"{prefix}_no_truncate"),
    ]


class TimelineEntry(AppendOnlyModel):
    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="timeline")
    seq = models.PositiveIntegerField(_("sequence number"))
    kind = models.CharField(_("kind"), max_length=32, choices=EntryKind.choices)
    text = models.TextField(_("text"), blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    occurred_at = models.DateTimeField(_("occurred at"))
    recorded_at = models.DateTimeField(_("recorded at"))
    key_event = models.BooleanField(_("key event"), default=False)
    data = models.JSONField(_("data"), default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["incident", "seq"]
        verbose_name = _("timeline entry")
        verbose_name_plural = _("timeline entries")
        constraints = [
            models.UniqueConstraint(fields=["incident", "seq"], name="timeline_seq_unique"),
        ]
        indexes = [models.Index(fields=["incident", "-seq"])]
        triggers = append_only_triggers("timeline")

    def __str__(self):
        return f"#{self.seq} {self.get_kind_display()}"

    @property
    def is_manual(self) -> bool:
        return self.kind in MANUAL_KINDS

    def compute_hash(self) -> str:
        """SHA-256 over every stored field and the previous entry's hash (the chain link)."""
        content = {
            "incident": self.incident_id,
            "seq": self.seq,
            "kind": self.kind,
            "text": self.text,
            "actor": self.actor_id,
            "occurred_at": _utc_iso(self.occurred_at),
            "recorded_at": _utc_iso(self.recorded_at),
            "key_event": self.key_event,
            "data": self.data,
            "prev_hash": self.prev_hash,
        }
        canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()


def _utc_iso(value) -> str:
    return value.astimezone(UTC).isoformat(timespec="microseconds")


class ChainCheckpoint(models.Model):
    """The signed head of one chain of records (incidents/chains.py): how many rows it has
    and the hash it ends with, signed with the evidence key. Rewritten on every append, in
    the same transaction; never deleted."""

    chain = models.CharField(max_length=64, unique=True)
    count = models.PositiveIntegerField()
    head = models.CharField(max_length=64)
    signature = models.CharField(max_length=128)
    signed_at = models.DateTimeField()

    class Meta:
        verbose_name = _("chain checkpoint")
        verbose_name_plural = _("chain checkpoints")
        triggers = [
            pgtrigger.Protect(name="checkpoint_never_deleted", operation=pgtrigger.Delete),
            no_truncate_trigger("checkpoint_no_truncate"),
        ]

    def __str__(self):
        return f"{self.chain} #{self.count}"
