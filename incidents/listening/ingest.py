"""Mentions as they arrive, before they are stored: one dict per post (a line of NDJSON,
a row of an import, a connector's post) checked and turned into `MentionData`.

The shape (docs/api.md, "Mentions"):

    {"platform": "bluesky", "id": "at://did:plc:.../app.bsky.feed.post/3k...",
     "url": "https://bsky.app/...", "text": "...", "posted_at": "2026-11-30T09:12:00Z",
     "author": {"handle": "...", "name": "...", "url": "...", "followers": 120,
                "verified": false, "follows_brand": true},
     "language": "fr", "likes": 3, "reposts": 1, "replies": 0,
     "in_reply_to": "...", "reply_to_brand": false}

Only platform, id, text and posted_at are required. `parse` raises RowError with a
sentence a person can act on; it never touches the database.
"""

import calendar
import dataclasses
import functools
import json
import math
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from babel.core import get_global
from django.utils import timezone, translation
from django.utils.dates import MONTHS
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from incidents.models import Platform

from . import language
from .models import MAX_EXTERNAL_ID, MAX_HANDLE, MAX_TEXT, MAX_URL, shown_handle

MAX_COUNT = 2**31 - 1
# A post dated further ahead than this comes from a wrong clock or a wrong time zone.
FUTURE_SLACK = timedelta(hours=1)
# Times outside these are typing or clock errors (and past them, converting a time to UTC
# overflows).
EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)
PLATFORMS = frozenset(Platform.values)
# Language detection and sentiment read this many first characters of a text. VADER's cost
# grows faster than the length ("good but ..." clauses: a 20,000-character text cost 1-2 s
# of CPU, so a small gzip body cost minutes); a post is a few hundred characters, and the
# start of an article or a long post says its language and tone.
MAX_SCORED_CHARS = 1_000
# Refused lines described one by one (number and reason); past these, only counted.
MAX_LINE_ERRORS = 100


class RowError(ValueError):
    """A post that cannot be stored; str(error) says why."""


class UnknownPlatform(RowError):
    """A post whose platform is none of ours (the browser import says it in its own words,
    pointing at its choice of importing such rows as Other)."""


def scored_text(text: str) -> str:
    """The part of a post's text its language and sentiment are read from (the one place
    that bounds their cost: MAX_SCORED_CHARS)."""
    return text[:MAX_SCORED_CHARS]


def post_language(text: str, given: str) -> str:
    """The language a post is stored and matched with: the one its platform gave (already
    a language_code), else py3langid's reading of scored_text ("" when it cannot tell)."""
    return given or language.detect(scored_text(text))


@dataclass(slots=True)
class MentionData:
    platform: str
    external_id: str
    text: str
    posted_at: datetime
    url: str = ""
    author_handle: str = ""
    author_name: str = ""
    author_url: str = ""
    author_followers: int | None = None
    author_verified: bool | None = None
    author_follows_brand: bool | None = None
    language: str = ""
    likes: int = 0
    reposts: int = 0
    replies: int = 0
    in_reply_to: str = ""
    reply_to_brand: bool = False

    @property
    def key(self) -> tuple[str, str]:
        return self.platform, self.external_id

    @property
    def author_handle_shown(self) -> str:
        return shown_handle(self.author_handle, self.platform)


def _text(value, field, limit, *, required=False) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise RowError(_("%(field)s must be a string.") % {"field": field})
    value = str(value).strip()
    if required and not value:
        raise RowError(_("%(field)s is required.") % {"field": field})
    if len(value) > limit:
        raise RowError(
            _("%(field)s is longer than %(limit)s characters.") % {"field": field, "limit": limit}
        )
    if "\x00" in value:
        raise RowError(_("%(field)s contains a NUL character.") % {"field": field})
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate ("\ud800"): no database can store it
        raise RowError(_("%(field)s is not valid Unicode text.") % {"field": field}) from None
    return value


def _url(value, field) -> str:
    value = _text(value, field, MAX_URL)
    if value:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise RowError(_("%(field)s must be an http(s) URL.") % {"field": field})
    return value


# A count as a string: ASCII digits, a minus sign allowed so that -1 is told its range
# (int() also reads "1_000" and Arabic-Indic or full-width digits: no export writes them).
_WHOLE = re.compile(r"-?[0-9]+")


def _count(value, field, *, default=0):
    """A count (likes, followers...): a JSON integer or a string of ASCII digits, from 0 to
    MAX_COUNT. The one rule of the bulk API and the import (which first takes out the
    thousands separators exports write: importing.to_shape)."""
    if value is None or value == "":
        return default
    if isinstance(value, str) and _WHOLE.fullmatch(value.strip()):
        text = value.strip()
        number = int(text) if len(text) <= 20 else MAX_COUNT + 1
    elif isinstance(value, int) and not isinstance(value, bool):
        number = value
    else:
        raise RowError(
            _("%(field)s must be a whole number written with the digits 0 to 9 (such as 1200).")
            % {"field": field}
        )
    if not 0 <= number <= MAX_COUNT:
        raise RowError(
            _("%(field)s is out of range: give a whole number from 0 to %(max)s.")
            % {"field": field, "max": number_format(MAX_COUNT, force_grouping=True)}
        )
    return number


# Listening tools' exports also write Yes/No, Y/N (and French ones Oui/Non) in such columns.
_TRUE = frozenset({"true", "1", "yes", "y", "oui"})
_FALSE = frozenset({"false", "0", "no", "n", "non"})


def _flag(value, field, *, default=None, unread=None):
    """A yes-or-no field: true or false, 1 or 0, as JSON values or strings (any case, as
    spreadsheets write TRUE), or yes/no, y/n, oui/non as strings; blank is `default`.
    Nothing else: RowError, or, when `unread` is a list (parse's lenient reading of the
    optional flags), `default` with a sentence appended to it saying the post is kept
    without the flag."""
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if not text:
            return default
        if text in _TRUE or text in _FALSE:
            return text in _TRUE
    if unread is not None:
        written = value.strip() if isinstance(value, str) else json.dumps(value)
        unread.append(
            _(
                "%(field)s says “%(value)s”, which is not true or false (or 1 or 0, yes or "
                "no): the post is imported without it."
            )
            % {"field": field, "value": written[:40]}
        )
        return default
    raise RowError(_("%(field)s must be true or false (or 1 or 0, yes or no).") % {"field": field})


_LANGUAGE = re.compile(r"[a-z]{2,3}")
# BCP 47's codes for "no one language": left empty, so that the ingest detects it.
_NO_LANGUAGE = frozenset({"und", "mul", "zxx", "mis"})


def language_code(value: str) -> str | None:
    """A language tag as stored: its primary subtag in lower case ("en-US", "fr_CA" ->
    "en", "fr"), a three-letter code of a language that has a two-letter one as that one
    ("fra", "fre", "eng" -> "fr", "fr", "en": _two_letters), "" for none (empty, "und"),
    None when it is not a language code ("∞", "english"). The one rule of the bulk API,
    the import and the connectors."""
    code = value.strip().replace("_", "-").split("-", 1)[0].lower()
    if code in _NO_LANGUAGE:
        return ""
    if not code:
        return "" if not value.strip() else None
    if not (code.isascii() and _LANGUAGE.fullmatch(code)):
        return None
    return _two_letters().get(code, code)


@functools.cache
def _two_letters() -> dict[str, str]:
    """{ISO 639-2 or 639-3 code: its ISO 639-1 code} for the languages that have one
    ("fra" and "fre": "fr"), from CLDR's language aliases (Babel's copy); the others
    ("fil", "pcm") keep their three letters."""
    aliases = get_global("language_aliases")
    return {
        code: alias
        for code, alias in aliases.items()
        if len(code) == 3 and len(alias) == 2 and alias.isalpha()
    }


# Names Django's list of languages lacks, written so in exports.
_MORE_NAMES = {"chinese": "zh", "chinois": "zh", "中文": "zh", "norvegien": "no"}


def _folded(name: str) -> str:
    """A language's name as looked up: lower case, no accents, single spaces."""
    letters = unicodedata.normalize("NFKD", name.casefold())
    return " ".join("".join(c for c in letters if not unicodedata.combining(c)).split())


@functools.cache
def _language_names() -> dict[str, str]:
    """{folded name: code} for Django's 100 languages: their English name ("French"), their
    own ("français") and their name in each language of the site ("Anglais")."""
    from django.conf import settings
    from django.conf.locale import LANG_INFO

    names = {}
    for tag, info in LANG_INFO.items():
        if "name" not in info:  # an alias of another entry ("zh-cn")
            continue
        spellings = [info["name"], info["name_local"]]
        for site_language, _label in settings.LANGUAGES:
            with translation.override(site_language):
                spellings.append(translation.gettext(info["name"]))
        for spelling in spellings:
            # The plain language first: "Portuguese" is "pt" whatever "pt-br" calls itself.
            names.setdefault(_folded(spelling), tag.split("-")[0])
    return names | {_folded(name): code for name, code in _MORE_NAMES.items()}


def language_from_name(value: str) -> str | None:
    """The code of a language written by its name, as exports write it: "English",
    "français", "Anglais" -> "en", "fr", "en"; None when it names none."""
    return _language_names().get(_folded(value))


def read_language(value, field="language") -> str:
    """A post's language (bulk API, import; the mentions API's filter): a code or tag
    (language_code), else a language's name ("English", "Français"). RowError otherwise,
    naming `field` (None: a message that names no field, for an error already filed under
    its parameter's name)."""
    tag = _text(value, field or "language", 35)  # BCP 47's longest common tags fit
    code = language_code(tag)
    if code is None:
        code = language_from_name(tag)
    if code is not None:
        return code
    if field is None:
        raise RowError(
            _(
                "“%(value)s” is not a language: give its code (such as fr, en or en-US) or "
                "its name (such as French, English or Français)."
            )
            % {"value": tag[:20]}
        )
    raise RowError(
        _(
            "%(field)s “%(value)s” is not a language: give its code (such as fr, en or "
            "en-US) or its name (such as French, English or Français)."
        )
        % {"field": field, "value": tag[:20]}
    )


# The widest offsets from UTC a zone has: UTC-12:00 (Baker Island) and UTC+14:00 (Kiribati's
# Line Islands). Past them an offset is a typing error ("+23:59").
MAX_UTC_OFFSET = timedelta(hours=14)
# A Unix time as listening tools write it: seconds (10 digits, 2001 to 2286) or
# milliseconds (13 digits); {digits: units a second}.
_UNIX_UNITS = {10: 1, 13: 1000}
_UNIX_TEXT = re.compile(r"[0-9]{10}|[0-9]{13}")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _time_error(field, with_field: str, without_field: str, **values) -> RowError:
    """A refused time's message: `with_field` naming the field (a post's line, an imported
    row), `without_field` when `field` is None (a query parameter, already named by the
    error's key)."""
    if field is None:
        return RowError(without_field % values)
    return RowError(with_field % {"field": field, **values})


def time_out_of_range(field) -> RowError:
    """A time before EARLIEST or after LATEST (or past what a date can hold)."""
    bounds = {"earliest": EARLIEST.date().isoformat(), "latest": LATEST.date().isoformat()}
    return _time_error(
        field,
        _("%(field)s is out of range: give a time from %(earliest)s to %(latest)s (UTC)."),
        _("Out of range: give a time from %(earliest)s to %(latest)s (UTC)."),
        **bounds,
    )


def unix_time(value, field="posted_at") -> datetime | None:
    """The moment a Unix time names, written as a JSON number (1764493920, 1764493920123,
    1764493920.5) or as a string of 10 or 13 ASCII digits ("1764493920"): seconds when the
    whole part has 10 digits, milliseconds when it has 13. None when `value` is not written
    so (a string of another shape: a date to read). A number of another size is refused
    (RowError): no digit count tells its unit. The one rule of the bulk API and the
    import."""
    if isinstance(value, str):
        text = value.strip()
        if not _UNIX_TEXT.fullmatch(text):
            return None
        return _EPOCH + timedelta(seconds=int(text) / _UNIX_UNITS[len(text)])
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    digits = len(str(int(value))) if math.isfinite(value) and value >= 1 else 0
    if digits not in _UNIX_UNITS:
        raise _time_error(
            field,
            _(
                "%(field)s is a number that is not a Unix time: give seconds (10 digits), "
                "milliseconds (13 digits) or an ISO 8601 date and time."
            ),
            _(
                "A number that is not a Unix time: give seconds (10 digits), milliseconds "
                "(13 digits) or an ISO 8601 date and time."
            ),
        )
    if isinstance(value, int):  # exact, milliseconds included
        return _EPOCH + timedelta(milliseconds=value * 1000 // _UNIX_UNITS[digits])
    return _EPOCH + timedelta(seconds=value / _UNIX_UNITS[digits])


# A UTC offset as a time ends with it ("+01:00", "+0100", "-05", "+01:00:30.5"): its
# minutes and seconds.
_OFFSET_END = re.compile(r"[+-]\d\d(?::?(\d\d)(?::?(\d\d)(?:\.\d+)?)?)?\Z")


def offset_written_right(offset: str) -> bool:
    """Whether a UTC offset as written ("+01:00", "+0100", "-05", "Z"; or the time that
    ends with it) gives its minutes and seconds below 60. Python reads "+00:99" as +01:39
    and "-00:60" as -01:00: a typing error read as another offset. The one rule of the bulk
    API's ISO 8601 times (iso_time) and the import's dates with a month by name; the bound
    of ±14:00 is MAX_UTC_OFFSET's."""
    end = _OFFSET_END.search(offset.strip())
    return end is None or all(int(part or 0) < 60 for part in end.groups())


def iso_time(text: str) -> datetime | None:
    """An ISO 8601 date and time ("2026-11-30T09:12:00Z", "...+01:00", "2026-11-30 09:12"),
    aware when it gives a zone, naive otherwise; lower-case "t" and "z" read as RFC 3339
    allows. None when it is not one, or when its offset's minutes or seconds are 60 or more
    (offset_written_right)."""
    text = text.strip()
    if len(text) > 64:
        return None
    if text[-1:] == "z":
        text = text[:-1] + "Z"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is not None and not offset_written_right(text):
        return None
    return moment


def missing_day(year: int, month: int, day: int) -> str:
    """The words for a date whose form is read but that the calendar has not ("30 February
    2026 does not exist", the month named in the page's language); "" when the date exists
    or its month or day is not one at all (a 13th month, a 32nd day: not read as a date).
    The one rule of the bulk API's ISO 8601 (iso_missing_day) and the import's dates."""
    if not (1 <= month <= 12 and 1 <= day <= 31) or day <= calendar.monthrange(year, month)[1]:
        return ""
    return _("%(day)s %(month)s %(year)s does not exist") % {
        "day": day,
        "month": MONTHS[month],
        "year": year,
    }


_ISO_DATE = re.compile(r"\s*(\d{4})-(\d\d)-(\d\d)")


def iso_missing_day(text: str) -> str:
    """missing_day's words for an ISO 8601 time iso_time refuses for its day alone
    ("2026-02-30T10:00Z": read on the 1st of that month, it is one); "" otherwise."""
    found = _ISO_DATE.match(text) if len(text) <= 64 else None
    if not found or iso_time(text[: found.start(3)] + "01" + text[found.end(3) :]) is None:
        return ""
    return missing_day(*(int(part) for part in found.groups()))


def parse_time(value, field="posted_at", *, now=None, future=False) -> datetime:
    """A time with its zone: ISO 8601 ("2026-11-30T09:12:00Z", "...+01:00", iso_time) or a
    Unix time (unix_time); an offset beyond MAX_UTC_OFFSET, a time outside EARLIEST..LATEST
    and, unless `future`, one more than FUTURE_SLACK ahead are refused (RowError naming
    `field`; None: a message naming no field, for a query parameter)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise _time_error(
            field,
            _("%(field)s is required (ISO 8601 with a time zone)."),
            _("Give a date and time (ISO 8601 with a time zone)."),
        )
    # A datetime: read already (the import's local times).
    moment = value if isinstance(value, datetime) else unix_time(value, field)
    if moment is None and isinstance(value, str):
        moment = iso_time(value)
    missing = iso_missing_day(value) if moment is None and isinstance(value, str) else ""
    if missing:
        raise _time_error(
            field,
            _("%(field)s is not a date: %(missing)s."),
            _("Not a date: %(missing)s."),
            missing=missing,
        )
    if moment is None:
        raise _time_error(
            field,
            _("%(field)s is not a date and time (ISO 8601, e.g. 2026-11-30T09:12:00Z)."),
            _("Not a date and time: write it in ISO 8601, e.g. 2026-11-30T09:12:00Z."),
        )
    if moment.tzinfo is None:
        raise _time_error(
            field,
            _("%(field)s needs a time zone (Z or +01:00)."),
            _("Needs a time zone (Z or +01:00)."),
        )
    offset = moment.utcoffset()
    if abs(offset) > MAX_UTC_OFFSET:
        minutes = int(offset.total_seconds() // 60)
        shown = f"{'-' if minutes < 0 else '+'}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
        raise _time_error(
            field,
            _(
                "%(field)s has the UTC offset %(offset)s, beyond ±14:00: give the offset of "
                "the zone it was written in (such as Z, +01:00 or -05:00)."
            ),
            _(
                "The UTC offset %(offset)s is beyond ±14:00: give the offset of the zone it "
                "was written in (such as Z, +01:00 or -05:00)."
            ),
            offset=shown,
        )
    try:
        in_utc = moment.astimezone(UTC)
    except OverflowError:
        in_utc = None
    if in_utc is None or not EARLIEST <= in_utc <= LATEST:
        raise time_out_of_range(field)
    if not future and moment > (now or timezone.now()) + FUTURE_SLACK:
        raise _time_error(field, _("%(field)s is in the future."), _("In the future."))
    return moment


def parse(row, *, now=None, names=None, unread=None) -> MentionData:
    """One post as a dict (shape above) -> MentionData, or RowError. `names`: {field of the
    shape ("posted_at", "author.followers"): how the messages name it} (the import names
    the file's columns); the shape's own names otherwise.

    The optional yes-or-no fields (author.verified, author.follows_brand, reply_to_brand)
    are read by one rule (_flag) in two modes. Strict (`unread` None: the bulk API, the
    connectors): a value it cannot read refuses the post, as any other bad field does, so
    that a client sending its own format is told. Lenient (`unread` a list: the browser
    import, whose columns are mapped automatically from a tool's export, "Twitter Verified"
    holding "-" or "verified"): such a flag is left at its default (unknown; false for
    reply_to_brand) and a sentence per flag appended to `unread`, for a warning: an
    optional flag never loses the post."""

    def named(key):
        return names.get(key, key) if names else key

    if not isinstance(row, dict):
        raise RowError(_("Each line must be a JSON object."))
    platform = row.get("platform")
    if not isinstance(platform, str) or platform not in PLATFORMS:
        raise UnknownPlatform(
            _("Unknown platform %(value)s (one of: %(known)s).")
            % {"value": json.dumps(platform)[:40], "known": ", ".join(sorted(PLATFORMS))}
        )
    author = row.get("author") or {}
    if not isinstance(author, dict):
        raise RowError(_("author must be an object."))
    language = read_language(row.get("language"), named("language"))
    return MentionData(
        platform=platform,
        external_id=_text(
            row.get("id", row.get("external_id")), named("id"), MAX_EXTERNAL_ID, required=True
        ),
        text=_text(row.get("text"), named("text"), MAX_TEXT, required=True),
        posted_at=parse_time(row.get("posted_at"), named("posted_at"), now=now),
        url=_url(row.get("url"), named("url")),
        author_handle=_text(author.get("handle"), named("author.handle"), MAX_HANDLE),
        author_name=_text(author.get("name"), named("author.name"), MAX_HANDLE),
        author_url=_url(author.get("url"), named("author.url")),
        author_followers=_count(author.get("followers"), named("author.followers"), default=None),
        author_verified=_flag(author.get("verified"), named("author.verified"), unread=unread),
        author_follows_brand=_flag(
            author.get("follows_brand"), named("author.follows_brand"), unread=unread
        ),
        language=language,
        likes=_count(row.get("likes"), named("likes")),
        reposts=_count(row.get("reposts"), named("reposts")),
        replies=_count(row.get("replies"), named("replies")),
        in_reply_to=_text(row.get("in_reply_to"), named("in_reply_to"), MAX_EXTERNAL_ID),
        reply_to_brand=bool(
            _flag(row.get("reply_to_brand"), named("reply_to_brand"), default=False, unread=unread)
        ),
    )


@dataclass
class LineError:
    line: int  # 1-based
    error: str


def _known_platform(row) -> bool:
    platform = row.get("platform") if isinstance(row, dict) else None
    return isinstance(platform, str) and platform in PLATFORMS


@dataclass
class Parsed:
    """An NDJSON body read: the good lines, the first MAX_LINE_ERRORS refused ones with
    their reasons, how many were refused in all, and how many non-blank lines there were."""

    mentions: list[MentionData] = dataclasses.field(default_factory=list)
    errors: list[LineError] = dataclasses.field(default_factory=list)
    refused: int = 0
    lines: int = 0


# A line ends at \r\n, \n or a lone \r (old Mac exports): JSON escapes all three inside a
# string, so none ends a line inside a post (U+2028, which str.splitlines also splits on,
# may stand unescaped in a JSON string: it is not an end of line here).
_LINE_BYTES = re.compile(rb"([^\r\n]*)(?:\r\n|\r|\n|\Z)")
_LINE_TEXT = re.compile(r"([^\r\n]*)(?:\r\n|\r|\n|\Z)")


def lines(data):
    """The lines of an NDJSON body (bytes) or file (str), one at a time (never split into
    a list: a body of millions of one-byte lines stays its own size)."""
    pattern = _LINE_BYTES if isinstance(data, bytes) else _LINE_TEXT
    position, end = 0, len(data)
    while position < end:
        match = pattern.match(data, position)
        yield match.group(1)
        position = match.end()


_LINE_END_TEXT = re.compile(r"\r\n?")


def line_feeds(text: str) -> str:
    r"""`text` with each of its line ends, as `lines` reads them (\r\n, \n or a lone \r:
    old Mac exports), written \n: the import's CSV reader reads it (a line break inside a
    quoted cell becomes \n too, whatever the file's own ends)."""
    return _LINE_END_TEXT.sub("\n", text) if "\r" in text else text


def count_lines(data: bytes) -> int:
    """How many line ends `data` holds, as `lines` reads them (without splitting it)."""
    return data.count(b"\n") + data.count(b"\r") - data.count(b"\r\n")


def parse_ndjson(data: bytes, *, now=None, max_errors=MAX_LINE_ERRORS) -> Parsed:
    """The lines of an NDJSON body (`lines`). Past `max_errors` refused lines, the others
    are counted, not described: no error object, no translated message."""
    parsed = Parsed()
    for number, raw in enumerate(lines(data), start=1):
        raw = raw.strip()
        if not raw:
            continue
        parsed.lines += 1
        described = parsed.refused < max_errors
        if not described and not raw.startswith(b"{"):
            parsed.refused += 1  # not an object: refused whatever it holds
            continue
        try:  # UTF-8 only (a leading BOM allowed): json.loads would guess UTF-16 from bytes
            row = json.loads(raw.decode("utf-8-sig"))
        except (ValueError, RecursionError):
            parsed.refused += 1
            if described:
                parsed.errors.append(LineError(number, _("Not valid JSON (or not UTF-8).")))
            continue
        if not described and not _known_platform(row):
            parsed.refused += 1  # `{}` and the like: refused without building the reason
            continue
        try:
            parsed.mentions.append(parse(row, now=now))
        except RowError as error:
            parsed.refused += 1
            if described:
                parsed.errors.append(LineError(number, str(error)))
    return parsed
