"""On a phone (390 px) no signed-in page is wider than the screen: the whole page never
scrolls sideways (a wide table scrolls inside its own box). Walked over the demo's data, as
a new user meets it on `make run`: a resolved incident whose timeline holds a post-mortem's
SHA-256, the Listening chart's legend sentence, the lead's cell roster, a signal's page."""

import io

import pytest
from django.core.management import call_command

from demo.management.commands.load_demo import DEMO_PASSWORD
from incidents.listening.models import Signal, Watch
from incidents.models import Incident
from statements.models import Statement
from tests.browser.conftest import TIMEOUT_MS
from tests.helpers import outside_the_browser_loop

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


def _demo_paths(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    call_command("load_demo", stdout=io.StringIO())
    incidents = Incident.objects.order_by("pk").values_list("pk", flat=True)
    rooms = [f"/incidents/{pk}/" for pk in incidents]
    resolved = Incident.objects.get(status="resolved")
    first = Incident.objects.order_by("pk").first()
    return [
        "/",
        *rooms,
        f"/incidents/{resolved.pk}/postmortem/",
        f"/incidents/{first.pk}/replies/",
        f"/incidents/{first.pk}/evidence/",
        "/listening/",
        "/listening/signals/",
        f"/listening/signals/{Signal.objects.order_by('pk').first().pk}/",
        f"/listening/watches/{Watch.objects.order_by('pk').first().pk}/edit/",
        "/listening/import/",
        "/approvals/",
        "/metrics/",
        "/notifications/",
        f"/statements/{Statement.objects.order_by('pk').first().pk}/",
    ]


def test_no_page_of_the_demo_is_wider_than_a_phone(chromium, asgi_server, settings, tmp_path):
    paths = outside_the_browser_loop(lambda: _demo_paths(settings, tmp_path))
    context = chromium.new_context(base_url=asgi_server, viewport=PHONE, locale="en-GB")
    context.set_default_timeout(TIMEOUT_MS)
    tab = context.new_page()
    tab.goto("/accounts/login/")
    tab.fill("#id_username", "lead")
    tab.fill("#id_password", DEMO_PASSWORD)
    tab.get_by_role("button", name="Sign in").click()
    tab.wait_for_url(lambda url: "/accounts/login/" not in url)
    wider = {}
    for path in paths:
        assert tab.goto(path).status == 200, path
        width = tab.evaluate("() => document.documentElement.scrollWidth")
        if width > PHONE["width"]:
            wider[path] = width
    # A statement's text comes before its approval box: read, then approve.
    main, side = (
        tab.locator(f".statement-grid > {part}").bounding_box()["y"]
        for part in (".room-main", ".room-side")
    )
    context.close()
    assert wider == {}, wider
    assert main < side


def test_each_freezing_incident_has_its_own_line_on_a_phone(
    chromium, asgi_server, settings, tmp_path
):
    # The demo's two incidents freeze promotions: on a phone their names sat in one row
    # that scrolled sideways, each cut, the last one too even when scrolled to.
    outside_the_browser_loop(lambda: _demo_paths(settings, tmp_path))
    context = chromium.new_context(base_url=asgi_server, viewport=PHONE, locale="en-GB")
    context.set_default_timeout(TIMEOUT_MS)
    tab = context.new_page()
    tab.goto("/accounts/login/")
    tab.fill("#id_username", "drafter")
    tab.fill("#id_password", DEMO_PASSWORD)
    tab.get_by_role("button", name="Sign in").click()
    tab.wait_for_url(lambda url: "/accounts/login/" not in url)
    boxes = tab.locator(".freeze-banner-incidents li").evaluate_all(
        "items => items.map(li => { const r = li.getBoundingClientRect();"
        " return {top: r.top, right: r.right}; })"
    )
    context.close()
    assert len(boxes) >= 2
    assert len({box["top"] for box in boxes}) == len(boxes)  # one a line
    assert all(box["right"] <= PHONE["width"] for box in boxes)  # none runs off the screen
