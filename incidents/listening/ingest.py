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

import dataclasses
import functools
import io
import json
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from django.utils import timezone, translation
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


def _count(value, field, *, default=0):
    if value is None or value == "":
        return default
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise RowError(_("%(field)s must be a whole number.") % {"field": field})
    try:
        number = int(value)
    except ValueError:
        raise RowError(_("%(field)s must be a whole number.") % {"field": field}) from None
    if not 0 <= number <= MAX_COUNT:
        raise RowError(_("%(field)s is out of range.") % {"field": field})
    return number


def _flag(value, field, *, default=None):
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false", "1", "0", "yes", "no"):
        return value.lower() in ("true", "1", "yes")
    raise RowError(_("%(field)s must be true or false.") % {"field": field})


_LANGUAGE = re.compile(r"[a-z]{2,3}")
# BCP 47's codes for "no one language": left empty, so that the ingest detects it.
_NO_LANGUAGE = frozenset({"und", "mul", "zxx", "mis"})


def language_code(value: str) -> str | None:
    """A language tag as stored: its primary subtag in lower case ("en-US", "fr_CA" ->
    "en", "fr"), "" for none (empty, "und"), None when it is not a language code ("∞",
    "english"). The one rule of the bulk API, the import and the connectors."""
    code = value.strip().replace("_", "-").split("-", 1)[0].lower()
    if code in _NO_LANGUAGE:
        return ""
    if not code:
        return "" if not value.strip() else None
    return code if code.isascii() and _LANGUAGE.fullmatch(code) else None


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
    (language_code), else a language's name ("English", "Français"). RowError otherwise."""
    tag = _text(value, field, 35)  # BCP 47's longest common tags fit
    code = language_code(tag)
    if code is None:
        code = language_from_name(tag)
    if code is None:
        raise RowError(
            _(
                "%(field)s “%(value)s” is not a language: give its code (such as fr, en or "
                "en-US) or its name (such as French, English or Français)."
            )
            % {"field": field, "value": tag[:20]}
        )
    return code


def parse_time(value, field="posted_at", *, now=None, future=False) -> datetime:
    """An ISO 8601 time with its zone ("2026-11-30T09:12:00Z", "...+01:00"); a time more
    than FUTURE_SLACK ahead is refused unless `future`."""
    if not isinstance(value, str) or not value.strip():
        raise RowError(_("%(field)s is required (ISO 8601 with a time zone).") % {"field": field})
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise RowError(
            _("%(field)s is not a date and time (ISO 8601, e.g. 2026-11-30T09:12:00Z).")
            % {"field": field}
        ) from None
    if moment.tzinfo is None:
        raise RowError(_("%(field)s needs a time zone (Z or +01:00).") % {"field": field})
    try:
        in_utc = moment.astimezone(UTC)
    except OverflowError:
        in_utc = None
    if in_utc is None or not EARLIEST <= in_utc <= LATEST:
        raise RowError(_("%(field)s is out of range.") % {"field": field})
    if not future and moment > (now or timezone.now()) + FUTURE_SLACK:
        raise RowError(_("%(field)s is in the future.") % {"field": field})
    return moment


def parse(row, *, now=None, names=None) -> MentionData:
    """One post as a dict (shape above) -> MentionData, or RowError. `names`: {field of the
    shape ("posted_at", "author.followers"): how the messages name it} (the import names
    the file's columns); the shape's own names otherwise."""

    def named(key):
        return names.get(key, key) if names else key

    if not isinstance(row, dict):
        raise RowError(_("Each line must be a JSON object."))
    platform = row.get("platform")
    if not isinstance(platform, str) or platform not in PLATFORMS:
        raise RowError(
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
        author_verified=_flag(author.get("verified"), named("author.verified")),
        author_follows_brand=_flag(author.get("follows_brand"), named("author.follows_brand")),
        language=language,
        likes=_count(row.get("likes"), named("likes")),
        reposts=_count(row.get("reposts"), named("reposts")),
        replies=_count(row.get("replies"), named("replies")),
        in_reply_to=_text(row.get("in_reply_to"), named("in_reply_to"), MAX_EXTERNAL_ID),
        reply_to_brand=bool(
            _flag(row.get("reply_to_brand"), named("reply_to_brand"), default=False)
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


def parse_ndjson(data: bytes, *, now=None, max_errors=MAX_LINE_ERRORS) -> Parsed:
    """The lines of an NDJSON body, read one at a time (never split into a list: a body of
    millions of one-byte lines stays its own size). Past `max_errors` refused lines, the
    others are counted, not described: no error object, no translated message."""
    parsed = Parsed()
    for number, raw in enumerate(io.BytesIO(data), start=1):
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
