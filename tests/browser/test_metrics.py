"""The metrics page in a real browser: a lead opens it from the dashboard, sees the period's
figures and charts, narrows the period with the month filters, and downloads the CSV; on a
phone the charts open on their latest months."""

import os
from datetime import datetime, timedelta
from pathlib import Path

import pytest

try:
    from playwright.sync_api import expect
except ImportError:  # the conftest's skip-or-fail rule, applied at collection
    if os.environ.get("CRISISCELL_REQUIRE_BROWSER", "").strip() == "1":
        raise
    pytest.skip("the playwright package is not installed", allow_module_level=True)

from django.utils import timezone

from incidents.models import Incident
from tests.helpers import outside_the_browser_loop

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "pw-for-tests"


def test_a_lead_reads_the_metrics_filters_them_and_downloads_the_csv(page, log_in, declare, lead):
    def history():
        for title, month, severity in (("March", 3, 3), ("Also March", 3, 2), ("May", 5, 4)):
            incident = declare(title=title, severity=severity)
            declared = timezone.make_aware(datetime(2026, month, 10, 12))
            Incident.objects.filter(pk=incident.pk).update(
                declared_at=declared,
                detected_at=declared - timedelta(minutes=20),
                first_response_due_at=declared + timedelta(hours=1),
                first_response_at=declared + timedelta(minutes=30),
            )

    outside_the_browser_loop(history)
    log_in(lead, PASSWORD)
    page.goto("/?show=all")
    page.get_by_role("link", name="Metrics across incidents").click()
    page.fill("#id_since", "2026-01")
    page.fill("#id_until", "2026-06")
    page.get_by_role("button", name="Show").click()

    summary = page.locator("#mx-summary-title").locator("xpath=..")
    expect(summary).to_contain_text("January 2026")
    expect(summary).to_contain_text("June 2026")
    expect(summary.locator("dd").first).to_have_text("3")
    expect(summary).to_contain_text("100 %")  # deadlines met: 3 / 3
    expect(page.locator("figure.mx-chart svg.pm-chart")).to_have_count(4)
    expect(page.locator(".mx-months tbody tr")).to_have_count(2)  # March and May

    page.fill("#id_since", "2026-04")
    page.get_by_role("button", name="Show").click()
    expect(summary.locator("dd").first).to_have_text("1")

    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV").click()
    path = download.value.path()
    text = Path(path).read_text(encoding="utf-8")
    assert text.splitlines()[0].startswith("month,incidents")
    assert "2026-05,1," in text

    page.fill("#id_since", "2023-01")
    page.get_by_role("button", name="Show").click()
    expect(page.locator(".mx-filters")).to_contain_text("24 months at most")

    # A phone: the charts scroll sideways and open on their latest months.
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/metrics/?since=2026-01&until=2026-06")
    page.locator("figure.mx-chart").first.scroll_into_view_if_needed()
    last_bar = page.locator("figure.mx-chart svg.pm-chart").first.locator("rect").last
    expect(last_bar).to_be_in_viewport()
