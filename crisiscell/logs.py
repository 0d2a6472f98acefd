"""Logging filters (settings.LOGGING)."""

import logging


class ClientErrorsWithoutTraceback(logging.Filter):
    """A request refused with a 4xx (403 not allowed, 404) is logged as one line: Django
    attaches the exception's traceback, 40 lines of framework frames that buried the
    server errors an operator looks for. A 5xx keeps its traceback. On django.request and
    django.security."""

    def filter(self, record: logging.LogRecord) -> bool:
        # django.security's records (a bad Host header, scanners' daily fare) are 400s.
        refused = record.name.startswith("django.security")
        if refused or getattr(record, "status_code", 500) < 500:
            record.exc_info = None
            record.exc_text = None
        return True
