"""The spokesperson's view of an approved statement, in a real browser: the text is
read-only with a copy button (the exact text reaches the clipboard), and editing it is a
folded, secondary control whose save asks for a confirmation because it voids the approval."""

import os

import pytest

try:
    from playwright.sync_api import expect
except ImportError:  # the conftest's skip-or-fail rule, applied at collection
    if os.environ.get("CRISISCELL_REQUIRE_BROWSER", "").strip() == "1":
        raise
    pytest.skip("the playwright package is not installed", allow_module_level=True)

from statements.models import Statement

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "pw-for-tests"
TEXT = "We are aware of the post.\nWe are looking into it and will say more at 6 pm."


def test_the_approved_text_is_read_only_and_editing_it_is_confirmed(
    page, log_in, make_statement, spokesperson, live_server
):
    statement = make_statement(text=TEXT, state="approved")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    log_in(spokesperson, PASSWORD)
    page.goto(f"/statements/{statement.pk}/")

    expect(page.locator("#approved-text")).to_be_visible()
    expect(page.locator("#id_text")).to_be_hidden()  # folded away, not an editable box
    copy = page.locator("button[data-copy='#approved-copy']")
    expect(copy).to_have_text("Copy the approved text")
    copy.click()
    expect(copy).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == TEXT

    # The secondary control opens the editor; saving asks first, and "cancel" keeps all.
    page.get_by_text("Edit (voids the approval)").click()
    expect(page.locator("#id_text")).to_be_visible()
    page.fill("#id_text", TEXT + " Update.")
    questions = []

    def dismiss(dialog):
        questions.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", dismiss)
    page.get_by_role("button", name="Save as a new revision").click()
    assert questions and "voids the approval" in questions[0]
    assert Statement.objects.get(pk=statement.pk).status == "approved"

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Save as a new revision").click()
    expect(page.locator(".message-success")).to_contain_text("Saved.")
    statement = Statement.objects.get(pk=statement.pk)
    assert (statement.status, statement.revision) == ("in_review", 2)
