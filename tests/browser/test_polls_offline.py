"""A page's polls (hx-trigger="every …") while the server cannot be reached: the room's
notice of missing posts asks again every minute; offline, its failure is said once, not
every minute, and said to be over once a poll gets an answer; what the person does
(a timeline filter) is still answered every time. A bar at the top says since when the
page may be out of date, as long as the outage lasts. Time runs on the page's fake clock."""

import time
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from incidents.listening.models import CollectorState
from tests.browser.conftest import ARTIFACTS, PASSWORD
from tests.helpers import outside_the_browser_loop
from tests.listening.conftest import lead_of_a_listened_incident

pytestmark = pytest.mark.browser

OFFLINE = "The server cannot be reached. Check your connection."
ONLINE = "The server can be reached again."
MINUTE_MS = 60_000
PHONE = {"width": 390, "height": 844}

# Every toast the page shows, in order (they remove themselves after a few seconds), and
# the polls that failed to reach the server.
RECORD = """() => {
  window.__toasts = [];
  window.__pollsFailed = 0;
  new MutationObserver((changes) => changes.forEach((change) => change.addedNodes.forEach(
    (node) => window.__toasts.push(node.textContent)))).observe(
    document.getElementById("toasts"), { childList: true });
  document.addEventListener("htmx:sendError", (event) => {
    if (!event.detail.requestConfig.triggeringEvent) window.__pollsFailed += 1;
  });
}"""


@pytest.fixture
def room(django_user_model, asgi_server, settings):
    """A lead of an open incident who reads listening, while collecting from Mastodon
    stopped an hour ago (the room's mentions panel says so, and asks again every minute)."""
    settings.LISTENING_MASTODON = [{"base_url": "https://social.example"}]
    settings.LISTENING_FEEDS = []

    def make():
        lead, incident = lead_of_a_listened_incident(
            django_user_model, PASSWORD, "Kettle lids coming off"
        )
        CollectorState.objects.create(
            name="mastodon:https://social.example",
            updated_at=timezone.now() - timedelta(hours=1),
        )
        return lead, incident

    return outside_the_browser_loop(make)


def wait_until(tab, script, at_least):
    deadline = time.monotonic() + 20
    while tab.evaluate(script) < at_least:
        assert time.monotonic() < deadline, f"{script} stayed under {at_least}"
        time.sleep(0.05)


def offline(route):
    route.abort("internetdisconnected")


def test_a_failing_poll_is_said_once_and_a_click_every_time(signed_in, room):
    lead, incident = room
    tab = signed_in(lead)
    tab.clock.install()
    tab.goto(f"/incidents/{incident.pk}/")
    notice = tab.locator("#mentions-panel .source-notice")
    expect(notice).to_contain_text("Posts from Mastodon may be missing:")
    tab.evaluate(RECORD)
    toasts = "window.__toasts.length"

    # The server goes away: three minutes of polls failing, said once.
    tab.route("**/*", offline)
    for minute in range(1, 4):
        tab.clock.run_for(MINUTE_MS)
        wait_until(tab, "window.__pollsFailed", minute)
    assert tab.evaluate("window.__toasts") == [OFFLINE]
    # The room says it too, lastingly: its live dot speaks of the socket only, which can
    # stay up while the page's requests fail (here: the socket is not routed).
    bar = tab.locator("#offline-notice")
    expect(bar).to_contain_text("what this page shows may be out of date")
    expect(tab.locator("#live-status")).to_have_attribute("data-state", "live")

    # What the person asks for is answered each time, offline as before.
    kinds = tab.locator(".timeline-filters select").first
    kinds.select_option(index=1)
    wait_until(tab, toasts, 2)
    kinds.select_option(index=0)
    wait_until(tab, toasts, 3)
    tab.clock.run_for(MINUTE_MS)  # and the poll still says nothing more
    wait_until(tab, "window.__pollsFailed", 4)
    assert tab.evaluate("window.__toasts") == [OFFLINE] * 3

    # Back: the next poll gets its answer, said once; the notice is still there.
    tab.unroute("**/*", offline)
    tab.clock.run_for(MINUTE_MS)
    wait_until(tab, toasts, 4)
    assert tab.evaluate("window.__toasts")[3] == ONLINE
    expect(bar).to_have_text("")
    expect(notice).to_contain_text("collecting them seems to have stopped")

    # Gone again: said again, once.
    tab.route("**/*", offline)
    for minute in range(5, 7):
        tab.clock.run_for(MINUTE_MS)
        wait_until(tab, "window.__pollsFailed", minute)
    assert tab.evaluate("window.__toasts") == [OFFLINE] * 3 + [ONLINE, OFFLINE]


def test_the_listening_page_says_how_long_it_may_be_out_of_date(signed_in, room):
    # A new user's pass: offline, the toast went after 6 s and the page went on showing its
    # signals as if current, with no sign, for the whole outage.
    lead, _incident = room
    tab = signed_in(lead, timezone_id="Europe/Paris")
    tab.set_viewport_size(PHONE)
    tab.clock.install(time=datetime(2026, 3, 2, 9, 41, 30, tzinfo=UTC))  # 10:41 in Paris
    tab.goto("/listening/")
    expect(tab.locator(".sources-recheck")).to_have_count(1)  # its poll, every minute
    bar = tab.locator("#offline-notice")
    expect(bar).to_have_text("")
    expect(bar).to_have_attribute("role", "status")
    heading = tab.locator("main h1").first
    top = heading.bounding_box()["y"]
    tab.evaluate(RECORD)

    tab.route("**/*", offline)
    tab.clock.run_for(MINUTE_MS)
    wait_until(tab, "window.__pollsFailed", 1)
    since = (
        "Offline since 10:42: what this page shows may be out of date. "
        "It updates again as soon as the server answers."
    )
    expect(bar).to_have_text(since)
    # Above the page, pushing it down (nothing covered), within the phone's width.
    box = bar.bounding_box()
    assert (
        box["width"] <= PHONE["width"] and box["y"] + box["height"] <= heading.bounding_box()["y"]
    )
    assert heading.bounding_box()["y"] > top
    assert tab.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)  # to look at: the bar on a phone
    tab.screenshot(path=str(ARTIFACTS / "offline-bar-390.png"))

    # Minutes later the toast is long gone, the bar still there, still since 10:42.
    for minute in range(2, 6):
        tab.clock.run_for(MINUTE_MS)
        wait_until(tab, "window.__pollsFailed", minute)
    expect(tab.locator("#toasts .toast")).to_have_count(0)
    expect(bar).to_have_text(since)
    # Scrolled down to the signals, it is still in sight.
    tab.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    assert tab.evaluate("window.scrollY") > 0
    assert 0 <= bar.bounding_box()["y"] < PHONE["height"]
    tab.screenshot(path=str(ARTIFACTS / "offline-bar-390-scrolled.png"))

    # Back: the next poll's answer empties it; "can be reached again" is said once.
    tab.unroute("**/*", offline)
    tab.clock.run_for(MINUTE_MS)
    expect(bar).to_have_text("")
    assert bar.bounding_box() is None or bar.bounding_box()["height"] == 0
    assert tab.evaluate("window.__toasts") == [OFFLINE, ONLINE]


@pytest.mark.parametrize("status", [502, 522, 530])
def test_a_gateway_error_is_the_server_out_of_reach(signed_in, room, status):
    # Behind Cloudflare the app being down reads 52x or 530, not nginx's 502/503/504.
    lead, _incident = room
    tab = signed_in(lead)
    tab.clock.install()
    tab.goto("/listening/")
    expect(tab.locator(".sources-recheck")).to_have_count(1)
    tab.evaluate(RECORD)

    def gateway(route):
        route.fulfill(status=status, body="<html><body>Origin is unreachable</body></html>")

    tab.route("**/*", gateway)
    tab.clock.run_for(MINUTE_MS)
    expect(tab.locator("#offline-notice")).to_contain_text("Offline since")
    tab.clock.run_for(MINUTE_MS)
    tab.unroute("**/*", gateway)
    tab.clock.run_for(MINUTE_MS)
    expect(tab.locator("#offline-notice")).to_have_text("")
    assert tab.evaluate("window.__toasts") == [OFFLINE, ONLINE]
