"""Promises kept in a real browser: the room counts down to the promised update with the
room's own countdown, turns to "overdue by" when its time passed, and a spokesperson
publishes an approved update with the next time from the panel; the public page shows,
under the update, the time it announced."""

import datetime
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

from django.utils import timezone

from incidents.crisiscenter import actions, promises
from incidents.crisiscenter.models import UpdatePromise
from statements import actions as statement_actions

from .test_crisis_page_flow import PASSWORD, _approve_texts, _setup

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

UPDATE = "The rumour is false: every batch is clean."


def _live_page(incident, people):
    page = actions.page_prepare(
        incident=incident,
        actor=people["lead"],
        slug="acme-promise",
        next_update_at=timezone.now() + datetime.timedelta(minutes=10),
    )
    actions.page_text_draft(
        page=page,
        actor=people["drafter"],
        section="summary",
        language="en",
        text="Acme products are safe\nA false rumour is circulating.",
    )
    _approve_texts(incident, people["approver"])
    actions.page_switch(page=page, actor=people["lead"], action="go_live")
    statement = statement_actions.statement_create(
        incident=incident,
        actor=people["drafter"],
        kind="update",
        channel="crisis_center",
        language="en",
        text=UPDATE,
    )
    statement = statement_actions.statement_submit(statement=statement, actor=people["drafter"])
    statement_actions.statement_approve(
        statement=statement, actor=people["approver"], revision=statement.revision
    )
    return page


def _lapse(page):
    promise = promises.current(page)
    UpdatePromise.objects.filter(pk=promise.pk).update(
        made_at=promise.made_at - datetime.timedelta(hours=1),
        due_at=promise.due_at - datetime.timedelta(minutes=20),
    )


def _sign_in(chromium, live_server, username):
    context = chromium.new_context(base_url=live_server.url, locale="en-GB")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    return context, page


def test_the_room_counts_down_and_an_update_keeps_the_promise(
    chromium, live_server, finder_static, django_user_model
):
    incident, people = outside_the_browser_loop(lambda: _setup(django_user_model))
    page = outside_the_browser_loop(lambda: _live_page(incident, people))
    context, room = _sign_in(chromium, live_server, "spokesperson")
    room.goto(f"/incidents/{incident.pk}/")
    countdown = room.locator("#crisis-page-panel .promise-countdown")
    expect(countdown.locator(".countdown-value")).to_contain_text("left")
    expect(countdown).to_have_class(re.compile(r"\bis-urgent\b"))  # within 15 minutes

    outside_the_browser_loop(lambda: _lapse(page))
    room.reload()
    expect(countdown.locator(".countdown-value")).to_contain_text("overdue by")
    expect(countdown).to_have_class(re.compile(r"\bis-overdue\b"))

    panel = room.locator("#crisis-page-panel")
    form = panel.locator(".crisis-to-publish form")
    later = timezone.localtime(timezone.now() + datetime.timedelta(hours=2))
    form.get_by_label("Next update at").fill(later.strftime("%Y-%m-%dT%H:%M"))
    form.get_by_role("button", name="Publish").click()
    expect(panel.locator(".crisis-promises")).to_contain_text("Kept late")
    expect(countdown.locator(".countdown-value")).to_contain_text("left")
    expect(countdown).not_to_have_class(re.compile(r"\bis-(urgent|overdue)\b"))  # two hours

    visitor = context.new_page()
    visitor.goto("/crisis/acme-promise/en/")
    expect(visitor.locator(".updates")).to_contain_text(UPDATE)
    expect(visitor.locator(".updates .announced")).to_contain_text("Next update announced for:")
    context.close()


def test_a_next_time_the_page_cannot_promise_is_refused_beside_the_form_and_kept(
    chromium, live_server, finder_static, django_user_model
):
    """Resolved while the panel was open: Publish with a next time is refused beside the
    form, with the typed time still in it, and nothing is published."""
    incident, people = outside_the_browser_loop(lambda: _setup(django_user_model))
    page = outside_the_browser_loop(lambda: _live_page(incident, people))
    context, room = _sign_in(chromium, live_server, "spokesperson")
    room.goto(f"/incidents/{incident.pk}/")
    form = room.locator("#crisis-page-panel .crisis-to-publish form")
    typed = timezone.localtime(timezone.now() + datetime.timedelta(hours=2)).strftime(
        "%Y-%m-%dT%H:%M"
    )
    form.get_by_label("Next update at").fill(typed)
    # Resolved behind the panel's back (no live event: the panel is not refreshed).
    outside_the_browser_loop(lambda: type(page).objects.filter(pk=page.pk).update(state="resolved"))
    form.get_by_role("button", name="Publish").click()
    error = room.locator("#crisis-page-panel .form-error")
    expect(error).to_contain_text("The crisis page is resolved")
    expect(form.get_by_label("Next update at")).to_have_value(typed)
    assert not outside_the_browser_loop(
        lambda: incident.statements.filter(status="published", kind="update").exists()
    )
    context.close()
