"""The browser import (/listening/import/): a CSV, JSON (an array of objects) or NDJSON
export of a listening tool, read as a table, mapped column by column onto the one input
shape of ingest.parse (docs/api.md, "Mentions"), and stored by actions.mentions_ingest.

Nothing here writes: `read_table` reads the file (format told by its content, not its
name), `convert` turns each row into what ingest.parse accepts and returns what would be
stored and the refused rows with their line numbers. The page previews the first rows and
imports the same conversion, so the preview is what gets stored.
"""

import codecs
import csv
import functools
import hashlib
import io
import itertools
import json
import re
import unicodedata
import zoneinfo
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from datetime import timezone as fixed_offset
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from incidents.localtime import Occurrence, occurrences, shown
from incidents.models import Platform

from .ingest import (
    MAX_UTC_OFFSET,
    LineError,
    MentionData,
    RowError,
    UnknownPlatform,
    count_lines,
    iso_missing_day,
    iso_time,
    line_feeds,
    lines,
    missing_day,
    offset_written_right,
    parse,
    parse_time,
    time_out_of_range,
    unix_time,
)

MAX_ROWS = 50_000
MAX_COLUMNS = 200
# A column's name longer than this is no name: most likely the file has no header line and
# its first post was read as one (the page lists every name in each of its 17 selects).
MAX_COLUMN_NAME = 100
MAX_CELL = 20_000

CSV, JSON, NDJSON = "csv", "json", "ndjson"

# The fields of the input shape a column can fill: (key, label, required).
FIELDS = [
    ("platform", gettext_lazy("Platform"), True),
    ("id", gettext_lazy("Id on the platform"), True),
    ("text", gettext_lazy("Text"), True),
    ("posted_at", gettext_lazy("Posted at"), True),
    ("url", gettext_lazy("Link to the post"), False),
    ("author.handle", gettext_lazy("Author handle"), False),
    ("author.name", gettext_lazy("Author name"), False),
    ("author.url", gettext_lazy("Author profile"), False),
    ("author.followers", gettext_lazy("Author followers (reach)"), False),
    ("author.verified", gettext_lazy("Author verified"), False),
    # The reply queue answers the brand's followers first: keep it when an export has it.
    ("author.follows_brand", gettext_lazy("Author follows the brand (true/false)"), False),
    ("language", gettext_lazy("Language"), False),
    ("likes", gettext_lazy("Likes"), False),
    ("reposts", gettext_lazy("Reposts"), False),
    ("replies", gettext_lazy("Replies"), False),
    ("in_reply_to", gettext_lazy("In reply to (id)"), False),
    # Our own format carries it; the generic exports have no such column (left false).
    ("reply_to_brand", gettext_lazy("Reply to the brand (true/false)"), False),
]
FIELD_KEYS = [key for key, _label, _required in FIELDS]

# Column names looked for, per field, case-insensitively, first found wins. Generic: the
# names listening exports commonly use, not any one vendor's format. A tool's own
# sentiment column is not imported: ours is computed the same way for every source.
PRESETS = {
    "crisiscell": (
        gettext_lazy("Crisis Cell format (docs/api.md)"),
        {key: [key] for key in FIELD_KEYS} | {"id": ["id", "external_id"]},
    ),
    "generic": (
        gettext_lazy("Generic export (Date, Url, Author…)"),
        {
            "platform": [
                "platform",
                "source",
                "network",
                "site",
                "media type",
                "channel",
                "page type",
                "source type",
            ],
            "id": ["id", "post id", "mention id", "tweet id", "resource id", "url", "link"],
            # The whole text before an export's shortened one ("Snippet"), the title last.
            "text": ["content", "text", "full text", "message", "body", "snippet", "title"],
            "posted_at": ["date", "published", "published at", "created at", "time", "datetime"],
            "url": ["url", "link", "permalink", "post url"],
            "author.handle": ["author", "username", "handle", "screen name", "author handle"],
            "author.name": ["author name", "name", "full name", "display name"],
            "author.url": ["author url", "profile url", "author link", "user url", "profile"],
            "author.followers": [
                "followers",
                "reach",
                "audience",
                "author followers",
                "twitter followers",
                "followers count",
            ],
            # Not Brandwatch's "Author Verified Type" ("blue", "business"): no yes or no.
            "author.verified": ["verified", "author verified", "twitter verified"],
            "language": ["language", "lang"],
            "likes": ["likes", "favorites", "reactions", "twitter likes"],
            "reposts": ["reposts", "retweets", "shares", "twitter retweets"],
            "replies": ["replies", "comments", "twitter replies"],
        },
    ),
    "generic-fr": (
        gettext_lazy("French export (Date, Lien, Auteur…)"),
        {
            "platform": ["plateforme", "source", "réseau", "reseau", "média", "media"],
            "id": ["id", "identifiant", "lien", "url"],
            "text": ["contenu", "texte", "message", "extrait"],
            "posted_at": ["date", "date de publication", "publié le", "publie le"],
            "url": ["lien", "url"],
            "author.handle": ["auteur", "pseudo", "compte"],
            "author.name": ["nom", "nom de l'auteur"],
            "author.url": ["profil", "lien du profil", "url du profil"],
            "author.followers": ["abonnés", "abonnes", "audience", "portée", "portee"],
            "author.verified": ["vérifié", "verifie", "compte vérifié", "compte certifié"],
            "language": ["langue"],
            "likes": ["j'aime", "likes", "réactions", "reactions"],
            "reposts": ["partages", "reposts", "retweets"],
            "replies": ["réponses", "reponses", "commentaires"],
        },
    ),
}

# Platform names as exports write them -> ours.
PLATFORM_ALIASES = {"twitter": "x", "x (twitter)": "x", "x.com": "x", "fb": "facebook",
                    "ig": "instagram", "yt": "youtube", "news": "press", "web": "other",
                    "blog": "other", "forums": "forum", "presse": "press",
                    "online news": "press", "print": "press", "blogs": "other",
                    "reddit": "forum", "review": "other", "reviews": "other",
                    "bsky": "bluesky", "onlinenews": "press"}  # fmt: skip

# The times a date is read with, after a space: 24-hour, then 12-hour with AM/PM, each
# with or without seconds; or no time.
_TIMES = ["%H:%M:%S", "%H:%M", "%I:%M:%S %p", "%I:%M %p"]


def _patterns(day_month: str) -> list[str]:
    """The patterns of one date order (`day_month`: "%d/%m" or "%m/%d"): the same shapes
    in both orders, so that a date one order does not read is told to read in the other
    only when that one truly reads it (the 12-hour times of a day-first file were read
    month first alone, and the hint to switch swapped their days and months). Its second
    pattern is the one messages give as an example (31/12/2026 09:12)."""
    dotted, dashed = day_month.replace("/", "."), day_month.replace("/", "-")
    return [
        f"{dates} {time}" if time else dates
        for dates in (f"{day_month}/%Y", f"{dotted}.%Y", f"{dashed}-%Y")
        for time in (*_TIMES[:2], "", *_TIMES[2:])
    ]


DATE_ORDERS = {
    "dmy": (gettext_lazy("Day first (31/12/2026)"), _patterns("%d/%m")),
    "mdy": (gettext_lazy("Month first (12/31/2026)"), _patterns("%m/%d")),
}

# Month names as English and French exports write them, whole or cut short, read without
# case, accents or a final dot ("Dec", "déc.", "décembre", "Sept"): the folded name -> month.
_MONTHS = {
    name: month
    for month, names in enumerate(
        [
            "jan january janv janvier",
            "feb february febr fev fevr fevrier",
            "mar march mars",
            "apr april avr avril",
            "may mai",
            "jun june juin",
            "jul july juil juillet",
            "aug august aou aout",
            "sep sept september septembre",
            "oct october octobre",
            "nov november novembre",
            "dec december decembre",
        ],
        start=1,
    )
    for name in names.split()
}
# Weekdays as English and French exports write them, whole or cut short: the name (lower
# case) -> its number (Monday 0, as datetime.weekday gives it).
_WEEKDAY_NUMBERS = {
    name: number
    for number, names in enumerate(
        [
            "mon monday lun lundi",
            "tue tues tuesday mar mardi",
            "wed wednesday mer mercredi",
            "thu thur thurs thursday jeu jeudi",
            "fri friday ven vendredi",
            "sat saturday sam samedi",
            "sun sunday dim dimanche",
        ]
    )
    for name in names.split()
}
# The same, as a regular expression's alternatives.
_WEEKDAYS = "|".join(_WEEKDAY_NUMBERS)
# A date with its month by name: "3 Dec 2026", "3 déc. 2026", "1er décembre 2026",
# "03-Dec-2026", "Dec 3, 2026", "December 3rd 2026", a weekday first or not ("Thu, 3 Dec
# 2026"), then a time or not ("09:12", "9:12 PM", after "," "at" or "à"), then a zone or
# not ("+0100", "+01:00", "Z", "UTC", "GMT": RSS's RFC 822 dates).
_MONTH_NAMED = re.compile(
    rf"(?:(?P<weekday>{_WEEKDAYS})\.?,?\s+)?"
    r"(?:(?P<day>\d{1,2})(?:er)?[\s-]+(?P<month>[^\W\d_]+)\.?[\s-]+"
    r"|(?P<month_first>[^\W\d_]+)\.?[\s-]+(?P<day_after>\d{1,2})(?:st|nd|rd|th)?,?[\s-]+)"
    r"(?P<year>\d{4})"
    r"(?:,?\s+(?:at\s+|à\s+)?(?P<time>\d{1,2}:\d\d(?::\d\d)?(?:\s*[ap]\.?m\.?)?))?"
    r"(?:\s*(?P<zone>z|utc|gmt|[+-]\d\d:?\d\d))?",
    re.IGNORECASE,
)


def _month_named(value: str) -> datetime | None:
    """A date with its month written by name (_MONTH_NAMED), naive unless it gives a zone;
    None when it is not one. No day/month order to choose: the name says which is which."""
    found = _MONTH_NAMED.fullmatch(value.strip()) if len(value) <= 64 else None
    if not found:
        return None
    name = unicodedata.normalize("NFKD", found["month"] or found["month_first"])
    month = _MONTHS.get("".join(c for c in name if c.isascii()).lower())
    if month is None:
        return None
    # "9:12pm", "9:12 p.m." as _TIMES read them ("9:12 PM").
    time = re.sub(r"\s*([AP])M$", r" \1M", (found["time"] or "00:00").replace(".", "").upper())
    for pattern in _TIMES:
        try:
            clock = datetime.strptime(time, pattern)
            break
        except ValueError:
            continue
    else:
        return None
    day = int(found["day"] or found["day_after"])
    try:
        moment = datetime(int(found["year"]), month, day, clock.hour, clock.minute, clock.second)
    except ValueError:
        return None
    zone = (found["zone"] or "").upper()
    if zone in ("Z", "UTC", "GMT"):
        return moment.replace(tzinfo=UTC)
    if zone:
        if not offset_written_right(zone):
            return None
        sign = -1 if zone[0] == "-" else 1
        offset = timedelta(hours=int(zone[1:3]), minutes=int(zone[-2:]))
        if offset > MAX_UTC_OFFSET:
            return None
        return moment.replace(tzinfo=fixed_offset(sign * offset))
    return moment


def _without_order(value: str) -> datetime | None:
    """A date whose reading needs no day/month order: ISO 8601 (ingest.iso_time, the bulk
    API's reading) or with its month by name (_month_named). None otherwise. The one rule
    of reading a date (_read_date) and of what tells a file's order (guess_date_order)."""
    moment = iso_time(value)
    return moment if moment is not None else _month_named(value)


class FileError(ValueError):
    """The file cannot be read as a table; str(error) says why."""


class MissingColumns(FileError):
    """Required fields no column fills (`keys`); `explain` says the ways out."""

    def __init__(self, keys: list[str]):
        self.keys = keys
        super().__init__(self.explain(""))

    @property
    def platform(self) -> bool:
        """The platform is one: it may also be chosen for the whole file."""
        return "platform" in self.keys

    def explain(self, whole_file: str) -> str:
        """The message, naming the select of the whole file's platform by its label
        `whole_file` (the form's) when the platform is missing."""
        labels = ", ".join(str(label) for key, label, _r in FIELDS if key in self.keys)
        if not self.platform or not whole_file:
            return _("Choose a column for: %(f)s.") % {"f": labels}
        if self.keys == ["platform"]:
            return _(
                "No column is chosen for the platform: choose the column that gives it "
                "(“%(field)s”), or the platform of the whole file in “%(select)s”."
            ) % {"field": labels, "select": whole_file}
        return _(
            "Choose a column for: %(f)s. For the platform you may instead choose the "
            "platform of the whole file in “%(select)s”."
        ) % {"f": labels, "select": whole_file}


@dataclass
class Table:
    format: str
    columns: list[str]
    rows: list[tuple[int, dict]]  # (line or item number, {column: value})
    encoding: str = "utf-8"  # one of ENCODINGS' keys
    # A CSV row written over several lines: its first line -> its last (a line break in a
    # quoted cell, or a quote left open that swallowed the lines after it).
    ends: dict[int, int] = field(default_factory=dict)
    # Such a row's first line -> (the line its quoted cell opens on, the lines that cell
    # holds after it, each read as a row of its own: [(line, {column: value}, whether it
    # has as many cells as the header)]).
    spans: dict[int, tuple[int, list[tuple[int, dict, bool]]]] = field(default_factory=dict)
    # The lines above the header that are no part of the table (an export's report title,
    # query and dates: _title_lines), skipped: [(line, its cells as the page names them)],
    # a blank line among them with "" (the page names it too: the lines it counts are the
    # file's).
    skipped: list[tuple[int, str]] = field(default_factory=list)
    header_line: int = 1  # the line that names the columns (CSV)
    # Line 1 is Excel's separator line ("sep=;"), first of `skipped` when it holds any: a
    # note that names the lines above the column names counts it with them.
    separator_line: bool = False

    @property
    def skipped_note(self) -> str:
        """What the page says of the lines skipped above the column names ("" when none):
        how many (blank ones too), and the first SKIPPED_NAMED of them, each with its line
        number, blank lines next to each other named together ("2 blank lines (lines 3
        to 4)", with an en dash)."""
        if not self.skipped:
            return ""
        parts = []  # [[first line, last line, text]]
        for line, text in self.skipped:
            if not text and parts and not parts[-1][2] and parts[-1][1] + 1 == line:
                parts[-1][1] = line
            else:
                parts.append([line, line, text])
        named = ", ".join(
            _("the separator line “%(text)s” (line 1)") % {"text": text}
            if self.separator_line and first == 1
            else _skipped_part(first, last, text)
            for first, last, text in parts[:SKIPPED_NAMED]
        )
        if len(parts) > SKIPPED_NAMED:
            named += "…"
        return ngettext(
            "Skipped %(n)s line above the column names (line %(header)s), no part of the "
            "table: %(lines)s.",
            "Skipped %(n)s lines above the column names (line %(header)s), no part of the "
            "table: %(lines)s.",
            len(self.skipped),
        ) % {"n": len(self.skipped), "header": self.header_line, "lines": named}


# The lines skipped above the column names the page names (the others counted).
SKIPPED_NAMED = 5


def _skipped_part(first: int, last: int, text: str) -> str:
    """A line skipped above the column names as the page names it, or blank lines next to
    each other (`text` ""), with their line numbers."""
    if text:
        return _("“%(text)s” (line %(n)s)") % {"text": text, "n": first}
    if first == last:
        return _("a blank line (line %(n)s)") % {"n": first}
    return ngettext(
        "%(count)s blank line (lines %(lines)s)",
        "%(count)s blank lines (lines %(lines)s)",
        last - first + 1,
    ) % {"count": last - first + 1, "lines": f"{first}\u2013{last}"}


UTF8, UTF16, WINDOWS_1252 = "utf-8", "utf-16", "windows-1252"
# How a file's text was read, said on the page when it is not UTF-8.
ENCODINGS = {
    UTF8: "",
    UTF16: gettext_lazy("Read as UTF-16 text (Excel's “Unicode text”)."),
    WINDOWS_1252: gettext_lazy("Read as Windows-1252 text (Excel's usual CSV on Windows)."),
}
# Encodings told by elimination, not by the file: the page asks to check the accents of
# the preview (when there is one to check).
GUESSED = {WINDOWS_1252}


# A character of two to four bytes as UTF-8 writes it: in a file that is not UTF-8 only,
# proof that part of it is (Windows-1252 text almost never holds one).
_UTF8_SEQUENCE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)


def _decode(data: bytes) -> tuple[str, str]:
    """(text, encoding): UTF-16 when the file starts with its byte order mark or its first
    characters are ASCII with a NUL byte beside each, else UTF-8, else Windows-1252 (French
    Excel's "CSV (séparateur: point-virgule)"), which every file of accented Western text
    decodes to; its five unassigned bytes say it is neither. A file that is UTF-8 but for
    some lines (rows pasted from elsewhere) is refused, naming the first such line: read as
    Windows-1252, all its other accents would be garbled. A binary file (a workbook, an
    archive...) is refused first, saying what to upload instead (_refuse_binary). Raises
    FileError."""
    _refuse_binary(data)
    utf16 = _utf16_codec(data)
    if utf16:
        try:
            return data.decode(utf16), UTF16
        except UnicodeDecodeError:
            raise FileError(_("The file is not valid UTF-16 text: export it as UTF-8.")) from None
    try:
        return data.decode("utf-8-sig"), UTF8
    except UnicodeDecodeError as error:
        if _UTF8_SEQUENCE.search(data):
            line = count_lines(data[: error.start]) + 1
            raise FileError(
                _(
                    "Line %(n)s is not UTF-8 text while the rest of the file is: correct "
                    "that line (or export the whole file as UTF-8 again)."
                )
                % {"n": line}
            ) from None
    try:
        return data.decode("cp1252"), WINDOWS_1252
    except UnicodeDecodeError:
        raise FileError(
            _("The file is not UTF-8 or Windows-1252 text: export it as UTF-8.")
        ) from None


# What binary files uploaded instead of an export start with, and what to say of each.
_ZIP = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")  # .xlsx, .ods, .numbers, .zip
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # Excel 97-2003's .xls (and .doc)
_ARCHIVES = (
    b"\x1f\x8b",  # gzip
    b"BZh91AY&SY",  # bzip2 (its usual block size: "BZh" alone could start a header)
    b"\xfd7zXZ\x00",  # xz
    b"7z\xbc\xaf\x27\x1c",  # 7-Zip
    b"Rar!\x1a\x07",  # RAR
    b"\x28\xb5\x2f\xfd",  # Zstandard
)
# Control characters no text export holds (tab, line feed, carriage return and form feed
# aside); more than BINARY_SHARE of the first BINARY_SAMPLE bytes and the file is binary.
_CONTROL = bytes(set(range(32)) - {9, 10, 12, 13})
BINARY_SAMPLE = 8192
BINARY_SHARE = 0.05


def _refuse_binary(data: bytes) -> None:
    """FileError when `data` is a binary file (a workbook, an archive, a PDF, an image...),
    told by its content, whatever its name: saying what to upload instead, where reading it
    as text would say it "is not UTF-8". A UTF-16 file (its NUL bytes are half its text)
    is text."""
    if data.startswith(_ZIP):
        raise FileError(
            _(
                "This is a spreadsheet workbook (.xlsx, .ods) or a zip archive, not a text "
                "export: save it as CSV (UTF-8) in your spreadsheet, or take the export out "
                "of the archive, then upload that file."
            )
        )
    if data.startswith(_OLE2):
        raise FileError(
            _(
                "This is an Excel 97-2003 workbook (.xls), not a text export: open it in "
                "Excel, save it as “CSV UTF-8 (comma delimited)”, then upload that file."
            )
        )
    if data.startswith(_ARCHIVES):
        raise FileError(
            _(
                "This is a compressed archive (gzip, zip, 7z…), not a text export: "
                "uncompress it, then upload the CSV, JSON or NDJSON file it holds."
            )
        )
    if data.startswith(b"%PDF-"):
        raise FileError(
            _(
                "This is a PDF document, not a text export: export the mentions from your "
                "listening tool as CSV (UTF-8), JSON or NDJSON, then upload that file."
            )
        )
    if _utf16_codec(data):
        return
    sample = data[:BINARY_SAMPLE]
    controls = len(sample) - len(sample.translate(None, _CONTROL))
    if b"\x00" in data or controls > len(sample) * BINARY_SHARE:
        raise FileError(
            _(
                "This is not a text export (it holds binary data, as a workbook, an archive "
                "or an image does): export the mentions as CSV (UTF-8), JSON or NDJSON, then "
                "upload that file."
            )
        )


def _utf16_codec(data: bytes) -> str:
    """ "utf-16" (its byte order mark says the order), "utf-16-le" or "utf-16-be" (no mark,
    but the first characters ASCII each with a NUL byte beside it), else ""."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    head = data[:200]
    if len(head) >= 4 and len(head) % 2 == 0:
        if not head[1::2].strip(b"\x00") and head[0::2].isascii() and b"\x00" not in head[0::2]:
            return "utf-16-le"
        if not head[0::2].strip(b"\x00") and head[1::2].isascii() and b"\x00" not in head[1::2]:
            return "utf-16-be"
    return ""


def _flatten(item: dict) -> dict:
    """{"author": {"handle": "a"}} -> {"author.handle": "a"} (one level, as the shape)."""
    flat = {}
    for key, value in item.items():
        if isinstance(value, dict):
            for sub, inner in value.items():
                flat[f"{key}.{sub}"] = inner
        else:
            flat[str(key)] = value
    return flat


def _columns(rows) -> list[str]:
    """The keys of the first 200 objects, in order of appearance (each a column), within
    MAX_COLUMNS and MAX_COLUMN_NAME (FileError)."""
    seen = {}
    for _number, row in rows[:200]:
        for key in row:
            seen.setdefault(key, None)
    columns = list(seen)
    if len(columns) > MAX_COLUMNS:
        raise FileError(
            _(
                "The objects hold %(n)s different keys: at most %(max)s are read. Remove "
                "the keys you do not need, then upload the file again."
            )
            % {"n": _grouped(len(columns)), "max": MAX_COLUMNS}
        )
    for key in columns:
        if len(key) > MAX_COLUMN_NAME:
            raise FileError(
                _(
                    "A key of the objects is %(n)s characters long (at most %(max)s): “%(key)s”. "
                    "Shorten it, then upload the file again."
                )
                % {"n": _grouped(len(key)), "max": MAX_COLUMN_NAME, "key": Truncator(key).chars(40)}
            )
    return columns


_DECODER = json.JSONDecoder()
_SPACE = re.compile(r"[ \t\n\r]*")


def _json_items(text: str):
    """The items of the JSON array `text` (which starts with "["), decoded one at a time,
    so that the reader can stop at MAX_ROWS as the CSV and NDJSON readers do: a whole-file
    json.loads of ten million `0,` built them all first (+670 MB). ValueError when the text
    is not one JSON array."""
    position = _SPACE.match(text, text.index("[") + 1).end()
    if text.startswith("]", position):
        position += 1
    else:
        while True:
            item, position = _DECODER.raw_decode(text, position)
            yield item
            position = _SPACE.match(text, position).end()
            if text.startswith(",", position):
                position = _SPACE.match(text, position + 1).end()
            elif text.startswith("]", position):
                position += 1
                break
            else:
                raise ValueError("expected , or ]")
    if text[position:].strip(" \t\n\r"):
        raise ValueError("extra data after the array")


def read_table(data: bytes) -> Table:
    """The file as a table: JSON when it starts with "[", NDJSON with "{", CSV otherwise
    (delimiter sniffed among , ; tab |); its encoding as _decode says. Raises FileError."""
    text, encoding = _decode(data)
    table = _read(text)
    table.encoding = encoding
    return table


def _read(text: str) -> Table:
    if "\x00" in text:
        raise FileError(_("The file holds binary data: export it as CSV, JSON or NDJSON."))
    head = text.lstrip()[:1]
    if head == "[":
        rows = []
        try:
            for number, item in enumerate(_json_items(text), start=1):
                rows.append((number, _flatten(item) if isinstance(item, dict) else {}))
                if len(rows) > MAX_ROWS:
                    break
        except (ValueError, RecursionError):
            raise FileError(_("The file starts like JSON but is not valid JSON.")) from None
        return _bounded(Table(JSON, _columns(rows), rows))
    if head == "{":
        rows = []
        for number, line in enumerate(lines(text), start=1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except (ValueError, RecursionError):
                item = None
            rows.append((number, _flatten(item) if isinstance(item, dict) else {}))
            if len(rows) > MAX_ROWS:
                break
        return _bounded(Table(NDJSON, _columns(rows), rows))
    return _bounded(_read_csv(text))


# The line Excel reads a CSV's separator from ("sep=;"), written first by some exports:
# as tools write it, spaces around it or its separator ("sep = ; "), quoted ("\"sep=;\"").
_SEPARATOR_LINE = re.compile(r'[ \t]*"?[ \t]*sep[ \t]*=([^\n]*?)"?[ ]*(?:\n|\Z)', re.IGNORECASE)
# The separators it may name, and the ones the sniffer guesses among when it names none.
SEPARATORS = (",", ";", "\t", "|")


def _separator_line(text: str) -> str:
    """The separator a first line "sep=…" names ("" when the file has no such line). One
    this import does not read is refused naming line 1 (read as the column names, it gave
    "No columns found")."""
    hint = _SEPARATOR_LINE.match(text)
    if not hint:
        return ""
    written = hint[1].strip(' "')
    # A tab is the separator, not a space around it ("sep=\t").
    separator = written.strip("\t") or written
    if separator in SEPARATORS:
        return separator
    raise FileError(
        _(
            "Line 1 (“%(line)s”) names a separator this import does not read: it reads a "
            "comma, a semicolon, a tab or a vertical bar (sep=, sep=; sep=|). Correct that "
            "line or delete it, then upload the file again."
        )
        % {"line": Truncator(hint[0].strip()).chars(40)}
    )


def _read_csv(text: str) -> Table:
    # Every line end read as the NDJSON reader reads it (ingest.lines): a file of lone \r
    # (old Mac exports) reads as one of \r\n or \n, and a line break in a quoted cell is
    # \n whatever the file's own ends.
    text = line_feeds(text)
    # Whole lines only (a line cut short has fewer cells than the others), enough to hold
    # the widest header read (MAX_COLUMNS names of MAX_COLUMN_NAME characters) and rows.
    sample = text[:60_000]
    if len(text) > len(sample) and "\n" in sample:
        sample = sample[: sample.rindex("\n")]
    # Only the delimiter is guessed; the rest is RFC 4180 (Excel's, every export's): the
    # sniffer also guessed `doublequote` off for a text holding ""quotes"" over several
    # lines, and split that post into broken rows. Excel's "sep=;" first line says it.
    hint = _separator_line(text)
    dialect = _dialect(hint or _sniffed(sample))
    csv.field_size_limit(MAX_CELL * 2)
    if hint:
        # Blanked, not cut: the lines keep the numbers the file gives them (and a quote
        # the line opens cannot swallow the lines below it).
        separator = _SEPARATOR_LINE.match(text)[0]
        text = "\n" + text[len(separator) :]
    titles = _title_lines(text, dialect, skip=1 if hint else 0)
    reader = csv.reader(io.StringIO(text), dialect)
    try:
        if hint:
            next(reader)
        for _title in titles:
            next(reader)
        header = next(reader)
    except StopIteration:
        raise FileError(_("The file is empty.")) from None
    except csv.Error as error:
        if _too_long(error):
            raise FileError(
                _(
                    "The first line holds a cell longer than %(max)s characters: it must name "
                    "the columns. Add a header line (or close the quote left open in it), "
                    "then upload the file again."
                )
                % {"max": _grouped(MAX_CELL * 2)}
            ) from None
        raise _not_csv(reader.line_num or 1) from None
    # A title line Excel padded to the table's width ("Export;;;;") names one column too.
    if sum(1 for name in header if name.strip()) < 2:
        raise _no_columns(reader)
    header = _unique_names(_bounded_header([name.strip() for name in header]))
    rows, line, ends, spans = [], reader.line_num, {}, {}
    header_line = line
    try:
        for values in reader:
            start, line = line + 1, reader.line_num
            if not any(v.strip() for v in values):
                continue
            rows.append((start, dict(zip(header, values, strict=False))))
            if line > start:
                ends[start] = line
                spans[start] = _span(start, values, header, dialect)
            if len(rows) > MAX_ROWS:
                break
    except csv.Error as error:
        if _too_long(error):
            raise FileError(
                _(
                    "Line %(n)s holds a cell longer than %(max)s characters: is a quote left "
                    "open above it? Close it (or shorten the cell), then upload the file again."
                )
                % {"n": reader.line_num, "max": _grouped(MAX_CELL * 2)}
            ) from None
        raise _not_csv(reader.line_num) from None
    skipped = [(line, _title_text(values)) for line, values in titles]
    if not any(text for _line, text in skipped):
        skipped = []  # blank lines alone above the header: nothing to tell
    elif hint:  # counted, so that the lines named add up to the column names' line
        skipped.insert(0, (1, Truncator(separator.strip()).chars(TITLE_SHOWN)))
    return Table(
        CSV,
        header,
        rows,
        ends=ends,
        spans=spans,
        skipped=skipped,
        header_line=header_line,
        separator_line=bool(skipped and hint),
    )


# How many lines after a first line of one name are looked at for the column names.
HEADER_SEARCH = 20


@functools.cache
def _known_names() -> frozenset[str]:
    """Every column name a preset looks for, as _column_key writes it."""
    return frozenset(
        _column_key(name)
        for _label, names in PRESETS.values()
        for column_names in names.values()
        for name in column_names
    )


def _known(values: list[str]) -> int:
    """How many cells of a line are column names a preset knows ("Date", "Url")."""
    return len({_column_key(v) for v in values if v.strip()} & _known_names())


def _dialect(delimiter: str):
    return type("Sniffed", (csv.excel,), {"delimiter": delimiter})


def _sniffed(sample: str) -> str:
    """The separator of a CSV without Excel's "sep=" line: the sniffer's guess among
    SEPARATORS ("," when it has none), unless its column names, found below any title
    lines (_title_lines), are no names the presets know while another separator's are: a
    title written with another separator than the table's ('"Export";"Brand24"' above a
    table of "|") made the sniffer read the whole file with the title's."""
    try:
        guess = csv.Sniffer().sniff(sample, delimiters="".join(SEPARATORS)).delimiter
    except csv.Error:
        guess = ","
    if _header_known(sample, guess) >= 2:
        return guess
    known = {delimiter: _header_known(sample, delimiter) for delimiter in SEPARATORS}
    best = max(SEPARATORS, key=lambda delimiter: known[delimiter])
    return best if known[best] >= 2 else guess


def _header_known(sample: str, delimiter: str) -> int:
    """How many column names the presets know the header holds, read with `delimiter`
    below the title lines it leaves (_title_lines)."""
    dialect = _dialect(delimiter)
    titles = _title_lines(sample, dialect, skip=0)
    rows = csv.reader(io.StringIO(sample), dialect)
    try:
        return _known(next(itertools.islice(rows, len(titles), None)))
    except (StopIteration, csv.Error):
        return 0


def _title_lines(text: str, dialect, *, skip: int) -> list[tuple[int, list[str]]]:
    """The lines above the column names that are no part of the table: an export's report
    title, query and dates ("Report:","Demo Kettles"), however many cells each has. [(line,
    cells)], empty when the first line (after `skip` lines: Excel's "sep=" line) names the
    columns. A later line among the next HEADER_SEARCH names them instead when
    - it holds at least two column names the presets know, and more than twice as many as
      the first line does: a header with columns of its own beside known ones ("Date,Url,My
      notes") stays the header;
    - every line above it reads as a title: it fills fewer cells than that line does (a
      title line padded with empty cells, "Report: X,,,,", fills one); a header of names no
      preset knows ("When,Who,What") fills as many as its rows, and stays the header;
    - none of its cells reads as a value (_reads_as_value: a date, a number, a URL): it is
      a row of posts whose cells happen to be column names ("…,alice,text,site");
    - no line above it of three names or more (a header, "When,Who,What") has the cells of
      the line below it while it has not, or is above it when nothing follows it: it is a
      malformed row of that header's table (a cell too many: "alice,Hi,text,site"), not a
      header of no rows.
    When no line names known columns, the first line is the header (a first line of one
    name or none: _no_columns)."""
    reader = csv.reader(io.StringIO(text), dialect)
    found = []
    try:
        for _skipped in range(skip):
            next(reader)
        start = reader.line_num + 1
        for values in itertools.islice(reader, HEADER_SEARCH + 1):
            found.append((start, values))
            start = reader.line_num + 1
    except (StopIteration, csv.Error):
        pass  # the reader proper says what it cannot read
    if len(found) < 2:
        return []
    counts = [_known(values) for _line, values in found]
    best = max(range(1, len(found)), key=lambda index: counts[index])
    if counts[best] < 2 or counts[best] <= 2 * counts[0]:
        return []
    header = found[best][1]
    filled = _filled(header)
    if any(_filled(values) >= filled for _line, values in found[:best]):
        return []
    if any(_reads_as_value(value) for value in header):
        return []
    below = next((values for _line, values in found[best + 1 :] if _filled(values)), None)
    ended = len(found) <= HEADER_SEARCH  # the file ends within the lines read
    for _line, values in found[:best]:
        if _filled(values) < 3:
            continue
        if below is None and ended:
            return []
        if below is not None and len(below) == len(values) != len(header):
            return []
    return found[:best]


def _filled(values: list[str]) -> int:
    """How many cells of a line hold something."""
    return sum(1 for value in values if value.strip())


# A number as a cell of a row writes it ("12", "-3.5", "1,200", "45%").
_NUMBER = re.compile(r"[-+]?\d+(?:[.,\s]\d+)*%?")


def _reads_as_value(value: str) -> bool:
    """Whether a cell reads as a row's value, never a column's name: a date (in ISO 8601,
    with its month by name or in numbers), a number or a URL."""
    value = value.strip()
    if not value:
        return False
    if _NUMBER.fullmatch(value) or re.match(r"(?:https?://|www\.)", value, re.IGNORECASE):
        return True
    return _without_order(value) is not None or any(
        _by_order(value, order) is not None for order in DATE_ORDERS
    )


# A skipped title line as the preview names it: its cells, at most this long.
TITLE_SHOWN = 80


def _title_text(values: list[str]) -> str:
    """A title line as the page names it: its non-blank cells, one space between."""
    return Truncator(" ".join(v.strip() for v in values if v.strip())).chars(TITLE_SHOWN)


def _no_columns(reader) -> FileError:
    """A first line of one name or none: a file without a header line, or an export that
    writes its report's title, query and dates above the column names. Names the first of
    the next HEADER_SEARCH lines that holds three names or more, as the line to keep."""
    start = reader.line_num + 1
    try:
        for values in itertools.islice(reader, HEADER_SEARCH):
            if sum(1 for value in values if value.strip()) >= 3:
                return FileError(
                    _(
                        "The first line names no columns, but line %(n)s looks like the "
                        "column names: delete the lines above it, then upload the file again."
                    )
                    % {"n": start}
                )
            start = reader.line_num + 1
    except csv.Error:
        pass
    return FileError(_("No columns found: the first line must name them (CSV with a header)."))


def _not_csv(line: int) -> FileError:
    """A line the csv module cannot read, said in our words (never its own: "new-line
    character seen in unquoted field - do you need to open the file in universal-newline
    mode?")."""
    return FileError(
        _(
            "Line %(n)s cannot be read as CSV: check its quotes (a cell holding the "
            "separator, a quote or a line break is written between double quotes, and each "
            "quote inside it is written twice), then upload the file again."
        )
        % {"n": line}
    )


def _grouped(n: int) -> str:
    """A count in a message, grouped as the reader's language writes it (39,001; 39 001)."""
    return number_format(n, force_grouping=True)


def _too_long(error: csv.Error) -> bool:
    """Whether the csv module refused a cell past its field_size_limit."""
    return str(error).startswith("field larger than field limit")


def _bounded_header(header: list[str]) -> list[str]:
    """A CSV's header within MAX_COLUMNS (blank names at its end past it left out: a
    spreadsheet writes them for formatted empty columns) and MAX_COLUMN_NAME, else
    FileError: a name longer than a name is most likely the first post of a file without
    a header line."""
    while len(header) > MAX_COLUMNS and not header[-1]:
        header.pop()
    if len(header) > MAX_COLUMNS:
        raise FileError(
            _(
                "The file has %(n)s columns: at most %(max)s are read. Remove the columns "
                "you do not need, then upload the file again."
            )
            % {"n": _grouped(len(header)), "max": MAX_COLUMNS}
        )
    for position, name in enumerate(header, start=1):
        if len(name) > MAX_COLUMN_NAME:
            raise FileError(
                _(
                    "The name of column %(column)s is %(n)s characters long (at most "
                    "%(max)s): “%(name)s”. The first line must name the columns: add a "
                    "header line, or shorten that name, then upload the file again."
                )
                % {
                    "column": position,
                    "n": _grouped(len(name)),
                    "max": MAX_COLUMN_NAME,
                    "name": Truncator(name).chars(40),
                }
            )
    return header


def _span(start: int, values: list[str], header: list[str], dialect):
    """A row written over several lines: (the line its quoted cell opens on, the lines that
    cell holds after it, each read as a row of its own, and whether it has a row's shape:
    as many cells as the header, of three columns or more). The cell is the one holding
    the most line breaks (a quote left open swallows every line up to the next quote)."""
    breaks = [value.count("\n") for value in values]
    cell = breaks.index(max(breaks))
    opens = start + sum(breaks[:cell])
    held = []
    for offset, text in enumerate(values[cell].split("\n")[1:], start=1):
        if text.strip():
            try:
                cells = next(csv.reader([text], dialect), [])
            except csv.Error:
                cells = []
            shaped = len(header) > 2 and len(cells) == len(header)
            held.append((opens + offset, dict(zip(header, cells, strict=False)), shaped))
    return opens, held


def _unique_names(header: list[str]) -> list[str]:
    """A CSV's column names, each one choosable: a blank one is "Column 3", a repeated one
    "Date (2)" (a row read by name kept only the last of two "Date" columns)."""
    names, seen = [], set()
    for position, name in enumerate(header, start=1):
        name = name or _("Column %(n)s") % {"n": position}
        shown, copy = name, 1
        while shown in seen:
            copy += 1
            shown = f"{name} ({copy})"
        seen.add(shown)
        names.append(shown)
    return names


def _bounded(table: Table) -> Table:
    if not table.rows:
        raise FileError(_("The file holds no row to import."))
    if len(table.rows) > MAX_ROWS:
        raise FileError(
            _("The file holds more than %(n)s rows: split it, or use the bulk API.")
            % {"n": f"{MAX_ROWS:,}"}
        )
    return table


def _column_key(name: str) -> str:
    """A column's name as the presets write theirs: "Source_Type", "source type" alike."""
    return " ".join(name.replace("_", " ").split()).lower()


def guess_preset(columns) -> str:
    """The preset naming the most of these columns."""
    lowered = {_column_key(c) for c in columns}

    def score(name):
        return sum(
            any(_column_key(c) in lowered for c in names) for names in PRESETS[name][1].values()
        )

    return max(PRESETS, key=score)


def guess_mapping(columns, preset: str) -> dict[str, str]:
    """{field: column} for the fields whose preset names match a column."""
    by_lower = {}
    for column in columns:
        by_lower.setdefault(_column_key(column), column)
    mapping = {}
    for key, names in PRESETS[preset][1].items():
        for name in names:
            if _column_key(name) in by_lower:
                mapping[key] = by_lower[_column_key(name)]
                break
    return mapping


@dataclass
class Options:
    mapping: dict[str, str]  # field -> column ("" not mapped)
    platform: str = ""  # used when no column gives the platform, or the cell is empty
    zone: str = "UTC"  # for dates without a zone
    date_order: str = "dmy"
    # A row whose platform is none of ours ("Tumblr") imported as "other", not refused.
    unknown_as_other: bool = False

    def fingerprint(self) -> str:
        """What the preview was made with: the import carries it and is refused when the
        choices it is sent with differ (changed after the preview, not previewed again)."""
        mapping = {key: column for key, column in self.mapping.items() if column}
        chosen = [mapping, self.platform, self.zone, self.date_order, self.unknown_as_other]
        return hashlib.sha256(json.dumps(chosen, sort_keys=True).encode()).hexdigest()[:32]


def zone_or_error(name: str) -> ZoneInfo:
    """The zone named `name` (IANA, "Europe/Paris"). FileError otherwise, suggesting the
    zones whose city is what was typed ("Paris", "new york")."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        pass
    unknown = _("Unknown time zone “%(z)s”.") % {"z": name[:60]}
    close = _zones_named(name)
    if close:
        unknown += " " + _("Did you mean %(zones)s?") % {"zones": ", ".join(close)}
    raise FileError(unknown)


def _zones_named(typed: str) -> list[str]:
    """At most 3 zones whose name or city is `typed`, whatever the case ("Paris" ->
    Europe/Paris)."""
    city = "_".join(typed.split()).casefold()
    if not city or len(city) > 60:
        return []
    return sorted(
        zone
        for zone in _zone_names()
        if zone.casefold() == city or zone.casefold().rsplit("/", 1)[-1] == city
    )[:3]


@functools.cache
def _zone_names() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def _time(value, zone, date_order, field, latest=None) -> str:
    """A cell's date as ISO 8601 with a zone: a Unix time (ingest.unix_time), aware as
    given, naive in `zone` (_in_zone). `field`: how messages name its column; a time after
    `latest` is refused (_after_now)."""
    naive = None
    moment = unix_time(value, field)
    if moment is None:
        value = str(value if value is not None else "").strip()
        if not value:
            raise RowError(_("%(field)s is required.") % {"field": field})
        moment = _read_date(value, date_order)
        if moment.tzinfo is None:
            naive = moment
            moment = _in_zone(naive, zone, value, field)
    # The one rule for the range (and the zone) is the ingest's: checked here so the
    # preview shows the refusal, not the import.
    moment = parse_time(moment, field, future=True)
    if latest is not None and moment > latest:
        raise RowError(_after_now(moment, naive, latest, field, zone))
    return moment.isoformat()


def _in_zone(naive: datetime, zone, written: str, field) -> datetime:
    """A time written without a zone, read in `zone`. One the clocks skipped there (the
    spring-forward night) or showed twice (the autumn night) is refused: never moved nor
    guessed (incidents.localtime's rule), as the file cannot say which of the two it was:
    the row says what to write instead, its own time with either offset (_with_offsets)."""
    try:
        found = occurrences(naive, zone)
    except OverflowError:
        raise time_out_of_range(field) from None
    if len(found) == 1:
        return found[0].instant
    first, second = _with_offsets(naive, zone)
    first_name, second_name = _offset_names(naive, zone)
    values = {
        "field": field,
        "value": written[:40],
        "zone": zone.key,
        "first": first,
        "second": second,
        "first_name": first_name,
        "second_name": second_name,
    }
    if not found:
        # What each offset makes of it: the time the clocks showed at that instant.
        first_clock, second_clock = (
            datetime.fromisoformat(offset)
            .astimezone(zone)
            .time()
            .isoformat(timespec="seconds" if naive.second else "minutes")
            for offset in (first, second)
        )
        raise RowError(
            _(
                "%(field)s “%(value)s” did not exist in the %(zone)s time zone (the clocks "
                "went forward that night): are the file's times in another zone? Choose the "
                "zone they are written in, or write this time with its UTC offset in the "
                "file: %(first)s (%(first_name)s, which the clocks showed as %(first_clock)s) "
                "or %(second)s (%(second_name)s, which the clocks showed as %(second_clock)s)."
            )
            % {**values, "first_clock": first_clock, "second_clock": second_clock}
        )
    raise RowError(
        _(
            "%(field)s “%(value)s” happened twice in the %(zone)s time zone (the clocks went "
            "back that night), and the file does not say which: write it with its UTC offset "
            "in the file, %(first)s for the first time (%(first_name)s) or %(second)s for the "
            "second (%(second_name)s), or export the times in UTC, then upload the file again."
        )
        % values
    )


def _offset_names(naive: datetime, zone) -> tuple[str, str]:
    """What the offsets before and after a change of the clocks at `naive` are: summer and
    winter time (daylight saving time or not, whichever the change goes from), or, for a
    zone that changed its offset for another reason, the offset before and after the
    change."""
    before, after = (bool(naive.replace(tzinfo=zone, fold=fold).dst()) for fold in (0, 1))
    if before == after:
        return _("the offset before the change"), _("the offset after the change")
    summer, winter = _("summer time"), _("winter time")
    return (summer, winter) if before else (winter, summer)


def _with_offsets(naive: datetime, zone) -> tuple[str, str]:
    """A local time the clocks skipped or repeated in `zone`, written as the file should
    write it: in ISO 8601 with the UTC offset before the change, then with the one after
    (fold 0, then 1), to the minute unless it gives seconds, and with the fraction of a
    second it gives ("2026-03-29T02:30+01:00", "2026-03-29T02:30:15.250+02:00")."""
    if naive.microsecond:  # its fraction of a second kept ("02:30:15.250")
        precision = "milliseconds" if naive.microsecond % 1000 == 0 else "microseconds"
    else:
        precision = "seconds" if naive.second else "minutes"
    written = naive.isoformat(timespec=precision)
    return tuple(
        written + Occurrence(fold, naive.replace(tzinfo=zone, fold=fold)).offset for fold in (0, 1)
    )


def _read_date(value: str, date_order: str) -> datetime:
    """A cell's date: ISO 8601 (the bulk API's reading, "z" included) or with its month by
    name (_without_order), else one of `date_order`'s patterns. RowError otherwise, saying
    what is read, or, when the other order reads it (31/12/2026 read month first), to
    choose that order."""
    moment = _without_order(value)
    if moment is not None:
        _check_weekday(value, moment)
        return moment
    moment = _by_order(value, date_order)
    if moment is not None:
        return moment
    (other,) = set(DATE_ORDERS) - {date_order}
    if _by_order(value, other) is not None:
        chosen, instead = DATE_ORDERS[date_order][0], DATE_ORDERS[other][0]
        raise RowError(
            _(
                "“%(v)s” is not a date read as “%(chosen)s”, but is one read as "
                "“%(other)s”: choose that for this file's dates, then update the preview."
            )
            % {"v": value[:40], "chosen": chosen, "other": instead}
        )
    missing = _missing_day(value, (date_order, other))
    if missing:
        raise RowError(
            _("“%(v)s” is not a date: %(missing)s.") % {"v": value[:40], "missing": missing}
        )
    example = datetime(2026, 12, 31, 9, 12).strftime(DATE_ORDERS[date_order][1][1])
    raise RowError(
        _(
            "“%(v)s” is not a date this import reads: it reads dates such as %(example)s "
            "(or with dashes or dots: %(dashed)s), 31 Dec 2026 09:12, Dec 31, 2026 or "
            "2026-12-31T09:12:00Z, and Unix times."
        )
        % {"v": value[:40], "example": example, "dashed": example.split()[0].replace("/", "-")}
    )


# A date written with digits, as DATE_ORDERS' patterns read it: two numbers, then the year.
_DIGITS_DATE = re.compile(r"(\d{1,2})([/.-])(\d{1,2})\2(\d{4})")


def _missing_day(value: str, orders) -> str:
    """ingest.missing_day's words ("30 February 2026 does not exist") for a date this import
    reads the form of, but not the day: the same text on the 1st of its month reads, in ISO
    8601, with the month by name, or in one of `orders` (tried in turn); "" otherwise."""
    value = value.strip()
    missing = iso_missing_day(value)
    found = _MONTH_NAMED.fullmatch(value) if len(value) <= 64 else None
    if not missing and found:
        day = "day" if found["day"] else "day_after"
        first = _month_named(value[: found.start(day)] + "1" + value[found.end(day) :])
        if first is not None:
            missing = missing_day(first.year, first.month, int(found[day]))
    found = _DIGITS_DATE.match(value)
    for order in orders if found and not missing else ():
        day, month = (1, 3) if order == "dmy" else (3, 1)
        if _by_order(value[: found.start(day)] + "01" + value[found.end(day) :], order) is not None:
            return missing_day(int(found[4]), int(found[month]), int(found[day]))
    return missing


def _check_weekday(value: str, moment: datetime) -> None:
    """RowError when `value` names a day of the week ("Mon, 3 Dec 2026") that is not its
    date's (a Thursday): the file is wrong in one of them, and which one cannot be told,
    so the row is refused rather than read by its date alone."""
    found = _MONTH_NAMED.fullmatch(value.strip()) if len(value) <= 64 else None
    written = found and found["weekday"]
    if written and _WEEKDAY_NUMBERS[written.lower()] != moment.weekday():
        raise RowError(
            _(
                "“%(v)s” gives a day of the week that is not its date's: that date is a "
                "%(weekday)s. Correct the date or the day in the file, then upload the file "
                "again."
            )
            % {"v": value[:40], "weekday": date_format(moment, "l")}
        )


# How many of a file's dates the order is guessed from (the first ones, as the preview).
DATE_ORDER_SAMPLE = 2_000


@dataclass(frozen=True)
class DateOrderGuess:
    """What a file's dates say of their order (guess_date_order): `order` ("dmy", "mdy")
    when some read in one order only and none in the other only, else None; `ambiguous`:
    the dates written with slashes all read both ways (05/06/2026), so nothing in the file
    tells, and `example` is one of them ("" otherwise)."""

    order: str | None
    ambiguous: bool = False
    example: str = ""


def guess_date_order(table: Table, column: str) -> DateOrderGuess:
    """The order of the dates in `column`, told by the file: a 31/12/2026 reads day first
    only, a 12/31/2026 month first only. Reads the first DATE_ORDER_SAMPLE non-ISO cells
    of the column; dates in ISO 8601, with their month by name (_without_order) or Unix
    times say nothing."""
    only = dict.fromkeys(DATE_ORDERS, 0)
    both, example = 0, ""
    values = (row.get(column) for _line, row in table.rows) if column else ()
    read = 0
    for value in values:
        value = value.strip() if isinstance(value, str) else ""
        if not value or value.isdigit() or _without_order(value) is not None:
            continue
        readings = [order for order in DATE_ORDERS if _by_order(value, order) is not None]
        if len(readings) == 2:
            both += 1
            example = example or value[:40]
        elif len(readings) == 1:
            only[readings[0]] += 1
        read += 1
        if read >= DATE_ORDER_SAMPLE:
            break
    told = [order for order, count in only.items() if count]
    if len(told) == 1:
        return DateOrderGuess(told[0])
    if both and not told:
        return DateOrderGuess(None, ambiguous=True, example=example)
    return DateOrderGuess(None)


def _by_order(value: str, date_order: str) -> datetime | None:
    for pattern in DATE_ORDERS[date_order][1]:
        try:
            return datetime.strptime(value, pattern)
        except ValueError:
            continue
    return None


# The widest offset from UTC a zone has (Kiribati's Line Islands): a time written without
# a zone that is still after now read there is after now in every zone.
WIDEST_OFFSET = fixed_offset(timedelta(hours=14))


def _after_now(moment, naive, latest, field, zone) -> str:
    """Why a time after now is refused. Written without a zone (`naive`) and in the past
    in some zone (up to 14 hours ahead of UTC): most likely the file's times were read in
    the wrong zone (Paris times taken for UTC land an hour ahead, Tokyo's nine), so the
    message names the zone they were read in. Otherwise no zone would put it in the past."""
    when = shown(moment, zone=True)
    if naive is None:
        return _("%(field)s is after now (%(when)s), in the time zone the file gives.") % {
            "field": field,
            "when": when,
        }
    if naive.replace(tzinfo=WIDEST_OFFSET) > latest:
        return _("%(field)s is after now (%(when)s), whatever the time zone.") % {
            "field": field,
            "when": when,
        }
    return _(
        "Posted after now (%(when)s) when read in the %(zone)s time zone: are the file's "
        "times in another zone? Choose the zone they are written in."
    ) % {"when": when, "zone": zone.key}


def platform_key(value) -> str:
    """A platform's name as it is looked up (PLATFORM_ALIASES, Platform's values) and as
    unknown ones are counted together: compatibility-normalised (NFKC), case-folded, and
    Turkish "i"s read as "i": a Turkish upper case writes "INSTAGRAM" with a dotted
    capital I (U+0130), which folds to "i" and a combining dot above (U+0307); its lower
    case writes a dotless i (U+0131). Format characters (Unicode category Cf: a zero-width
    space U+200B or joiner U+200D, a byte order mark U+FEFF, a soft hyphen) are folded
    away: unseen, they made "Insta" U+200B "gram" a platform none of ours that looks like
    ours."""
    folded = unicodedata.normalize("NFKC", str(value)).casefold()
    folded = "".join(c for c in folded if unicodedata.category(c) != "Cf").strip()
    return folded.replace("i\u0307", "i").replace("\u0131", "i")


def _platform(value, fixed) -> str:
    value = platform_key(value or "")
    if not value:
        return fixed
    return PLATFORM_ALIASES.get(value, value)


def _unknown_platform(row: dict, options: Options) -> str:
    """The platform a row gives when it is none of ours, nor an alias of one ("Tumblr"), as
    the file writes it (at most 40 characters); "" otherwise."""
    column = options.mapping.get("platform")
    value = row.get(column) if column else None
    platform = _platform(value, options.platform)
    if not platform or platform in Platform.values:
        return ""
    return str(value).strip()[:40]


def column_names(options: Options) -> dict[str, str]:
    """{field: its column as messages name it ("“Date”")}: a refused row names the file's
    column, not the field of our format."""
    return {
        key: _("“%(column)s”") % {"column": Truncator(column).chars(40)}
        for key, column in options.mapping.items()
        if column
    }


def to_shape(row: dict, options: Options, zone, names: dict[str, str], latest=None) -> dict:
    """One table row -> the dict ingest.parse reads (`names`: column_names; a post after
    `latest` refused). Raises RowError."""
    get = {key: row.get(column) for key, column in options.mapping.items() if column}
    shape = {"author": {}}
    for key, value in get.items():
        if value is None or value == "":
            continue
        if key.startswith("author."):
            shape["author"][key.split(".", 1)[1]] = value
        elif key not in ("platform", "posted_at"):
            shape[key] = value
    for key in ("author.followers", "likes", "reposts", "replies"):
        value = get.get(key)
        if isinstance(value, str) and value.strip():
            # "1 234", "1,234" and "1234.0" as exports write counts.
            cleaned = value.strip().replace("\u202f", "").replace("\xa0", "").replace(" ", "")
            cleaned = cleaned.replace(",", "")
            cleaned = cleaned[:-2] if cleaned.endswith(".0") else cleaned
            target = shape["author"] if key.startswith("author.") else shape
            target[key.split(".")[-1]] = cleaned
    if isinstance(shape.get("id"), int | float) and not isinstance(shape.get("id"), bool):
        shape["id"] = str(shape["id"])
    shape["platform"] = _platform(get.get("platform"), options.platform)
    if options.unknown_as_other and _unknown_platform(row, options):
        shape["platform"] = Platform.OTHER.value
    shape["posted_at"] = _time(
        get.get("posted_at"),
        zone,
        options.date_order,
        names.get("posted_at", "posted_at"),
        latest,
    )
    return shape


@dataclass
class Conversion:
    options: Options
    mentions: list[MentionData] = field(default_factory=list)
    rows: list[tuple[int, MentionData]] = field(default_factory=list)  # (line, data)
    errors: list[LineError] = field(default_factory=list)
    # Rows imported that the person should look at (a quoted cell holding lines that read
    # as rows of their own: a text written over lines, or a quote left open; an optional
    # flag it could not read, left unknown: ingest.parse's lenient reading).
    warnings: list[LineError] = field(default_factory=list)
    # {a platform none of ours, as the file writes it: how many rows give it and are
    # refused for it alone, or, read as Other, imported so}: the rows refused for another
    # reason (their date) left out, ticked or not (convert).
    unknown_platforms: Counter = field(default_factory=Counter)
    # The posts ((platform, id): MentionData.key) read as Other for a platform none of
    # ours (Options.unknown_as_other): the preview and the report count them among the
    # new (selectors.import_counts, imported_counts).
    as_other: set = field(default_factory=set)

    @property
    def unknown_platforms_note(self) -> str:
        """What the preview says of the rows whose platform is none of ours: how many, the
        values (the most frequent first, at most UNKNOWN_PLATFORMS_NAMED), and what becomes
        of them (refused, or read as "Other": Options.unknown_as_other; "read", not
        "imported": a row whose post is stored already is skipped, and the figures count
        the rows stored as Other apart). "" when none."""
        rows = sum(self.unknown_platforms.values())
        if not rows:
            return ""
        common = self.unknown_platforms.most_common(UNKNOWN_PLATFORMS_NAMED)
        values = ", ".join(
            _("“%(value)s” (%(n)s)") % {"value": value, "n": _grouped(n)} for value, n in common
        )
        others = len(self.unknown_platforms) - len(common)
        if others:
            values += " " + ngettext("and %(n)s other value", "and %(n)s other values", others) % {
                "n": _grouped(others)
            }
        if self.options.unknown_as_other:
            return ngettext(
                "%(n)s row gives a platform this import does not know, read as “%(other)s”: "
                "%(values)s.",
                "%(n)s rows give a platform this import does not know, read as “%(other)s”: "
                "%(values)s.",
                rows,
            ) % {"n": _grouped(rows), "values": values, "other": Platform.OTHER.label}
        return ngettext(
            "%(n)s row gives a platform this import does not know, and is refused: "
            "%(values)s. To import it as “%(other)s”, tick “%(choice)s”, then update the "
            "preview.",
            "%(n)s rows give a platform this import does not know, and are refused: "
            "%(values)s. To import them as “%(other)s”, tick “%(choice)s”, then update the "
            "preview.",
            rows,
        ) % {
            "n": _grouped(rows),
            "values": values,
            "other": Platform.OTHER.label,
            "choice": UNKNOWN_AS_OTHER_LABEL,
        }


# The values of unknown platforms the preview names (the others counted).
UNKNOWN_PLATFORMS_NAMED = 5
# The form's choice (forms.MappingForm), named by the preview's note.
UNKNOWN_AS_OTHER_LABEL = gettext_lazy("Import rows with an unknown platform as Other")
# The form's choice of a platform for the rows whose column gives none (forms.MappingForm).
FILE_PLATFORM_LABEL = gettext_lazy("Platform when no column says")


# A post dated further ahead than this is refused: the file's times were most likely read
# in the wrong zone (Paris times taken for UTC land an hour ahead).
FUTURE_SLACK = timedelta(minutes=5)

# At most this many of the lines a quote left open swallowed are named in a refusal.
NAMED_LINES = 5


def convert(table: Table, options: Options, *, now=None) -> Conversion:
    """Every row of `table` through the mapping and ingest.parse; a row posted after now
    (FUTURE_SLACK) is refused (_after_now says why). A row written over several lines
    whose quoted cell holds lines that read as rows of their own (good rows, or lines with
    a row's number of cells) most likely comes from a quote left open: its refusal leads
    with the quote that opened them; read whole, it is imported, with a warning (a quote
    left open and closed further on reads the same as a text written over several lines
    that holds such a line: the person tells them apart). A cell written over lines that
    hold no such line is valid CSV (a text of several lines): the row is imported, or
    refused for its own reason alone, saying which lines it runs over. An optional
    yes-or-no it cannot read (a "Twitter Verified" of "-") is left unknown, the row
    imported with a warning (ingest.parse's lenient reading). Raises FileError
    (MissingColumns)."""
    missing = [
        key
        for key, _label, required in FIELDS
        if required
        and not options.mapping.get(key)
        and not (key == "platform" and options.platform)
    ]
    if missing:
        raise MissingColumns(missing)
    if options.platform and options.platform not in Platform.values:
        raise FileError(_("Unknown platform."))
    zone = zone_or_error(options.zone)
    names = column_names(options)
    result = Conversion(options)
    latest = (now or timezone.now()) + FUTURE_SLACK

    as_other = replace(options, unknown_as_other=True)

    def read(row, unread=None, read_as=options) -> MentionData:
        # The lenient reading of the optional flags (ingest.parse): kept, without the flag.
        shape = to_shape(row, read_as, zone, names, latest)
        return parse(shape, now=now, names=names, unread=[] if unread is None else unread)

    spellings = {}  # an unknown platform counted under its first spelling ("tumblr", "Tumblr")
    for number, row in table.rows:
        if not row:
            result.errors.append(LineError(number, _("Not an object (or not valid JSON).")))
            continue
        unknown = _unknown_platform(row, options)
        if unknown:
            unknown = spellings.setdefault(platform_key(unknown), unknown)
        unread, platform_alone = [], False
        try:
            # A platform none of ours is read as Other either way, so that a row also
            # refused for another reason (its date) is refused for that one: refused for
            # the platform alone are the rows the choice imports, which the note counts
            # ticked or not (one rule for the note, the refusals and the report).
            data, refused = read(row, unread, as_other if unknown else options), None
            if unknown and not options.unknown_as_other:
                data, refused, platform_alone = None, _unknown_refused(unknown), True
        except UnknownPlatform as error:
            data, refused = None, str(error)
            if _blank_platform(row, options):
                refused = _blank_refused(names)
        except RowError as error:
            data, refused = None, str(error)
        if unknown and (data is not None or platform_alone):
            result.unknown_platforms[unknown] += 1
        if number in table.spans:
            opens, held = table.spans[number]
            good = [line for line, cells, _shaped in held if _reads(read, cells)]
            shaped = [line for line, _cells, is_row in held if is_row and line not in good]
            if good or shaped:
                message = _open_quote(opens, table.ends[number], good, shaped, refused)
                (result.errors if refused else result.warnings).append(LineError(number, message))
                if refused:
                    continue
            elif refused:
                refused += " " + _("(This row runs on to line %(last)s.)") % {
                    "last": table.ends[number]
                }
        if refused:
            result.errors.append(LineError(number, refused))
            continue
        result.warnings.extend(LineError(number, message) for message in unread)
        if unknown and options.unknown_as_other:
            result.as_other.add(data.key)
        result.mentions.append(data)
        result.rows.append((number, data))
    return result


def _unknown_refused(value: str) -> str:
    """A row refused for a platform none of ours, as the file writes it: the page's choice
    imports it as Other (the bulk API says it in its own words: ingest.parse)."""
    return _(
        "The platform “%(value)s” is not one this import knows: ticking “%(choice)s” imports "
        "such rows as “%(other)s”."
    ) % {"value": value, "choice": UNKNOWN_AS_OTHER_LABEL, "other": Platform.OTHER.label}


def _blank_platform(row: dict, options: Options) -> bool:
    """Whether a row's platform cell is empty."""
    column = options.mapping.get("platform")
    value = row.get(column) if column else None
    return value is None or not platform_key(value)


def _blank_refused(names: dict[str, str]) -> str:
    """A row refused for an empty platform cell (convert asks for a platform column or the
    file's platform first), when the page could give it one."""
    return _("%(column)s is empty: fill it in the file, or choose “%(choice)s”.") % {
        "column": names["platform"],
        "choice": FILE_PLATFORM_LABEL,
    }


def _reads(read, cells: dict) -> bool:
    """Whether a line a quoted cell holds is a good row of its own."""
    if not cells:
        return False
    try:
        read(cells)
    except RowError:
        return False
    return True


def _open_quote(
    opens: int, last: int, rows: list[int], shaped: list[int], refused: str | None
) -> str:
    """A row written over several lines, holding lines that read as rows of their own:
    first the quote that opened them and the lines it holds (naming those that are good
    rows of their own, else those with a row's number of cells, `shaped`), then the
    reason the row as read is refused, or, imported, what to do if the quote was left
    open."""
    swallowed = last - opens
    parts = [
        ngettext(
            "A quote opens on line %(open)s and runs to line %(last)s: line %(last)s was "
            "read into one of this row's cells.",
            "A quote opens on line %(open)s and runs to line %(last)s: lines %(first)s to "
            "%(last)s were read into one of this row's cells.",
            swallowed,
        )
        % {"open": opens, "first": opens + 1, "last": last}
    ]
    named = ", ".join(str(line) for line in (rows or shaped)[:NAMED_LINES])
    if len(rows or shaped) > NAMED_LINES:
        named += "…"
    if rows and not refused:
        parts.append(
            ngettext(
                "Line %(lines)s reads as a row of its own: imported inside this row's text. "
                "If the quote was left open, close it in the file and upload the file again.",
                "Lines %(lines)s read as rows of their own: imported inside this row's text. "
                "If the quote was left open, close it in the file and upload the file again.",
                len(rows),
            )
            % {"lines": named}
        )
    elif rows:
        parts.append(
            ngettext(
                "Line %(lines)s is a good row of its own, lost unless the quote is closed: "
                "close it in the file and upload the file again.",
                "Lines %(lines)s are good rows of their own, lost unless the quote is "
                "closed: close it in the file and upload the file again.",
                len(rows),
            )
            % {"lines": named}
        )
    elif refused:
        parts.append(
            ngettext(
                "Line %(lines)s has a row's number of cells: is the quote left open? Close it "
                "in the file and upload the file again.",
                "Lines %(lines)s have a row's number of cells: is the quote left open? Close "
                "it in the file and upload the file again.",
                len(shaped),
            )
            % {"lines": named}
        )
    else:
        parts.append(
            ngettext(
                "Line %(lines)s has a row's number of cells: imported inside this row's text. "
                "If the quote was left open, close it in the file and upload the file again.",
                "Lines %(lines)s have a row's number of cells: imported inside this row's "
                "text. If the quote was left open, close it in the file and upload the file "
                "again.",
                len(shaped),
            )
            % {"lines": named}
        )
    if refused:
        parts.append(_("As read, the row is refused: %(error)s") % {"error": refused})
    return " ".join(parts)
