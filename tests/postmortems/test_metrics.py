"""Metrics across incidents: who may see them (staff, and the leads of crisis cells, each over
the incidents they may see), the figures per month (incidents by category and severity,
median times to declare and to first response, deadlines met, approval latency, reply
coverage, open action items by owner), the filters and their bounds, the page, the CSV and
the API — in a constant number of queries whatever the number of incidents."""

import csv
import io
import re
from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from incidents.models import Incident
from incidents.postmortems import actions, metrics
from tests.helpers import assert_error


def placed(declare, lead, title, *, month, detect_min, respond_min=None, due_min=60, **fields):
    """An incident declared on the 10th of `month` (YYYY-MM) at noon, detected `detect_min`
    minutes before, answered `respond_min` minutes after (None: not yet), its deadline
    `due_min` minutes after declaration."""
    incident = declare(title=title, **fields)
    year, number = (int(p) for p in month.split("-"))
    declared = timezone.make_aware(datetime(year, number, 10, 12))
    Incident.objects.filter(pk=incident.pk).update(
        declared_at=declared,
        detected_at=declared - timedelta(minutes=detect_min),
        first_response_due_at=declared + timedelta(minutes=due_min),
        first_response_at=None
        if respond_min is None
        else declared + timedelta(minutes=respond_min),
    )
    return incident


@pytest.fixture
def year(declare, lead):
    """Three incidents led by the lead in 2026: two in March (one met its deadline, one
    missed it), one in May still unanswered past its deadline."""
    return [
        placed(
            declare, lead, "March A", month="2026-03", detect_min=10, respond_min=30, severity=3
        ),
        placed(
            declare,
            lead,
            "March B",
            month="2026-03",
            detect_min=30,
            respond_min=90,
            category="rumour",
            severity=2,
        ),
        placed(declare, lead, "May", month="2026-05", detect_min=20, severity=4),
    ]


PERIOD = {"since": "2026-01", "until": "2026-06"}


def get_api(api, user, **params):
    return api.as_user(user).get("/api/metrics/", {**PERIOD, **params})


def test_the_figures_per_month_and_over_the_period(year, lead, api):
    body = get_api(api, lead).json()
    total = body["total"]
    assert total["incidents"] == 3
    assert {r["category"]: r["count"] for r in total["by_category"]} == {
        "public_statement": 2,
        "rumour": 1,
    }
    assert {r["severity"]: r["count"] for r in total["by_severity"]} == {1: 0, 2: 1, 3: 1, 4: 1}
    assert total["declare_median_seconds"] == 20 * 60
    assert total["first_response_median_seconds"] == 60 * 60  # median of 30 and 90 min
    assert (total["deadlines_due"], total["deadlines_met"]) == (3, 1)
    assert total["deadlines_met_share"] == pytest.approx(1 / 3)
    months = {m["month"]: m for m in body["months"]}
    assert list(months) == ["2026-01", "2026-02", "2026-03", "2026-04", "2026-05", "2026-06"]
    assert months["2026-03"]["incidents"] == 2 and months["2026-04"]["incidents"] == 0
    assert months["2026-04"]["declare_median_seconds"] is None
    assert months["2026-05"]["deadlines_met_share"] == 0


def test_filters_by_category_and_period(year, lead, api):
    assert get_api(api, lead, category="rumour").json()["total"]["incidents"] == 1
    body = get_api(api, lead, since="2026-04", until="2026-05").json()
    assert body["total"]["incidents"] == 1 and len(body["months"]) == 2


def test_bad_filters_are_refused_and_an_empty_period_is_not_an_error(
    year, lead, api, browser_client
):
    assert_error(get_api(api, lead, since="2024-01", until="2026-06"), 400)  # 30 months
    assert_error(get_api(api, lead, since="2026-06", until="2026-01"), 400)
    assert_error(get_api(api, lead, since="June"), 400)
    assert_error(get_api(api, lead, since="9999-11", until="9999-12"), 400)  # no year 10000
    assert_error(get_api(api, lead, category="nope"), 400)
    empty = get_api(api, lead, since="2020-01", until="2020-12").json()
    assert empty["total"]["incidents"] == 0 and empty["open_items_by_owner"] == []
    client = browser_client.as_user(lead)
    page = client.get("/metrics/", {"since": "2020-01", "until": "2020-12"})
    assert page.status_code == 200 and "No incident over this period" in page.content.decode()
    refused = client.get("/metrics/", {"since": "2024-01", "until": "2026-06"})
    assert refused.status_code == 400 and "24 months at most" in refused.content.decode()


def test_who_may_see_them(
    year,
    incident,
    lead,
    drafter,
    observer,
    outsider,
    staff,
    make_user,
    declare,
    api,
    browser_client,
):
    # The persona incident: the drafter and the observer are in its cell, not leading it.
    for user in (drafter, observer, outsider):
        assert_error(get_api(api, user), 403)
        assert browser_client.as_user(user).get("/metrics/").status_code == 403
    assert get_api(api, staff).status_code == 200
    assert browser_client.as_user(staff).get("/metrics/").status_code == 200
    # Another lead sees the incidents whose cells they are in, not the lead's.
    other = make_user("other-lead")
    placed(declare, other, "Theirs", month="2026-02", detect_min=5, actor=other)
    assert get_api(api, other).json()["total"]["incidents"] == 1
    assert get_api(api, staff).json()["total"]["incidents"] == 4


def test_open_action_items_by_owner(year, lead, drafter, api):
    pm = actions.postmortem_create(incident=year[0], actor=lead)
    for title in ("Train", "Templates"):
        actions.item_add(
            postmortem=pm,
            actor=lead,
            title=title,
            owner=lead,
            due_date=timezone.localdate() + timedelta(days=3),
        )
    owners = get_api(api, lead).json()["open_items_by_owner"]
    assert owners == [
        {"owner": {"id": lead.pk, "name": "Camille Laurent"}, "open": 2, "overdue": 0}
    ]


def test_the_page_and_the_csv(year, lead, browser_client):
    client = browser_client.as_user(lead)
    page = client.get("/metrics/", PERIOD).content.decode()
    assert "Incidents per month by severity" in page and "<svg" in page
    assert "Download CSV" in page
    response = client.get("/metrics/export.csv", PERIOD)
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:2] == ["month", "incidents"]
    assert [r[0] for r in rows[1:8]] == [
        "2026-01",
        "2026-02",
        "2026-03",
        "2026-04",
        "2026-05",
        "2026-06",
        "total",
    ]
    assert rows[3][1] == "2" and rows[7][1] == "3"
    # A name a spreadsheet would take for a formula is quoted.
    assert metrics_export_cell("=cmd()") == "'=cmd()"


def metrics_export_cell(value):
    from incidents.postmortems.metrics_export import _cell

    return _cell(value)


def test_constant_queries_whatever_the_number_of_incidents(
    year, declare, lead, api, browser_client, django_assert_max_num_queries
):
    client = browser_client.as_user(lead)
    with django_assert_max_num_queries(40) as page_counted:
        client.get("/metrics/", PERIOD)
        page_queries = len(page_counted)
    with django_assert_max_num_queries(40) as api_counted:
        get_api(api, lead)
        api_queries = len(api_counted)
    for i in range(6):
        placed(declare, lead, f"More {i}", month=f"2026-0{1 + i}", detect_min=i, respond_min=i)
    with django_assert_max_num_queries(page_queries):
        client.get("/metrics/", PERIOD)
    with django_assert_max_num_queries(api_queries):
        get_api(api, lead)


def test_the_period_is_bounded():
    assert metrics.MAX_MONTHS == 24
    filters = metrics.Filters.default(datetime(2026, 12, 1).date())
    assert (filters.first.isoformat(), filters.last.isoformat()) == ("2026-01-01", "2026-12-01")


def test_the_charts_months_read_apart_in_french(year, lead, browser_client):
    # Django's "M" writes both June and July "Jui" in French: the axis names them apart.
    from django.utils import translation

    client = browser_client.as_user(lead)
    with translation.override("fr"):
        page = client.get(
            "/metrics/", {"since": "2026-05", "until": "2026-08"}, HTTP_ACCEPT_LANGUAGE="fr"
        ).content.decode()
    assert "juin 2026" in page and "juil. 2026" in page
    assert "Jui 2026" not in page
    # Coordinates with a dot whatever the language (a French "226,5" draws nothing).
    assert not re.search(r'\b(?:x|y|x1|x2|y1|y2|cx|cy|r|width|height)="[^"]*\d,\d', page)
