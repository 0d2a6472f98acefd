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


def one_line(text: str | None) -> str:
    """NFC, on one line, single spaces (titles end up in e-mail subjects)."""
    return " ".join(nfc(text).split())


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
