"""Word-level diff between two revisions, as escaped HTML with <ins>/<del>."""

import difflib
import re

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

_TOKENS = re.compile(r"\s+|[^\s]+")


def word_diff(old: str, new: str) -> SafeString:
    """The words of `old` deleted and those of `new` inserted, a changed passage as one
    <del> then one <ins>: changes separated only by spaces are one passage (word by word,
    "You are right" -> "We take every" read "~~You~~We ~~are~~take ~~right~~every")."""
    a, b = _TOKENS.findall(old), _TOKENS.findall(new)
    opcodes = difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes()
    out: list[str] = []
    deleted: list[str] = []
    inserted: list[str] = []

    def flush() -> None:
        if deleted:
            out.append(f"<del>{escape(''.join(deleted))}</del>")
        if inserted:
            out.append(f"<ins>{escape(''.join(inserted))}</ins>")
        deleted.clear()
        inserted.clear()

    for n, (op, a1, a2, b1, b2) in enumerate(opcodes):
        if op != "equal":
            deleted += a[a1:a2]
            inserted += b[b1:b2]
            continue
        same = a[a1:a2]
        between_changes = (deleted or inserted) and n + 1 < len(opcodes)
        if between_changes and all(token.isspace() for token in same):
            deleted += same  # a space between two changes belongs to the passage
            inserted += same
            continue
        flush()
        out.append(escape("".join(same)))
    flush()
    return mark_safe("".join(out))  # noqa: S308 - every piece is escaped above
