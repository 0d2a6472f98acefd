"""The API's JSON parser: DRF's, refusing (400) what would otherwise reach the code as a
crash. Every API view parses JSON through it (settings.REST_FRAMEWORK and the views that
list their parsers; tests/incidents/test_malformed_input.py checks that none is missed).

- Nesting deeper than MAX_DEPTH: no API body is nested more than a few levels, and a
  deeply nested document made json raise RecursionError (a 500), even before login.
- A NUL character in any string or key: PostgreSQL text cannot hold it (psycopg raises).
  Query strings and form bodies are checked by crisiscell.middleware.RefuseNulMiddleware.
- A lone UTF-16 surrogate ("\ud800", which JSON allows): no database stores it, and a
  choice field's error, which quotes the value back, could not be written as UTF-8 (a 500).
  Form bodies cannot carry one (Django decodes them replacing bad bytes).
"""

from django.utils.translation import gettext as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError

MAX_DEPTH = 32


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(too_deep()) from None
        check_json(data)
        return data


def too_deep() -> str:
    return _("JSON nested more than %(n)s levels deep is refused.") % {"n": MAX_DEPTH}


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def check_json(data) -> None:
    """Raise ParseError if `data` nests deeper than MAX_DEPTH or holds a NUL character or a
    lone surrogate.
    Iterative, so the check itself cannot run out of stack."""
    pending = [(data, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, str):
            if "\x00" in value:
                raise ParseError(_("Text cannot contain a NUL character (code 0)."))
            if not value.isascii() and not _encodable(value):
                raise ParseError(
                    _("Text cannot contain a lone surrogate character (U+D800 to U+DFFF).")
                )
        elif isinstance(value, dict | list):
            if depth > MAX_DEPTH:
                raise ParseError(too_deep())
            items = value.items() if isinstance(value, dict) else ((None, v) for v in value)
            for key, item in items:
                if key is not None:
                    pending.append((key, depth))
                pending.append((item, depth + 1))


# The parsers of every API view, in DRF's default order.
DEFAULT_PARSERS = [JSONParser, parsers.FormParser, parsers.MultiPartParser]
