"""How long something took, one rule for every page and export (incidents.localtime)."""

import pytest
from django.utils import translation

from incidents.localtime import duration


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (45, "45 s"),
        (59.6, "1 min"),
        (754, "12 min"),
        (2 * 3600 + 5 * 60, "2 h 05"),
        (47 * 3600 + 59 * 60, "47 h 59"),
        (3 * 86400 + 4 * 3600, "3 d 4 h"),
        (-120, "-2 min"),
        ("90", "1 min"),
        # Unknown, never a server error on a page.
        (None, "—"),
        ("", "—"),
        ("abc", "—"),
        (float("nan"), "—"),
        ("inf", "—"),
        ([], "—"),
    ],
)
def test_a_duration_reads_the_same_everywhere(seconds, shown):
    with translation.override("en"):
        assert duration(seconds) == shown
