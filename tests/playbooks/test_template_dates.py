"""Templates write dates and times in the statement's language, in the company's time zone
with the zone named, and never double a full stop."""

from datetime import UTC, datetime

import pytest

from incidents.playbooks import selectors
from incidents.playbooks.models import IncidentTemplate
from incidents.playbooks.templating import format_moment, render_template, values_for

# 13:33 UTC on 30 November 2026 is 14:33 in Paris (winter time).
MOMENT = datetime(2026, 11, 30, 13, 33, tzinfo=UTC)
SUMMER = datetime(2026, 7, 14, 8, 5, tzinfo=UTC)  # 10:05 in Paris (summer time)


@pytest.mark.parametrize(
    ("language", "moment", "expected"),
    [
        ("fr", MOMENT, "30 novembre 2026 à 14 h 33 (heure de Paris)"),
        ("en", MOMENT, "30 November 2026 at 14:33 (Paris time)"),
        ("fr", SUMMER, "14 juillet 2026 à 10 h 05 (heure de Paris)"),
        ("en", SUMMER, "14 July 2026 at 10:05 (Paris time)"),
        ("de", MOMENT, "30. November 2026, 14:33 (Mitteleuropäische Zeit)"),
        ("es", MOMENT, "30 de noviembre de 2026, 14:33 (hora de Europa central)"),
    ],
)
def test_dates_in_the_statement_language_with_the_zone(language, moment, expected, settings):
    settings.TIME_ZONE = "Europe/Paris"
    assert format_moment(moment, language) == expected


def test_the_locale_follows_where_the_company_is():
    # English from New York: the American order and clock.
    assert format_moment(MOMENT, "en", "America/New_York") == (
        "November 30, 2026 at 8:33\u202fAM (New York time)"
    )
    assert format_moment(MOMENT, "fr", "America/New_York") == (
        "30 novembre 2026 à 8 h 33 (heure de New York)"
    )
    # French elides before a vowel; a zone without a city is named as such.
    assert format_moment(MOMENT, "fr", "Europe/Amsterdam").endswith("(heure d\u2019Amsterdam)")
    assert format_moment(MOMENT, "fr", "UTC") == "30 novembre 2026 à 13 h 33 (UTC)"


def test_the_site_zone_not_the_drafters_browser(settings, incident):
    """The zone of the page's viewer (the `tz` cookie) plays no part: the statement speaks
    to the company's public."""
    from django.utils import timezone

    settings.TIME_ZONE = "Europe/Paris"
    with timezone.override("Asia/Tokyo"):
        values = values_for(incident, brand="Maison Durand", language="fr", next_update_at=MOMENT)
    assert values["next_update_at"] == "30 novembre 2026 à 14 h 33 (heure de Paris)"


@pytest.mark.parametrize(
    ("template", "values", "expected"),
    [
        # The case: a value ending with "." before a literal ".".
        (
            "Next update: {{ next_update_at }}. — {{ brand }}",
            {"next_update_at": "11/30/2026 2:33 p.m.", "brand": "Maison Durand"},
            "Next update: 11/30/2026 2:33 p.m. — Maison Durand",
        ),
        ("Signed: {{ brand }}.", {"brand": "Acme Inc."}, "Signed: Acme Inc."),
        ("{{ brand }}. Next", {"brand": "Wow!"}, "Wow! Next"),
        ("{{ brand }}.", {"brand": "Acme"}, "Acme."),  # a single stop stays
        ("Wait {{ brand }}...", {"brand": "Acme Inc."}, "Wait Acme Inc...."),  # an ellipsis stays
        ("{{ brand }}: {{ brand }}.", {"brand": "A."}, "A.: A."),
        ("", {}, ""),
    ],
)
def test_no_doubled_full_stop(template, values, expected):
    assert render_template(template, values) == expected


def test_values_are_still_inserted_once():
    text = render_template("{{ brand }}.", {"brand": "{{ brand }}."})
    assert text == "{{ brand }}."


def test_a_draft_from_a_template_reads_well_in_both_languages(followed, settings):
    settings.TIME_ZONE = "Europe/Paris"
    for language, text in (
        ("fr", "Prochain point : {{ next_update_at }}. — {{ brand }}"),
        ("en", "Next update: {{ next_update_at }}. — {{ brand }}"),
    ):
        template = IncidentTemplate.objects.create(
            incident=followed,
            name=language,
            kind="holding",
            channel="x",
            language=language,
            text=text,
        )
        draft = selectors.draft_from_template(followed, template.pk)
        assert ".." not in draft["text"] and draft["text"].endswith(". — Maison Durand")
        if language == "fr":
            assert " à " in draft["text"] and " h " in draft["text"]
            assert "(heure de Paris)" in draft["text"]
        else:
            assert " at " in draft["text"] and "(Paris time)" in draft["text"]
