"""What the server's log says of a refused request: one line, once."""

import logging
import sys

import pytest
from django.test import Client


@pytest.mark.django_db
def test_a_refused_page_is_one_line_and_a_server_error_keeps_its_traceback(make_user, caplog):
    client = Client()
    client.force_login(make_user("nobody"))
    with caplog.at_level(logging.WARNING, logger="django.request"):
        assert client.get("/listening/import/").status_code == 403
    refused = [r for r in caplog.records if r.name == "django.request"]
    assert len(refused) == 1 and refused[0].exc_info is None
    assert "Forbidden" in refused[0].getMessage()
    # Django's own console handler is gone: the root's writes each line, once.
    assert logging.getLogger("django").handlers == []

    failed = logging.LogRecord("django.request", logging.ERROR, __file__, 1, "boom", (), None)
    failed.status_code = 500
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        failed.exc_info = sys.exc_info()
    filters = logging.getLogger("django.request").filters
    assert filters and all(log_filter.filter(failed) for log_filter in filters)
    assert failed.exc_info is not None


def test_a_bad_host_header_is_one_line():
    from crisiscell.logs import ClientErrorsWithoutTraceback

    record = logging.LogRecord(
        "django.security.DisallowedHost", logging.ERROR, __file__, 1, "Invalid HTTP_HOST", (), None
    )
    try:
        raise ValueError("evil.example")
    except ValueError:
        record.exc_info = sys.exc_info()
    console = next(  # the console's handler, not pytest's
        handler
        for handler in logging.getLogger().handlers
        if any(isinstance(f, ClientErrorsWithoutTraceback) for f in handler.filters)
    )
    assert console.filter(record) and record.exc_info is None
