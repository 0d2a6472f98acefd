"""Reads of the playbooks' incident side, each in a constant number of queries."""

from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import ngettext

from incidents.extensions import Ambassador, RosterEntry
from incidents.models import Membership, Role

from .choices import ContactKind
from .models import (
    AppliedPlaybook,
    IncidentContact,
    IncidentTemplate,
    Playbook,
    Task,
    TaskStatus,
)

ROLE_ORDER = [Role.LEAD, Role.DRAFTER, Role.APPROVER, Role.SPOKESPERSON]


def playbooks_for(category: str | None = None, severity: int | None = None) -> list[Playbook]:
    """Active playbooks, those suiting the category and severity when given."""
    playbooks = Playbook.objects.filter(is_active=True).order_by("name")
    return [
        p
        for p in playbooks
        if category is None or severity is None or p.suits(category, int(severity))
    ]


def applied_playbook(incident) -> AppliedPlaybook | None:
    return AppliedPlaybook.objects.filter(incident=incident).first()


def tasks_of(incident) -> QuerySet[Task]:
    return Task.objects.filter(incident=incident).select_related("assignee", "completed_by")


def task_board(incident) -> dict:
    """Open tasks grouped by role (in the cell's order), and the done ones, newest first."""
    tasks = list(tasks_of(incident).order_by("due_at", "order", "id"))
    open_tasks = [t for t in tasks if t.status == TaskStatus.OPEN]
    columns = [
        (role, Role(role).label, [t for t in open_tasks if t.role == role]) for role in ROLE_ORDER
    ]
    done = sorted(
        (t for t in tasks if t.status == TaskStatus.DONE),
        key=lambda t: t.completed_at,
        reverse=True,
    )
    return {
        "columns": [c for c in columns if c[2]],
        "open_count": len(open_tasks),
        "done": done,
    }


def templates_of(incident) -> QuerySet[IncidentTemplate]:
    return IncidentTemplate.objects.filter(incident=incident).order_by("order", "id")


def contacts_of(incident) -> QuerySet[IncidentContact]:
    return IncidentContact.objects.filter(incident=incident).order_by("kind", "order", "id")


MAX_ROSTER = 200  # committee entries read at most: a committee is a dozen people


def committee_of(incident) -> QuerySet[IncidentContact]:
    """The incident's crisis committee (its copy of the playbook's), in the roster's order."""
    return contacts_of(incident).filter(kind=ContactKind.COMMITTEE)[:MAX_ROSTER]


def accounts_by_email(emails) -> dict[str, object]:
    """Active site accounts by lower-cased e-mail, in one query (none without e-mails). An
    e-mail that several active accounts share matches none of them: staffing a crisis cell
    must never pick a person at random."""
    wanted = {email.strip().lower() for email in emails if email and email.strip()}
    if not wanted:
        return {}
    found: dict[str, list] = {}
    accounts = (
        get_user_model()
        .objects.filter(is_active=True)
        .annotate(email_key=Lower("email"))
        .filter(email_key__in=wanted)
        .order_by("pk")
    )
    for account in accounts:
        found.setdefault(account.email_key, []).append(account)
    return {email: matches[0] for email, matches in found.items() if len(matches) == 1}


def _account(accounts: dict, email: str):
    return accounts.get(email.strip().lower()) if email else None


def roster(incident) -> list[RosterEntry]:
    """The incident's committee roster (the incidents.extensions provider): each person and
    backup matched to the active account with that e-mail (case-insensitive). Two queries
    whatever its size (one without a committee)."""
    contacts = list(committee_of(incident))
    accounts = accounts_by_email([c.email for c in contacts] + [c.backup_email for c in contacts])
    return [
        RosterEntry(
            name=c.name,
            email=c.email,
            role=c.role,
            function=c.function,
            user=_account(accounts, c.email),
            backup_name=c.backup,
            backup_email=c.backup_email,
            backup_user=_account(accounts, c.backup_email),
        )
        for c in contacts
    ]


@dataclass
class RosterRow:
    """One person of the roster as the staffing page and API show them."""

    contact: IncidentContact
    account: object  # the matched active user, or None
    backup_account: object
    membership: object  # their active membership in the cell, or None

    @property
    def selectable(self) -> bool:
        return self.account is not None and self.membership is None


def roster_rows(incident) -> list[RosterRow]:
    """The roster with account matches and who is in the cell already. Pass the incident
    with its prefetched cell (the room's): two queries whatever the roster's size."""
    contacts = list(committee_of(incident))
    accounts = accounts_by_email([c.email for c in contacts] + [c.backup_email for c in contacts])
    members = getattr(incident, "active_memberships", None)
    if members is None:
        members = list(Membership.objects.active().filter(incident=incident))
    by_user = {m.user_id: m for m in members}
    rows = []
    for contact in contacts:
        account = _account(accounts, contact.email)
        rows.append(
            RosterRow(
                contact=contact,
                account=account,
                backup_account=_account(accounts, contact.backup_email),
                membership=by_user.get(account.pk) if account else None,
            )
        )
    return rows


def handling_advice(incident) -> dict[str, dict[str, str]]:
    """The incident's copy of its playbook's handling advice (the incidents.extensions
    provider): {author_type: {"en": text, "fr": text}}, {} without a playbook. One query."""
    advice = AppliedPlaybook.objects.filter(incident=incident).values_list("advice", flat=True)
    found = next(iter(advice), None)
    return found if isinstance(found, dict) else {}


MAX_AMBASSADORS = 500  # contacts read at most: a brand knows tens of ambassadors, not more


def ambassadors(incident) -> list[Ambassador]:
    """The incident's ambassador contacts that have a handle (the incidents.extensions
    provider), in the contacts panel's order. One query."""
    rows = (
        contacts_of(incident)
        .filter(kind=ContactKind.AMBASSADOR)
        .exclude(handle="")
        .values_list("pk", "name", "handle", "platform")[:MAX_AMBASSADORS]
    )
    return [
        Ambassador(contact_id=pk, name=name, handle=handle, platform=platform)
        for pk, name, handle, platform in rows
    ]


def next_update_at(incident):
    """When the next scheduled update is due: the earliest open repeating task."""
    task = (
        Task.objects.filter(incident=incident, status=TaskStatus.OPEN, repeat_minutes__isnull=False)
        .order_by("due_at")
        .first()
    )
    return task.due_at if task else None


def default_next_update():
    """With no update scheduled, a template promises one within the hour, at a round time."""
    soon = (timezone.now() + timedelta(hours=1)).replace(second=0, microsecond=0)
    return soon + timedelta(minutes=-soon.minute % 15)


def draft_from_template(incident, template_id, mention_values=None) -> dict | None:
    """A template of the incident rendered for a new draft: kind, channel, language and
    text, or None when the incident has no such template. `mention_values`: the reply
    placeholders' values ({"author.handle": ...}; one empty refuses, naming it); without
    them a reply placeholder stays as typed."""
    from .templating import render_template, values_for

    template = templates_of(incident).filter(pk=template_id).first()
    if template is None:
        return None
    applied = applied_playbook(incident)
    values = values_for(
        incident,
        brand=applied.brand if applied else "",
        language=template.language,
        next_update_at=next_update_at(incident) or default_next_update(),
    )
    values.update(mention_values or {})
    return {
        "kind": template.kind,
        "channel": template.channel,
        "language": template.language,
        "text": render_template(template.text, values),
    }


# Tasks due later than this are for after the crisis (the post-mortem a week on): not a
# loose end of resolving it.
LOOSE_END_HORIZON = timedelta(hours=1)


def loose_ends(incident) -> list[str]:
    """For the lead resolving or closing the incident (incidents.extensions): the
    playbook's open tasks overdue or due within the hour. One query."""
    n = Task.objects.filter(
        incident=incident,
        status=TaskStatus.OPEN,
        due_at__lte=timezone.now() + LOOSE_END_HORIZON,
    ).count()
    if not n:
        return []
    return [
        ngettext(
            "%(n)s playbook task is overdue or due within the hour.",
            "%(n)s playbook tasks are overdue or due within the hour.",
            n,
        )
        % {"n": n}
    ]
