"""Dates read the same on every page and in both languages: the month named, a 24-hour
clock, in the reader's time zone. A crisis timeline read by a French and an English
reader must never show "12/01" to one of them for what the other reads "01/12"."""

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone, translation

from incidents import actions as incident_actions
from incidents.postmortems import actions

EN = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
FR = [
    *("janv.", "févr.", "mars", "avr.", "mai", "juin"),  # not Django's "jan.", "fév."
    *("juil.", "août", "sept.", "oct.", "nov.", "déc."),
]
PARIS = ZoneInfo("Europe/Paris")


@pytest.fixture(autouse=True)
def _language_restored():
    """The test client's requests activate their language in this thread: the next test
    starts in the language this one started in."""
    with translation.override(translation.get_language()):
        yield


@pytest.fixture
def dated(worked, lead):
    """A key event observed on a 12th in the evening (UTC), back-dated within the limit:
    the day could be read as a month, and an evening hour as a 12-hour clock's."""
    incident = worked()
    start = timezone.now() - timedelta(days=40)
    at = datetime(start.year, start.month, 12, 20, 5, tzinfo=UTC)
    entry = incident_actions.timeline_add_entry(
        incident=incident,
        actor=lead,
        kind="note",
        text="Regulator called",
        occurred_at=at,
        key_event=True,
    )
    actions.postmortem_create(incident=incident, actor=lead)
    return incident, entry, at.astimezone(PARIS)


def test_a_time_reads_the_same_in_the_room_and_the_post_mortem_in_both_languages(
    browser_client, dated, lead
):
    incident, entry, local = dated
    hour = f"{local:%H:%M}"
    expected = {
        "en": f"{local.day} {EN[local.month - 1]} {local.year}, {hour}",
        "fr": f"{local.day} {FR[local.month - 1]} {local.year} {hour}",
    }
    client = browser_client.as_user(lead)
    client.cookies["tz"] = "Europe/Paris"
    for language, shown in expected.items():
        room = client.get(f"/incidents/{incident.pk}/", HTTP_ACCEPT_LANGUAGE=language).text
        postmortem = client.get(
            f"/incidents/{incident.pk}/postmortem/", HTTP_ACCEPT_LANGUAGE=language
        ).text
        printable = client.get(
            f"/incidents/{incident.pk}/postmortem/print/", HTTP_ACCEPT_LANGUAGE=language
        ).text
        markdown = client.get(
            f"/incidents/{incident.pk}/postmortem/export.md", HTTP_ACCEPT_LANGUAGE=language
        ).text
        stamp = re.escape(entry.occurred_at.isoformat())
        assert re.search(rf'<time datetime="{stamp}">{re.escape(shown)}</time>', room)
        for page in (postmortem, printable):
            assert f"{shown}</time> <strong>" in page  # the key events' list
        assert f"#{entry.seq} {shown} **" in markdown
        # No page writes a date with slashes (day and month in an order a reader guesses).
        for text in (room, postmortem, printable, markdown):
            assert not re.search(r"[>|(-] *\d{1,2}/\d{1,2}(/\d{2,4})?\b", text)


def test_the_room_gives_its_script_the_format_and_month_names_the_server_uses(
    browser_client, incident, lead
):
    client = browser_client.as_user(lead)
    room = client.get(f"/incidents/{incident.pk}/", HTTP_ACCEPT_LANGUAGE="fr").text
    assert 'data-date-format="j N Y H:i"' in room
    assert "&quot;N&quot;: [&quot;janv.&quot;, &quot;févr.&quot;" in room
