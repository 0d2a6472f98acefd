"""Every write on incidents, cells and timelines goes through here.

Each action checks the actor's rights and the state, locks the incident row, writes its
rows and its timeline entry in one transaction, and publishes the live event after commit.
"""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from . import chains, events, extensions, rules
from .errors import InvalidInput
from .localtime import shown
from .models import (
    MANUAL_KINDS,
    REOPENING_FROM,
    Category,
    EntryKind,
    Incident,
    Membership,
    Origin,
    Platform,
    PromotionFreeze,
    Role,
    Severity,
    Status,
    TimelineEntry,
    first_response_due,
    next_link,
)
from .people import display_name
from .text import ENTRY_MAX, SUMMARY_MAX, TITLE_MAX, is_visible, nfc, one_line

User = get_user_model()

# Clocks disagree a little; an observation "in the future" beyond this is a typo.
CLOCK_SKEW = timedelta(minutes=5)
# How far back an observation or a detection may be dated: beyond, it is a typo.
MAX_BACKDATE = timedelta(days=365)
EDITABLE_FIELDS = ("title", "summary", "category", "origin", "platforms", "detected_at")


def lock_incident(incident: Incident) -> Incident:
    """Re-read the incident under a row lock: transitions, the timeline's sequence numbers
    and the cell (who may act) depend on its current state, so concurrent actions queue
    and permissions are checked on the fresh row, never on a copy loaded earlier."""
    return Incident.objects.select_for_update().get(pk=incident.pk)


def _clean_details(changes: dict) -> dict:
    cleaned = {}
    for field, value in changes.items():
        if field == "title":
            value = one_line(value)  # one line: it ends up in email subjects
            if not is_visible(value):
                raise InvalidInput(_("A title is required (visible characters, not only spaces)."))
            if len(value) > TITLE_MAX:
                raise InvalidInput(
                    _("The title is limited to %(n)s characters.") % {"n": TITLE_MAX}
                )
        elif field == "summary":
            value = nfc(value)
            if len(value) > SUMMARY_MAX:
                raise InvalidInput(
                    _("The summary is limited to %(n)s characters (%(len)s now).")
                    % {"n": f"{SUMMARY_MAX:,}", "len": f"{len(value):,}"}
                )
        elif field == "category" and value not in Category.values:
            raise InvalidInput(_("Unknown category: %(value)s") % {"value": value})
        elif field == "origin" and value not in Origin.values:
            raise InvalidInput(_("Unknown origin: %(value)s") % {"value": value})
        elif field == "platforms":
            unknown = [p for p in value if p not in Platform.values]
            if unknown:
                raise InvalidInput(_("Unknown platform: %(value)s") % {"value": unknown[0]})
            value = [p for p in Platform.values if p in value]  # canonical order, no dupes
        elif field == "detected_at":
            _check_time(
                value,
                earliest=timezone.now() - MAX_BACKDATE,
                future_message=_("The detection time cannot be in the future."),
            )
        cleaned[field] = value
    return cleaned


def _check_time(value, *, earliest, future_message: str) -> None:
    if value > timezone.now() + CLOCK_SKEW:
        raise InvalidInput(future_message)
    if value < earliest:
        raise InvalidInput(
            _("This time is too far in the past (before %(date)s).")
            % {"date": shown(earliest, "DATE_FORMAT")}
        )


def _check_severity(severity) -> int:
    if severity not in Severity.values:
        raise InvalidInput(_("Severity must be one of 1, 2, 3 or 4."))
    return int(severity)


def timeline_record(
    incident: Incident,
    *,
    kind: str,
    actor,
    text: str = "",
    data: dict | None = None,
    occurred_at=None,
    key_event: bool = False,
) -> TimelineEntry:
    """Append one entry to the incident's hash chain. The caller holds the incident lock
    (`lock_incident`), which makes `seq` gap-free and the chain linear. Only the writes and
    the hash link happen here: the live event is built and sent after COMMIT
    (`events.publish_entry` just registers it), so nothing is rendered under the lock."""
    now = timezone.now()
    seq, prev_hash = next_link(TimelineEntry.objects.filter(incident=incident))
    entry = TimelineEntry(
        incident=incident,
        seq=seq,
        kind=kind,
        text=text,
        actor=actor,
        occurred_at=occurred_at or now,
        recorded_at=now,
        key_event=key_event or kind == EntryKind.KEY_EVENT,
        data=data or {},
        prev_hash=prev_hash,
    )
    entry.hash = entry.compute_hash()
    entry.save()
    chains.anchor(
        chains.chain_name(chains.TIMELINE, incident.pk),
        count=seq,
        head=entry.hash,
        prev_head=prev_hash,
    )
    events.publish_entry(entry, incident)  # registers; built and sent after COMMIT
    extensions.follow_timeline(entry, incident)  # e.g. a task the entry completes
    return entry


@transaction.atomic
def incident_declare(
    *,
    actor,
    title: str,
    category: str,
    origin: str,
    summary: str = "",
    platforms=(),
    severity: int = Severity.MODERATE,
    detected_at=None,
    activate: bool = False,
) -> Incident:
    """Open an incident; the declaring user becomes its lead."""
    now = timezone.now()
    details = _clean_details(
        {
            "title": title,
            "summary": summary,
            "category": category,
            "origin": origin,
            "platforms": list(platforms),
            "detected_at": detected_at or now,
        }
    )
    severity = _check_severity(severity)
    status = Status.ACTIVE if activate else Status.DETECTED
    incident = Incident.objects.create(
        **details,
        severity=severity,
        status=status,
        declared_at=now,
        active_at=now if activate else None,
        first_response_due_at=first_response_due(now, severity),
        declared_by=actor,
    )
    Membership.objects.create(
        incident=incident, user=actor, role=Role.LEAD, added_by=actor, added_at=now
    )
    timeline_record(
        incident,
        kind=EntryKind.DECLARED,
        actor=actor,
        text=details["summary"],
        key_event=True,
        data={
            "title": incident.title,
            "category": incident.category,
            "origin": incident.origin,
            "platforms": incident.platforms,
            "severity": severity,
            "status": status,
            "lead": actor.pk,
            "detected_at": details["detected_at"].isoformat(),
        },
    )
    if rules.freeze_by_default(severity):
        _freeze(incident, actor=actor, now=now, data={"default": True, "severity": severity})
    return incident


def _freeze(incident: Incident, *, actor, now, data: dict, note: str = "") -> None:
    incident.freeze_holding(
        PromotionFreeze.objects.create(incident=incident, set_at=now, set_by=actor)
    )
    timeline_record(
        incident,
        kind=EntryKind.PROMOTION_FREEZE_SET,
        actor=actor,
        text=note,
        key_event=True,
        data=data,
    )


@transaction.atomic
def incident_set_promotion_freeze(
    *, incident: Incident, actor, frozen: bool, note: str = ""
) -> Incident:
    """Set (`frozen=True`) or lift the promotion freeze: while it holds, nobody publishes
    promotional posts for the brand (the banner on every page of the cell's members says
    so). Lead only (`rules.require_freeze_change`); asking for the current state is a no-op.
    Each change is a key timeline entry: when, by whom, and for a lift how long it held —
    the return to normal posting."""
    note = nfc(note).strip()
    if len(note) > ENTRY_MAX:
        raise InvalidInput(_("A note is limited to %(n)s characters.") % {"n": f"{ENTRY_MAX:,}"})
    incident = lock_incident(incident)
    if not rules.require_freeze_change(actor, incident, bool(frozen)):
        return incident
    now = timezone.now()
    if frozen:
        _freeze(incident, actor=actor, now=now, data={"default": False}, note=note)
        return incident
    holding = PromotionFreeze.objects.select_for_update().get(
        incident=incident, lifted_at__isnull=True
    )
    holding.lifted_at, holding.lifted_by = now, actor
    holding.save(update_fields=["lifted_at", "lifted_by"])
    incident.freeze_holding(None)
    since, set_by = holding.set_at, holding.set_by_id
    timeline_record(
        incident,
        kind=EntryKind.PROMOTION_FREEZE_LIFTED,
        actor=actor,
        text=note,
        key_event=True,
        data={
            "since": since.isoformat(),
            "set_by": set_by,
            "held_seconds": int((now - since).total_seconds()),
            "status": incident.status,
        },
    )
    return incident


@transaction.atomic
def incident_update(*, incident: Incident, actor, **changes) -> Incident:
    """Edit the descriptive fields. Severity and status have their own actions."""
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise InvalidInput(_("These fields cannot be edited: %(f)s") % {"f": ", ".join(unknown)})
    incident = lock_incident(incident)
    rules.require(actor, incident, rules.EDIT_DETAILS)
    cleaned = _clean_details(changes)
    diff = {}
    for field, value in cleaned.items():
        old = getattr(incident, field)
        if old != value:
            diff[field] = {"old": _jsonable(old), "new": _jsonable(value)}
            setattr(incident, field, value)
    if not diff:
        return incident
    incident.save(update_fields=[*diff, "updated_at"])
    timeline_record(incident, kind=EntryKind.UPDATED, actor=actor, data=diff)
    return incident


def _jsonable(value):
    return value.isoformat() if hasattr(value, "isoformat") else value


@transaction.atomic
def incident_transition(*, incident: Incident, actor, status: str, note: str = "") -> Incident:
    """Move the incident along its lifecycle. Asking for the current status is a no-op, so
    a double click never fails."""
    if status not in Status.values:
        raise InvalidInput(_("Unknown status: %(value)s") % {"value": status})
    incident = lock_incident(incident)
    if not rules.require_transition(actor, incident, status):
        return incident
    old = incident.status
    now = timezone.now()
    incident.status = status
    setattr(incident, f"{status}_at", now)
    incident.save(update_fields=["status", f"{status}_at", "updated_at"])
    reopened = old in REOPENING_FROM and status == Status.ACTIVE
    timeline_record(
        incident,
        kind=EntryKind.REOPENED if reopened else EntryKind.STATUS_CHANGED,
        actor=actor,
        text=note.strip(),
        key_event=reopened or status in (Status.ACTIVE, Status.RESOLVED),
        data={"old": old, "new": status},
    )
    return incident


@transaction.atomic
def incident_set_severity(*, incident: Incident, actor, severity: int, note: str = "") -> Incident:
    """Change severity. Until the first response is out, its deadline follows the severity
    (a more severe incident gets a shorter golden hour)."""
    severity = _check_severity(severity)
    incident = lock_incident(incident)
    rules.require(actor, incident, rules.CHANGE_SEVERITY)
    old = incident.severity
    if severity == old:
        return incident
    data = {"old": old, "new": severity}
    incident.severity = severity
    fields = ["severity", "updated_at"]
    if incident.first_response_at is None:
        due = first_response_due(incident.declared_at, severity)
        data["first_response_due_at"] = {
            "old": incident.first_response_due_at.isoformat(),
            "new": due.isoformat(),
        }
        incident.first_response_due_at = due
        fields.append("first_response_due_at")
    incident.save(update_fields=fields)
    timeline_record(
        incident,
        kind=EntryKind.SEVERITY_CHANGED,
        actor=actor,
        text=note.strip(),
        key_event=severity > old,
        data=data,
    )
    return incident


def _active_membership(incident: Incident, user) -> Membership | None:
    return Membership.objects.active().filter(incident=incident, user=user).first()


def _end(membership: Membership, *, actor, now) -> None:
    membership.left_at = now
    membership.removed_by = actor
    membership.save(update_fields=["left_at", "removed_by"])


def _member_data(user, role: str, **extra) -> dict:
    return {
        "user": user.pk,
        "username": user.get_username(),
        "name": display_name(user),
        "role": role,
        **extra,
    }


def _check_function(role: str, function: str) -> str:
    """An approver signs off for a function it must be given; others have none (the rule:
    `rules.membership_function`)."""
    return rules.membership_function(role, function)


@transaction.atomic
def member_add(*, incident: Incident, actor, user, role: str, function: str = "") -> Membership:
    function = _check_function(role, function)
    if role == Role.LEAD:
        raise InvalidInput(_("An incident has one lead: hand over leadership instead."))
    if not user.is_active:
        raise InvalidInput(_("This account is deactivated."))
    incident = lock_incident(incident)
    rules.require(actor, incident, rules.MANAGE_CELL)
    if _active_membership(incident, user):
        raise InvalidInput(
            _("%(user)s is already in the cell; change their role instead.")
            % {"user": user.get_username()}
        )
    membership = Membership.objects.create(
        incident=incident,
        user=user,
        role=role,
        function=function,
        added_by=actor,
        added_at=timezone.now(),
    )
    timeline_record(
        incident,
        kind=EntryKind.MEMBER_ADDED,
        actor=actor,
        data=_member_data(user, role, function=function),
    )
    extensions.cell_changed(incident, actor=actor, started=[membership])
    return membership


@transaction.atomic
def member_change_role(
    *, incident: Incident, actor, user, role: str, function: str = ""
) -> Membership:
    function = _check_function(role, function)
    if role == Role.LEAD:
        return lead_hand_over(incident=incident, actor=actor, to_user=user)
    incident = lock_incident(incident)
    rules.require(actor, incident, rules.MANAGE_CELL)
    current = _active_membership(incident, user)
    if current is None:
        raise InvalidInput(_("This person is not in the cell."))
    if current.role == Role.LEAD:
        raise InvalidInput(_("Hand over leadership to someone else before changing this role."))
    if (current.role, current.function) == (role, function):
        return current
    now = timezone.now()
    _end(current, actor=actor, now=now)
    membership = Membership.objects.create(
        incident=incident, user=user, role=role, function=function, added_by=actor, added_at=now
    )
    timeline_record(
        incident,
        kind=EntryKind.ROLE_CHANGED,
        actor=actor,
        data=_member_data(
            user, role, old=current.role, new=role, old_function=current.function, function=function
        ),
    )
    extensions.cell_changed(incident, actor=actor, started=[membership], ended=[current])
    return membership


@transaction.atomic
def member_remove(*, incident: Incident, actor, user) -> Membership:
    """End a membership. The row stays, with when and by whom, as the cell's history."""
    incident = lock_incident(incident)
    rules.require(actor, incident, rules.MANAGE_CELL)
    current = _active_membership(incident, user)
    if current is None:
        raise InvalidInput(_("This person is not in the cell."))
    if current.role == Role.LEAD:
        raise InvalidInput(_("The lead cannot be removed: hand over leadership first."))
    _end(current, actor=actor, now=timezone.now())
    timeline_record(
        incident,
        kind=EntryKind.MEMBER_REMOVED,
        actor=actor,
        data=_member_data(user, current.role),
    )
    extensions.cell_changed(incident, actor=actor, ended=[current])
    return current


@transaction.atomic
def lead_hand_over(
    *, incident: Incident, actor, to_user, former_lead_role: str = Role.DRAFTER
) -> Membership:
    """Make `to_user` the lead. The former lead stays in the cell with `former_lead_role`."""
    if former_lead_role not in Role.values or former_lead_role == Role.LEAD:
        raise InvalidInput(_("Choose the former lead's new role."))
    if not to_user.is_active:
        raise InvalidInput(_("This account is deactivated."))
    incident = lock_incident(incident)
    rules.require(actor, incident, rules.HAND_OVER)
    lead = Membership.objects.active().select_related("user").get(incident=incident, role="lead")
    if lead.user_id == to_user.pk:
        return lead
    now = timezone.now()
    target = _active_membership(incident, to_user)
    if target is not None:
        _end(target, actor=actor, now=now)
    _end(lead, actor=actor, now=now)
    former = Membership.objects.create(
        incident=incident, user=lead.user, role=former_lead_role, added_by=actor, added_at=now
    )
    new_lead = Membership.objects.create(
        incident=incident, user=to_user, role=Role.LEAD, added_by=actor, added_at=now
    )
    timeline_record(
        incident,
        kind=EntryKind.LEAD_HANDED_OVER,
        actor=actor,
        key_event=True,
        data={
            "old": {"user": lead.user_id, "name": display_name(lead.user)},
            "new": {"user": to_user.pk, "name": display_name(to_user)},
            "former_lead_role": former_lead_role,
            "new_lead_previous_role": target.role if target else None,
        },
    )
    extensions.cell_changed(
        incident,
        actor=actor,
        started=[former, new_lead],
        ended=[m for m in (lead, target) if m is not None],
    )
    return new_lead


@transaction.atomic
def timeline_add_entry(
    *,
    incident: Incident,
    actor,
    kind: str,
    text: str,
    occurred_at=None,
    key_event: bool = False,
) -> TimelineEntry:
    """A manual entry typed by the committee; `occurred_at` may back-date an observation."""
    if kind not in MANUAL_KINDS:
        raise InvalidInput(_("This kind of entry is written by the system, not by hand."))
    text = nfc(text)
    if not is_visible(text):
        raise InvalidInput(_("Write what happened."))
    if len(text) > ENTRY_MAX:
        raise InvalidInput(_("An entry is limited to %(n)s characters.") % {"n": f"{ENTRY_MAX:,}"})
    if occurred_at is not None:
        _check_time(
            occurred_at,
            earliest=incident.detected_at - MAX_BACKDATE,
            future_message=_("An observation cannot be dated in the future."),
        )
    incident = lock_incident(incident)
    rules.require(actor, incident, rules.WRITE_TIMELINE)
    return timeline_record(
        incident,
        kind=kind,
        actor=actor,
        text=text,
        occurred_at=occurred_at,
        key_event=key_event,
    )
