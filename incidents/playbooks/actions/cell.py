"""Staffing the cell from the committee roster: several people in one step, all or none."""

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from incidents import actions as incident_actions
from incidents.actions import lock_incident
from incidents.errors import InvalidInput
from incidents.models import ApproverFunction, Incident, Membership, Role

from .. import rules, selectors

# The roles a roster entry can be added with: the lead is handed over, never added.
STAFF_ROLES = (Role.DRAFTER, Role.APPROVER, Role.SPOKESPERSON, Role.OBSERVER)
MAX_STAFFED = 100  # one request: far above any committee


@transaction.atomic
def cell_staff(*, incident: Incident, actor, people: list[dict]) -> list[Membership]:
    """Add several people of the incident's committee roster to the cell at once, each
    through `incidents.actions.member_add` (its timeline entry and notice), in one
    transaction: either everyone is added or, with the first problem, no one.

    `people`: [{"contact": <roster contact id>, "role": <Role>, "function": <ApproverFunction
    or "">}]. Raises NotAllowed (not the lead) or InvalidInput whose `problems` extra lists
    each problem as {"contact": id, "detail": text}: unknown to the roster, without an
    account, already in the cell, listed twice, no role or the lead's, an approver without
    a function. Returns the new memberships, in the order given.
    """
    incident = lock_incident(incident)
    rules.check_staff(actor, incident)
    if not people:
        raise InvalidInput(_("Tick at least one person of the roster."))
    if len(people) > MAX_STAFFED:
        raise InvalidInput(_("Add at most %(max)s people at once.") % {"max": MAX_STAFFED})
    contacts = {contact.pk: contact for contact in selectors.committee_of(incident)}
    accounts = selectors.accounts_by_email(c.email for c in contacts.values())
    in_cell = {m.user_id for m in Membership.objects.active().filter(incident=incident)}
    errors: list[dict] = []
    chosen: list[tuple] = []
    seen: set[int] = set()
    for person in people:
        contact_id = person.get("contact") if isinstance(person, dict) else None
        contact = contacts.get(contact_id) if isinstance(contact_id, int) else None
        if contact is None:
            errors.append(
                {
                    "contact": contact_id,
                    "detail": _("Person %(id)s is not in this incident's roster.")
                    % {"id": contact_id},
                }
            )
            continue
        problem, user = _problem(person, contact, accounts, in_cell, seen)
        if problem:
            errors.append({"contact": contact.pk, "detail": problem})
            continue
        seen.add(user.pk)
        role = person["role"]
        chosen.append((user, role, (person.get("function") or "") if role == Role.APPROVER else ""))
    if errors:
        heading = ngettext(
            "Nobody was added; one problem:",
            "Nobody was added; %(count)d problems:",
            len(errors),
        ) % {"count": len(errors)}
        raise InvalidInput(
            "\n".join([heading, *(f"- {error['detail']}" for error in errors)]), problems=errors
        )
    return [
        incident_actions.member_add(
            incident=incident, actor=actor, user=user, role=role, function=function
        )
        for user, role, function in chosen
    ]


def _problem(person: dict, contact, accounts: dict, in_cell: set, seen: set):
    """What prevents adding this roster person (a message) or None, and their account."""
    name = contact.name
    user = accounts.get(contact.email.strip().lower()) if contact.email else None
    if user is None:
        if not contact.email:
            return _("%(name)s has no e-mail in the roster, so no account.") % {"name": name}, None
        return _(
            "%(name)s has no account on this site under %(email)s: ask an administrator "
            "to create one."
        ) % {"name": name, "email": contact.email}, None
    if user.pk in in_cell:
        return _("%(name)s is already in the cell.") % {"name": name}, user
    if user.pk in seen:
        return _("%(name)s is listed twice.") % {"name": name}, user
    role, function = person.get("role"), person.get("function") or ""
    if role not in STAFF_ROLES:
        return _(
            "Choose a role for %(name)s: drafter, approver, spokesperson or observer (the "
            "lead is handed over, not added)."
        ) % {"name": name}, user
    if role == Role.APPROVER:
        if not function:
            return _(
                "Choose what %(name)s approves (legal, communications…): approval policies "
                "ask for functions."
            ) % {"name": name}, user
        if function not in ApproverFunction.values:
            return _("Unknown approver function for %(name)s: %(value)s.") % {
                "name": name,
                "value": function,
            }, user
    return None, user
