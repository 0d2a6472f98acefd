"""Checks on a playbook that its fields alone do not express, in plain words.

Shared by the admin forms and the JSON import, so a file cannot bring in what the admin
would refuse. Each function returns the messages (empty: fine) rather than raising: the
admin shows them next to a field, the import lists them all at once.
"""

from collections import Counter

from django.utils.translation import gettext as _

from incidents.choices import AuthorType
from incidents.errors import InvalidInput
from incidents.models import Category, Role, Severity

from .choices import ContactKind
from .templating import check_template

MAX_MINUTES = 30 * 24 * 60  # 30 days: a checklist is for the crisis, not for the year
MIN_REPEAT_MINUTES = 5  # a repeating step reminds people: not more often than this


def severity_label(value) -> str:
    return str(Severity(value).label) if value in Severity.values else str(value)


def category_errors(categories) -> list[str]:
    if not isinstance(categories, list):
        return [_("Categories must be a list of category codes.")]
    errors = []
    known = ", ".join(Category.values)
    for value in dict.fromkeys(c for c in categories if isinstance(c, str)):
        if value not in Category.values:
            errors.append(
                _("“%(value)s” is not an incident category. Known categories: %(known)s.")
                % {"value": value, "known": known}
            )
    if any(not isinstance(c, str) for c in categories):
        errors.append(_("Categories must be a list of category codes."))
    for value, count in Counter(c for c in categories if isinstance(c, str)).items():
        if count > 1:
            errors.append(_("The category “%(value)s” is listed twice.") % {"value": value})
    return errors


def severity_range_error(min_severity, max_severity) -> str | None:
    if min_severity is not None and max_severity is not None and min_severity > max_severity:
        return _("The severity range is upside down: “from” (%(min)s) is above “to” (%(max)s).") % {
            "min": severity_label(min_severity),
            "max": severity_label(max_severity),
        }
    return None


def due_minutes_error(minutes) -> str | None:
    if minutes is not None and minutes > MAX_MINUTES:
        return _("A step is due at most %(max)s minutes (30 days) after the declaration.") % {
            "max": MAX_MINUTES
        }
    return None


def repeat_minutes_error(minutes) -> str | None:
    if minutes is None:
        return None
    if minutes < MIN_REPEAT_MINUTES:
        return _(
            "Repeat every %(min)s minutes or more (reminders go to people), or leave the "
            "field empty for a one-off step."
        ) % {"min": MIN_REPEAT_MINUTES}
    if minutes > MAX_MINUTES:
        return _("A step repeats at least every %(max)s minutes (30 days).") % {"max": MAX_MINUTES}
    return None


def template_text_error(text, kind: str | None = None) -> str | None:
    try:
        check_template(text or "", kind)
    except InvalidInput as error:
        return error.message
    return None


def duplicate_severities(severities) -> list[int]:
    """The severities that appear more than once, each once, in order."""
    counts = Counter(severities)
    return sorted(severity for severity, count in counts.items() if count > 1)


def duplicate_severity_error(severity) -> str:
    return _("The severity “%(severity)s” has more than one approval policy: keep one.") % {
        "severity": severity_label(severity)
    }


def contact_roster_errors(kind, role, function) -> dict[str, str]:
    """A contact's place in the committee roster: a cell role only for a committee member,
    an approver function only (and always) with the approver role. Field -> message."""
    errors = {}
    if role and kind and kind != ContactKind.COMMITTEE:
        errors["role"] = _("Only crisis committee members have a role in the cell.")
    if function and role != Role.APPROVER:
        errors["function"] = _("Only an approver has an approver function: choose the role.")
    elif role == Role.APPROVER and not function:
        errors["function"] = _(
            "Say what this approver signs off for (legal, communications…): approval "
            "policies ask for functions."
        )
    return errors


def duplicate_advice_error(author_type) -> str:
    label = AuthorType(author_type).label if author_type in AuthorType.values else author_type
    return _("The author type “%(type)s” has more than one handling advice: keep one.") % {
        "type": label
    }
