"""WCAG 2.2 AA (axe-core, tests/browser/axe.py) on the pages the public reads: a live crisis
page in French and English (updates and a correction, FAQ, help, next update), a resolved
page with its banner, the index, and the e-mail subscription pages (check your mail,
confirm, unsubscribe, an error), on a desktop and on a phone (390 px); then the signed-in
pages most people see, the dashboard and the incident room."""

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

from celery import current_app
from django.core import mail
from django.utils import timezone

from incidents import actions as incident_actions
from incidents.crisiscenter import actions as crisis_actions
from incidents.crisiscenter.models import CrisisPageTemplate
from incidents.playbooks.models import Playbook
from statements import actions as statement_actions
from tests.browser.axe import assert_accessible
from tests.browser.test_crisis_page_flow import PASSWORD, _approve_texts, _setup

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


def _publish(incident, people, text, *, language="en", corrects=None):
    statement = statement_actions.statement_create(
        incident=incident,
        actor=people["drafter"],
        kind="correction" if corrects else "update",
        channel="crisis_center",
        language=language,
        text=text,
        corrects=corrects,
    )
    statement = statement_actions.statement_submit(statement=statement, actor=people["drafter"])
    statement = statement_actions.statement_approve(
        statement=statement, actor=people["approver"], revision=statement.revision
    )
    return statement_actions.statement_publish(statement=statement, actor=people["spokesperson"])


def _declare(people, title):
    incident = incident_actions.incident_declare(
        actor=people["lead"],
        title=title,
        category="rumour",
        origin="online",
        platforms=["x"],
        severity=2,
    )
    for role in ("drafter", "approver", "spokesperson"):
        incident_actions.member_add(
            incident=incident,
            actor=people["lead"],
            user=people[role],
            role=role,
            function="other" if role == "approver" else "",
        )
    return incident


def _pages(django_user_model):
    """A live page in English and French with everything a page can show, and a resolved
    one."""
    incident, people = _setup(django_user_model)
    playbook = Playbook.objects.get(name="Rumour")
    playbook.crisis_templates.filter(language="en").update(
        doing="We test every batch again and publish the results here.",
        faq="Is the product safe?\nYes: every batch is tested.\n---\nCan I get a refund?\n"
        "Yes, in any shop, with or without a receipt.",
    )
    CrisisPageTemplate.objects.create(
        playbook=playbook,
        language="fr",
        summary="Les produits Acme sont sûrs\nUne fausse rumeur circule sur {{ brand }}.",
        doing="Nous testons chaque lot et publions les résultats ici.",
        help="Service client : 0800 123 456, https://aide.example.com",
        faq="Le produit est-il sûr ?\nOui : chaque lot est testé.",
    )
    live = crisis_actions.page_prepare(
        incident=incident,
        actor=people["lead"],
        playbook=playbook,
        slug="acme-rumour",
        next_update_at=timezone.now() + datetime.timedelta(hours=2),
    )
    _approve_texts(incident, people["approver"])
    crisis_actions.page_switch(page=live, actor=people["lead"], action="go_live")
    first = _publish(incident, people, "Batch 42 was tested on Monday: it is clean.")
    _publish(incident, people, "Le lot 42 a été testé lundi : il est sain.", language="fr")
    _publish(incident, people, "Batch 42 was tested on Tuesday, not Monday.", corrects=first)

    other = _declare(people, "Internal: the 2025 recall")
    resolved = crisis_actions.page_prepare(
        incident=other, actor=people["lead"], playbook=playbook, slug="acme-recall"
    )
    _approve_texts(other, people["approver"])
    crisis_actions.page_switch(page=resolved, actor=people["lead"], action="go_live")
    _publish(other, people, "Every recalled pack has been replaced.")
    crisis_actions.page_switch(page=resolved, actor=people["lead"], action="resolve")
    return incident, people


def _path(url: str) -> str:
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


@pytest.fixture
def eager_tasks():
    eager = current_app.conf.task_always_eager
    current_app.conf.task_always_eager = True
    yield
    current_app.conf.task_always_eager = eager


@pytest.mark.parametrize("width", WIDTHS)
def test_the_public_pages_meet_wcag_22_aa(
    fresh_subscription_throttle,
    chromium,
    live_server,
    finder_static,
    django_user_model,
    eager_tasks,
    width,
):
    outside_the_browser_loop(lambda: _pages(django_user_model))
    # The public pages' policy forbids every script, axe's too: bypassed for this check only.
    context = chromium.new_context(
        base_url=live_server.url, viewport=WIDTHS[width], bypass_csp=True, locale="en-GB"
    )
    context.set_default_timeout(TIMEOUT_MS)
    visitor = context.new_page()

    for path, what in [
        ("/crisis/acme-rumour/en/", "the live page in English"),
        ("/crisis/acme-rumour/fr/", "the live page in French"),
        ("/crisis/acme-recall/en/", "a resolved page"),
        ("/crisis/", "the index"),
        ("/crisis/en/", "the index in English"),
    ]:
        assert visitor.goto(path).status == 200, path
        assert_accessible(visitor, what)
        # Reflow (WCAG 1.4.10): no sideways scrolling at the width of the viewport.
        assert visitor.evaluate("document.documentElement.scrollWidth") <= WIDTHS[width]["width"]
    if width == "phone":  # WCAG 1.4.10 measures reflow at 320 CSS pixels
        visitor.set_viewport_size({"width": 320, "height": 700})
        for path in ("/crisis/acme-rumour/en/", "/crisis/acme-rumour/fr/", "/crisis/"):
            visitor.goto(path)
            assert visitor.evaluate("document.documentElement.scrollWidth") <= 320, path
        visitor.set_viewport_size(WIDTHS[width])
    visitor.goto("/crisis/acme-rumour/fr/")
    expect(visitor.locator(".updates .correction")).to_have_count(0)
    visitor.goto("/crisis/acme-rumour/en/")
    expect(visitor.locator(".updates .correction")).to_have_count(1)
    expect(visitor.locator("details")).to_have_count(2)
    # Printed: the words, the updates and the answers; no form, no menu, no feed links.
    visitor.emulate_media(media="print")
    expect(visitor.locator(".updates")).to_be_visible()
    expect(visitor.locator("details .text").first).to_be_visible()
    for chrome in ("form.subscribe", "nav.languages", ".feeds", ".skip"):
        expect(visitor.locator(chrome)).to_be_hidden()
    visitor.emulate_media(media="screen")
    visitor.goto("/crisis/acme-recall/en/")
    expect(visitor.locator(".banner.resolved")).to_be_visible()

    # The subscription pages, from the page's form to the one-click unsubscribe.
    visitor.goto("/crisis/acme-rumour/en/")
    visitor.get_by_label("Receive each update by e-mail").fill("reader@example.com")
    visitor.get_by_role("button", name="Subscribe").click()
    expect(visitor.locator("h1")).to_have_text("Check your e-mail")
    assert_accessible(visitor, "check your e-mail")

    [confirmation] = mail.outbox
    confirm = re.search(r"https?://\S+/confirm/\S+/", confirmation.body).group(0)
    visitor.goto(_path(confirm))
    assert_accessible(visitor, "the confirmation link's page")
    button = visitor.locator("main form button")
    if button.count():  # confirming may take a button press (a GET must not change state)
        button.click()
        expect(visitor.locator("h1")).to_have_text("Subscription confirmed")
        assert_accessible(visitor, "subscription confirmed")

    outside_the_browser_loop(
        lambda: _publish(
            *_people_of("acme-rumour", django_user_model), "The shops have the new batches."
        )
    )
    unsubscribe = mail.outbox[-1].extra_headers["List-Unsubscribe"].strip("<>")
    visitor.goto(_path(unsubscribe))
    expect(visitor.locator("h1")).to_have_text("Stop the e-mails?")
    assert_accessible(visitor, "stop the e-mails?")
    visitor.get_by_role("button", name="Unsubscribe").click()
    expect(visitor.locator("h1")).to_have_text("You are unsubscribed")
    assert_accessible(visitor, "unsubscribed")

    response = visitor.goto(_path(confirm))  # used: an error page
    assert response.status == 400
    assert_accessible(visitor, "a used confirmation link")
    assert visitor.goto("/crisis/acme-rumour/confirm/not-a-token/").status == 400
    assert_accessible(visitor, "an invalid confirmation link")
    context.close()


def _people_of(slug, django_user_model):
    from incidents.crisiscenter.models import CrisisPage

    incident = CrisisPage.objects.get(slug=slug).incident
    people = {
        name: django_user_model.objects.get(username=name)
        for name in ("lead", "drafter", "approver", "spokesperson")
    }
    return incident, people


@pytest.mark.parametrize("width", WIDTHS)
def test_the_signed_in_pages_most_people_see_meet_wcag_22_aa(
    chromium, asgi_server, django_user_model, width
):
    """The sign-in page, the dashboard, the incident room (with its live socket: the ASGI
    server), a statement's page, the approvals inbox and the crisis page's preview."""
    incident, _people = outside_the_browser_loop(lambda: _pages(django_user_model))
    statement = outside_the_browser_loop(lambda: incident.statements.order_by("pk").last())
    context = chromium.new_context(
        base_url=asgi_server, viewport=WIDTHS[width], bypass_csp=True, locale="en-GB"
    )
    context.set_default_timeout(TIMEOUT_MS)
    tab = context.new_page()
    tab.goto("/accounts/login/")
    assert_accessible(tab, "the sign-in page")
    tab.fill("#id_username", "lead")
    tab.fill("#id_password", PASSWORD)
    tab.get_by_role("button", name="Sign in").click()
    tab.wait_for_url(lambda url: "/accounts/login/" not in url)
    for path, what in [
        ("/", "the dashboard"),
        (f"/incidents/{incident.pk}/", "the incident room"),
        (f"/statements/{statement.pk}/", "a statement's page"),
        ("/approvals/", "the approvals inbox"),
        (f"/incidents/{incident.pk}/crisis-page/preview/", "the crisis page's preview"),
    ]:
        assert tab.goto(path).status == 200, path
        assert_accessible(tab, what)
    context.close()
