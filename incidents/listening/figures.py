"""How a signal's figures read, in one place: the Listening page's card, the signal's page
(through the `listening` template filters) and the alert e-mail (actions.signal_open) say
them with these functions, in the active language."""

from django.utils.formats import number_format
from django.utils.translation import gettext as _


def expected(value) -> str:
    """An expected count, as people read it: whole from 10 up ("38"), one decimal below
    ("0.2", "1.5", "4"), "< 0.1" for a positive value that would read 0 (a quiet watch's
    0.24 an hour is not "0 expected")."""
    if value is None:
        return "—"
    value = float(value)
    if value >= 10:
        return number_format(round(value), 0)
    if 0 < value < 0.05:
        return "< " + number_format(0.1, 1)
    rounded = round(value, 1)
    return number_format(rounded, 0 if rounded == int(rounded) else 1)


def volume(signal) -> str:
    """ "49 mentions/h vs 0.2 expected": the signal's hour at its peak."""
    return _("%(observed)s mentions/h vs %(expected)s expected") % {
        "observed": number_format(round(signal.observed), 0),
        "expected": expected(signal.expected),
    }


def reason(trigger) -> str:
    """The signal's reason (`summary.trigger`, actions._trigger) in plain words, "" without
    one."""
    if not trigger:
        return ""
    if trigger.get("kind") == "tone":
        return _(
            "%(negative)s%% negative over the last %(minutes)s minutes (%(scored)s scored "
            "mentions) where %(usual)s%% is usual"
        ) % {key: trigger[key] for key in ("negative", "minutes", "scored", "usual")}
    return _(
        "%(mentions)s mentions in the last %(minutes)s minutes where %(expected)s were "
        "expected at this time of day"
    ) % {
        "mentions": trigger["mentions"],
        "minutes": trigger["minutes"],
        "expected": expected(trigger["expected"]),
    }
