"""Wall-clock times people type, in their time zone: one rule for the pages and the API.

A local time can fail to name one instant twice a year: on the spring-forward night 02:30
never happened (the clocks went from 02:00 to 03:00), and on the autumn night 02:30
happened twice (once in summer time, once in winter time). Such a time is never silently
moved or guessed: a time that did not exist is refused with a clear message, and for a
repeated time the person says which of the two they mean (`fold`: 0 the first, 1 the
second, as in Python's datetime); the API asks for an explicit UTC offset instead.
"""

import math
from dataclasses import dataclass
from datetime import UTC, datetime

from django.utils import formats, timezone
from django.utils.translation import gettext as _


@dataclass(frozen=True)
class Occurrence:
    fold: int
    instant: datetime  # aware

    @property
    def offset(self) -> str:
        """ "+02:00"-style UTC offset of this occurrence."""
        minutes = int(self.instant.utcoffset().total_seconds() // 60)
        sign = "+" if minutes >= 0 else "-"
        return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


class LocalTimeError(ValueError):
    def __init__(self, message: str, code: str, occurrences: tuple[Occurrence, ...] = ()):
        super().__init__(message)
        self.message, self.code, self.occurrences = message, code, occurrences


def occurrences(naive: datetime, zone=None) -> tuple[Occurrence, ...]:
    """The instants a wall-clock time names in `zone` (default: the active zone): one
    normally, none in a spring-forward gap, two in an autumn repeated hour."""
    zone = zone or timezone.get_current_timezone()
    first, second = (naive.replace(tzinfo=zone, fold=f) for f in (0, 1))
    if first.utcoffset() == second.utcoffset():
        return (Occurrence(0, first),)
    if first.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != naive:
        return ()  # it did not exist: a round trip lands on another wall-clock time
    return (Occurrence(0, first), Occurrence(1, second))


def resolve(naive: datetime, zone=None, fold: int | None = None) -> datetime:
    """The aware instant a wall-clock time names, or LocalTimeError: code "nonexistent",
    or "ambiguous" (with both occurrences) when it happened twice and `fold` is None."""
    zone = zone or timezone.get_current_timezone()
    found = occurrences(naive, zone)
    shown = formats.date_format(naive, "DATETIME_FORMAT")
    if not found:
        raise LocalTimeError(
            _(
                "%(time)s did not exist in %(zone)s: the clocks went forward that night. "
                "Enter the time the clock showed."
            )
            % {"time": shown, "zone": zone},
            "nonexistent",
        )
    if len(found) == 2 and fold not in (0, 1):
        raise LocalTimeError(
            _(
                "%(time)s happened twice in %(zone)s (the clocks went back that night): "
                "say which one you mean (UTC%(first)s or UTC%(second)s)."
            )
            % {"time": shown, "zone": zone, "first": found[0].offset, "second": found[1].offset},
            "ambiguous",
            found,
        )
    return found[fold if len(found) == 2 else 0].instant


def shown(value: datetime, format: str = "SHORT_DATETIME_FORMAT", *, zone: bool = False) -> str:
    """A time as people read it: in the active time zone, in a named format of the active
    language (crisiscell/formats: named month, 24-hour clock), with the zone's abbreviation
    when `zone` ("1 Dec 2026, 13:05 CET"): the pages, messages and exports write it alike."""
    local = timezone.localtime(value)
    text = formats.date_format(local, format)
    return f"{text} {local.tzname()}" if zone else text


def duration(seconds) -> str:
    """Seconds as a short duration: "45 s", "12 min", "2 h 05", "3 d 4 h" (from 48 hours),
    "-" before a negative one; "—" when unknown (None, "", not a finite number). One rule
    for every page, export and message that says how long something took."""
    try:
        seconds = float(seconds)
    except (TypeError, ValueError):  # None, "", anything that is no number
        return "—"
    if not math.isfinite(seconds):
        return "—"
    seconds = round(seconds)
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    if seconds < 60:
        return _("%(sign)s%(n)s s") % {"sign": sign, "n": seconds}
    minutes = seconds // 60
    if minutes < 60:
        return _("%(sign)s%(n)s min") % {"sign": sign, "n": minutes}
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return _("%(sign)s%(h)s h %(m)02d") % {"sign": sign, "h": hours, "m": minutes}
    days, hours = divmod(hours, 24)
    return _("%(sign)s%(d)s d %(h)s h") % {"sign": sign, "d": days, "h": hours}
