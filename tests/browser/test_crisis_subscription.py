"""E-mail subscription in a real browser without JavaScript: a visitor subscribes from the
static public page, confirms with the button of the page the mail's link opens (opening
the link alone confirms nothing), receives the next update, and stops the
mails in one click from it."""

import os
import re

import pytest

from tests.browser.conftest import TIMEOUT_MS
from tests.helpers import outside_the_browser_loop

try:
    from playwright.sync_api import expect
except ImportError:  # the conftest's skip-or-fail rule, applied at collection
    if os.environ.get("CRISISCELL_REQUIRE_BROWSER", "").strip() == "1":
        raise
    pytest.skip("the playwright package is not installed", allow_module_level=True)

from celery import current_app
from django.core import mail

from incidents.crisiscenter import actions as crisis_actions
from incidents.crisiscenter.models import Subscriber
from incidents.playbooks.models import Playbook
from tests.browser.test_crisis_page_flow import UPDATE, _approve_texts, _publish_update, _setup

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = os.environ.get("CRISISCELL_SHOTS")  # a directory: screenshots to look at


def _live_page(django_user_model):
    incident, people = _setup(django_user_model)
    page = crisis_actions.page_prepare(
        incident=incident,
        actor=people["lead"],
        playbook=Playbook.objects.get(name="Rumour"),
        slug="acme-rumour",
    )
    _approve_texts(incident, people["approver"])
    crisis_actions.page_switch(page=page, actor=people["lead"], action="go_live")
    return incident, people


def _path(url: str) -> str:
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


def test_subscribe_confirm_receive_and_unsubscribe_without_javascript(
    fresh_subscription_throttle, chromium, live_server, finder_static, django_user_model
):
    eager = current_app.conf.task_always_eager
    current_app.conf.task_always_eager = True
    try:
        incident, people = outside_the_browser_loop(lambda: _live_page(django_user_model))
        context = chromium.new_context(
            base_url=live_server.url,
            java_script_enabled=False,
            viewport={"width": 390, "height": 800},
        )
        context.set_default_timeout(TIMEOUT_MS)
        visitor = context.new_page()
        if SHOTS:
            desktop = chromium.new_context(base_url=live_server.url, java_script_enabled=False)
            wide = desktop.new_page()
            wide.goto("/crisis/acme-rumour/en/")
            wide.screenshot(path=f"{SHOTS}/subscribe-desktop.png", full_page=True)
            desktop.close()
        visitor.goto("/crisis/acme-rumour/en/")
        visitor.get_by_label("Receive each update by e-mail").fill("reader@example.com")
        if SHOTS:
            visitor.screenshot(path=f"{SHOTS}/subscribe-phone.png", full_page=True)
        visitor.get_by_role("button", name="Subscribe").click()
        expect(visitor.locator("h1")).to_have_text("Check your e-mail")
        assert visitor.evaluate("document.documentElement.scrollWidth") <= 390
        if SHOTS:
            visitor.screenshot(path=f"{SHOTS}/check-mail-phone.png", full_page=True)

        [confirmation] = mail.outbox
        confirm = re.search(r"https?://\S+/confirm/\S+/", confirmation.body).group(0)
        visitor.goto(_path(confirm))  # a scanner's visit too: it confirms nothing
        expect(visitor.locator("h1")).to_have_text("Confirm your subscription")
        assert outside_the_browser_loop(lambda: Subscriber.objects.get().confirmed_at) is None
        if SHOTS:
            visitor.screenshot(path=f"{SHOTS}/confirm-phone.png", full_page=True)
        visitor.get_by_role("button", name="Confirm my subscription").click()
        expect(visitor.locator("h1")).to_have_text("Subscription confirmed")
        assert outside_the_browser_loop(lambda: Subscriber.objects.get().confirmed_at)

        outside_the_browser_loop(lambda: _publish_update(incident, people))
        [update] = mail.outbox[1:]
        assert UPDATE in update.body and update.to == ["reader@example.com"]
        unsubscribe = update.extra_headers["List-Unsubscribe"].strip("<>")
        assert unsubscribe in update.body

        visitor.goto(_path(unsubscribe))
        expect(visitor.locator("h1")).to_have_text("Stop the e-mails?")
        if SHOTS:
            visitor.screenshot(path=f"{SHOTS}/unsubscribe-phone.png", full_page=True)
        visitor.get_by_role("button", name="Unsubscribe").click()
        expect(visitor.locator("h1")).to_have_text("You are unsubscribed")
        assert outside_the_browser_loop(lambda: Subscriber.objects.get().unsubscribed_at)
        context.close()
    finally:
        current_app.conf.task_always_eager = eager
