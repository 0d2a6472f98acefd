"""Work is never lost to an expired session or a rotated CSRF token, in a real browser
(static/js/keep.js): the timeline note typed before the session ended is sent after the
sign-in dialog, once; a token rotated by signing in again in another tab is refreshed and
the note sent without a word; the statement editor's text comes back after the login page."""

import os
import re

import pytest

try:
    from playwright.sync_api import expect
except ImportError:  # the conftest's skip-or-fail rule, applied at collection
    if os.environ.get("CRISISCELL_REQUIRE_BROWSER", "").strip() == "1":
        raise
    pytest.skip("the playwright package is not installed", allow_module_level=True)

from django.contrib.sessions.models import Session

from incidents.models import TimelineEntry
from statements.models import Statement

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "pw-for-tests"
NOTE = "Brand account answered the influencer at 10:42, screenshot kept"
EDITED = "We are aware of the post. We have removed it and apologise to everyone it hurt."


KEPT = "Object.keys(localStorage).filter((key) => key.startsWith('crisiscell:keep:'))"


def kept_drafts(page):
    return page.evaluate(KEPT)


def no_kept_drafts(page) -> bool:
    """Waits (5 s at most) for the kept copies to be gone: keep.js is deferred, so a page's
    message can show before it has run and forgotten them (a loaded machine saw it)."""
    page.wait_for_function(f"() => {KEPT}.length === 0", timeout=5000)
    return kept_drafts(page) == []


def expire_every_session():
    Session.objects.all().delete()


def test_an_expired_session_asks_to_sign_in_and_sends_the_note_once(page, log_in, lead, incident):
    log_in(lead, PASSWORD)
    page.goto(f"/incidents/{incident.pk}/")
    page.evaluate("window.__sameDocument = true")
    page.fill("#id_text", NOTE)
    assert len(kept_drafts(page)) == 1  # kept as it is typed

    expire_every_session()
    page.get_by_role("button", name="Add to timeline").click()

    dialog = page.locator("#sign-in-dialog")
    expect(dialog).to_be_visible()
    expect(page.locator("#id_text")).to_have_value(NOTE)  # nothing swapped, nothing lost
    expect(page.locator(".entry-form")).not_to_contain_text("Sign in to the crisis cell")

    dialog.get_by_label("Username").fill(lead.username)
    dialog.get_by_label("Password").fill("wrong")
    dialog.get_by_role("button", name="Sign in").click()
    expect(dialog.locator(".form-error")).to_contain_text("didn't match")
    expect(page.locator("#id_text")).to_have_value(NOTE)

    dialog.get_by_label("Password").fill(PASSWORD)
    dialog.get_by_role("button", name="Sign in").click()
    expect(dialog).to_be_hidden()
    expect(page.locator("#timeline")).to_contain_text(NOTE)
    expect(page.locator("#id_text")).to_have_value("")
    assert TimelineEntry.objects.filter(incident=incident, text=NOTE).count() == 1
    assert page.evaluate("window.__sameDocument") is True  # no reload
    assert no_kept_drafts(page)  # accepted: the kept copy is gone


def test_a_token_rotated_in_another_tab_is_refreshed_and_the_note_sent(
    page, log_in, lead, incident
):
    log_in(lead, PASSWORD)
    page.goto(f"/incidents/{incident.pk}/")
    page.fill("#id_text", NOTE)

    # Signing in again in another tab of the same browser rotates the CSRF token.
    other = page.context.new_page()
    other.goto("/accounts/login/")
    other.fill("#id_username", lead.username)
    other.fill("#id_password", PASSWORD)
    other.get_by_role("button", name="Sign in").click()
    other.wait_for_url(lambda url: "/accounts/login/" not in url)
    other.close()

    with page.expect_response(lambda r: "/entries/" in r.url and r.status == 403):
        page.get_by_role("button", name="Add to timeline").click()
    expect(page.locator("#timeline")).to_contain_text(NOTE)
    expect(page.locator("#sign-in-dialog")).to_be_hidden()  # still signed in: no dialog
    assert TimelineEntry.objects.filter(incident=incident, text=NOTE).count() == 1
    expect(page.locator("#toasts")).to_be_empty()


def test_the_statement_editor_gets_its_text_back_after_signing_in_again(
    page, log_in, make_statement
):
    statement = make_statement()
    log_in(statement.author, PASSWORD)
    page.goto(f"/statements/{statement.pk}/")
    page.fill("#id_text", EDITED)

    expire_every_session()
    page.get_by_role("button", name="Save as a new revision").click()

    # The login page, then back to the statement (not a blank 405), the text restored.
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next="))
    page.fill("#id_username", statement.author.username)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(rf"/statements/{statement.pk}/$"))
    expect(page.locator("#id_text")).to_have_value(EDITED)
    expect(page.locator(".keep-note")).to_contain_text("Restored what you typed before signing in.")

    page.get_by_role("button", name="Save as a new revision").click()
    expect(page.locator(".message-success")).to_contain_text("Saved.")
    statement = Statement.objects.get(pk=statement.pk)
    assert statement.revision == 2 and statement.text == EDITED
    assert no_kept_drafts(page)
    page.reload()
    expect(page.locator(".keep-note")).to_have_count(0)


def test_a_restored_draft_can_be_discarded(page, log_in, make_statement):
    statement = make_statement()
    log_in(statement.author, PASSWORD)
    page.goto(f"/statements/{statement.pk}/")
    original = page.locator("#id_text").input_value()
    page.fill("#id_text", EDITED)
    page.reload()
    expect(page.locator("#id_text")).to_have_value(EDITED)
    page.locator(".keep-note").get_by_role("button", name="Discard").click()
    expect(page.locator("#id_text")).to_have_value(original)
    expect(page.locator(".keep-note")).to_have_count(0)
    assert no_kept_drafts(page)
    page.reload()
    expect(page.locator("#id_text")).to_have_value(original)


def test_another_account_in_the_same_browser_never_sees_the_draft(
    page, log_in, make_statement, approver
):
    statement = make_statement()
    log_in(statement.author, PASSWORD)
    page.goto(f"/incidents/{statement.incident_id}/")
    page.fill("#id_text", NOTE)
    page.reload()
    expect(page.locator("#id_text")).to_have_value(NOTE)  # the author gets it back
    expect(page.locator(".entry-form .keep-note")).to_be_visible()
    log_in(approver, PASSWORD)
    page.goto(f"/incidents/{statement.incident_id}/")
    expect(page.locator("#id_text")).to_have_value("")
    expect(page.locator(".keep-note")).to_have_count(0)


def test_another_account_signing_in_meanwhile_asks_for_this_one_before_sending(
    page, log_in, lead, approver, incident
):
    log_in(lead, PASSWORD)
    page.goto(f"/incidents/{incident.pk}/")
    page.fill("#id_text", NOTE)

    # Someone else signs in in another tab of this browser: new token, other account.
    other = page.context.new_page()
    other.goto("/accounts/login/")
    other.fill("#id_username", approver.username)
    other.fill("#id_password", PASSWORD)
    other.get_by_role("button", name="Sign in").click()
    other.wait_for_url(lambda url: "/accounts/login/" not in url)
    other.close()

    page.get_by_role("button", name="Add to timeline").click()
    dialog = page.locator("#sign-in-dialog")
    expect(dialog).to_be_visible()  # never sent under the other account's name
    assert not TimelineEntry.objects.filter(text=NOTE).exists()
    dialog.get_by_label("Username").fill(lead.username)
    dialog.get_by_label("Password").fill(PASSWORD)
    dialog.get_by_role("button", name="Sign in").click()
    expect(page.locator("#timeline")).to_contain_text(NOTE)
    entry = TimelineEntry.objects.get(incident=incident, text=NOTE)
    assert entry.actor_id == lead.pk
