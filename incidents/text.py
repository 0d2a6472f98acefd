"""How the text people type is cleaned, everywhere it is stored: one rule.

- Unicode NFC: the same words typed, or pasted from a document that stores them decomposed
  (e + combining acute instead of é), are the same text: same revision, same hash, same
  count.
- Line endings are "\n".
- A title must hold something visible: not only spaces, zero-width or other blank-looking
  characters.

The limits (characters, after cleaning) are here too, so the actions, the forms, the API
serializers and the pages' `maxlength` agree.
"""

import re
import unicodedata

from django.utils.translation import get_language

TITLE_MAX = 200
SUMMARY_MAX = 5_000
ENTRY_MAX = 10_000

# Letters and symbols that draw nothing (besides spaces, format and control characters).
_BLANK_LOOKING = {"\u115f", "\u1160", "\u3164", "\uffa0", "\u2800", "\u180e", "\u034f"}
_INVISIBLE_CATEGORIES = {"Cc", "Cf", "Zs", "Zl", "Zp", "Mn", "Me"}


def nfc(text: str | None) -> str:
    """The text in Unicode NFC with "\\n" line endings, stripped."""
    text = (text or "").replace("\r\n", "\n").replace("\r", "\n")
    return unicodedata.normalize("NFC", text).strip()


# The no-break spaces French typography writes before : ; ? ! and inside « »
# (crisiscell/typography.py), and the figure space of "10 000": whitespace to str.split(),
# yet a line must keep them, or a phone wraps "requise" / ": …".
NO_BREAK_SPACES = frozenset("\u00a0\u202f\u2007")
_SPACES = re.compile(r"\s+")  # what str.isspace() calls a space: line breaks, tabs too


def _one_space(match: re.Match) -> str:
    return next((ch for ch in match.group() if ch in NO_BREAK_SPACES), " ")


def one_line(text: str | None) -> str:
    """NFC, on one line, single spaces (titles end up in e-mail subjects): each run of
    whitespace (line breaks, tabs, U+2028...) becomes one space, a no-break one if the run
    holds one, so "Approbation requise{NBSP}: …" keeps its no-break space and no CR or LF
    is left."""
    return _SPACES.sub(_one_space, nfc(text)).strip()


def is_visible(text: str) -> bool:
    """Whether the text shows at least one character on screen."""
    return any(
        ch not in _BLANK_LOOKING and unicodedata.category(ch) not in _INVISIBLE_CATEGORIES
        for ch in text
    )


_ID = re.compile(r"[0-9]{1,18}")


def parse_id(value) -> int | None:
    """An object id typed in a form, a query string or a command: ASCII digits only (`"²"`
    passes str.isdigit() but is no number), at most 18 like the URLs' id converter; else
    None."""
    value = str(value).strip() if value is not None else ""
    return int(value) if _ID.fullmatch(value) else None


# Playbooks are written for a bilingual committee, French first (incidents/playbooks/
# defaults.py): short texts read "Publier la déclaration d'attente / Publish the holding
# statement", long ones hold the French text, a "---" line, then the English text.
BILINGUAL_ORDER = ("fr", "en")
_LONG_SEPARATOR = re.compile(r"\n[ \t]*-{3,}[ \t]*\n")
_SHORT_SEPARATOR = " / "


def own_language(text) -> str:
    """A bilingual text in the viewer's language (the active one): the French part in
    French, the English part in English. A long text splits on its one "---" line, a short
    one on its one " / ". A text with no separator or with several (it cannot tell which one
    separates the languages), or a viewer in another language, gets the whole text."""
    text = "" if text is None else str(text)
    language = (get_language() or "").split("-")[0].lower()
    if language not in BILINGUAL_ORDER:
        return text
    parts = _LONG_SEPARATOR.split(text)
    if len(parts) == 1 and "\n" not in text:
        parts = text.split(_SHORT_SEPARATOR)
    if len(parts) != len(BILINGUAL_ORDER):
        return text
    return parts[BILINGUAL_ORDER.index(language)].strip() or text
