"""How a signal's figures read, in one place: the Listening page's card, the signal's page
(through the `listening` template filters) and the alert e-mail (actions.signal_open) say
them with these functions, in the active language."""

from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .models import shown_handle


def _shown(value) -> float:
    """The figure as `expected` shows it: whole from 10 up, one decimal below, 0 for a
    positive value that reads "< 0.1"."""
    value = float(value)
    if value >= 10:
        return float(round(value))
    if 0 < value < 0.05:
        return 0.0
    return round(value, 1)


def expected(value) -> str:
    """An expected count, as people read it: whole from 10 up ("38"), one decimal below
    ("0.2", "1.5", "4"), "< 0.1" for a positive value that would read 0 (a quiet watch's
    0.24 an hour is not "0 expected")."""
    if value is None:
        return "—"
    value = float(value)
    if 0 < value < 0.05:
        return "< " + number_format(0.1, 1)
    shown = _shown(value)
    return number_format(shown, 0 if shown == int(shown) else 1)


def expected_count(value) -> int:
    """The count an "expected" figure's words agree with (ngettext): the figure when whole;
    0 for a decimal below 2, the whole part from 2. So English says "1 was", "1.5 were",
    "0.3 were" and French (plural from 2) "1 attendue", "1,5 attendue", "0,3 attendue",
    "2,5 attendues"."""
    if value is None:
        return 0
    shown = _shown(value)
    if shown == int(shown) or shown >= 2:
        return int(shown)
    return 0


def authors(summary) -> list[dict]:
    """The summary's top authors (actions._summary), each with `shown`: the handle as the
    pages show it (models.shown_handle); as stored for a summary built before the platform
    was kept in it."""
    return [
        {
            **author,
            "shown": shown_handle(author["handle"], author["platform"])
            if author.get("platform")
            else author["handle"],
        }
        for author in (summary or {}).get("authors", [])
    ]


def volume(signal) -> str:
    """ "49 mentions/h at the peak vs 0.2 expected": the signal's hour at its peak (the
    alert, sent when it opened, told the hour of then: "at the peak" says why they differ)."""
    return ngettext(
        "%(observed)s mentions/h at the peak vs %(expected)s expected",
        "%(observed)s mentions/h at the peak vs %(expected)s expected",
        expected_count(signal.expected),
    ) % {
        "observed": number_format(round(signal.observed), 0),
        "expected": expected(signal.expected),
    }


def reason(trigger) -> str:
    """The signal's reason (`summary.trigger`, actions._trigger) in plain words, "" without
    one. Worded to read right once the signal is closed too ("in 20 minutes", not "in the
    last 20 minutes")."""
    if not trigger:
        return ""
    if trigger.get("kind") == "tone":
        return _(
            "%(negative)s%% negative over %(minutes)s minutes (%(scored)s scored mentions) "
            "where %(usual)s%% is usual"
        ) % {key: trigger[key] for key in ("negative", "minutes", "scored", "usual")}
    return ngettext(
        "%(mentions)s mentions in %(minutes)s minutes where %(expected)s was expected at "
        "that time of day",
        "%(mentions)s mentions in %(minutes)s minutes where %(expected)s were expected at "
        "that time of day",
        expected_count(trigger["expected"]),
    ) % {
        "mentions": trigger["mentions"],
        "minutes": trigger["minutes"],
        "expected": expected(trigger["expected"]),
    }
