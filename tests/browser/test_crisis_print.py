"""The public crisis page printed (a real browser's print media): the words, not the
controls (subscription form, feed links, language switch)."""

import os

import pytest

from tests.browser.conftest import TIMEOUT_MS
from tests.helpers import outside_the_browser_loop

try:
    from playwright.sync_api import expect
except ImportError:  # the conftest's skip-or-fail rule, applied at collection
    if os.environ.get("CRISISCELL_REQUIRE_BROWSER", "").strip() == "1":
        raise
    pytest.skip("the playwright package is not installed", allow_module_level=True)

from tests.browser.test_crisis_subscription import _live_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_printed_page_shows_the_words_and_hides_the_controls(
    chromium, live_server, finder_static, django_user_model
):
    outside_the_browser_loop(lambda: _live_page(django_user_model))
    context = chromium.new_context(base_url=live_server.url, java_script_enabled=False)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.goto("/crisis/acme-rumour/en/")
    controls = ("form.subscribe", ".feeds")  # (one language here: no switch)
    for control in controls:
        expect(page.locator(control)).to_be_visible()
    page.emulate_media(media="print")
    expect(page.locator("h1")).to_be_visible()
    expect(page.locator("#updates")).to_be_visible()
    for control in controls:
        expect(page.locator(control)).to_be_hidden()
    context.close()
