"""The approved text is read-only for everyone, the spokesperson included: they copy it from
the page; editing it is a secondary, confirmed control that says it voids the approval, and
only for those the rule lets edit. Page, API and action read the same rule."""

import html
import re

import pytest

from incidents.models import EntryKind
from statements import actions, rules, selectors
from tests.statements.conftest import statement_url, timeline

VOIDS = "Edit (voids the approval)"


def page(browser_client, user, statement):
    response = browser_client.as_user(user).get(f"/statements/{statement.pk}/")
    assert response.status_code == 200
    return response.text


def folded_editor(text):
    """The editor form inside its folded <details>, or None when the editor is open (a
    draft's, without a summary) or absent."""
    found = re.search(
        r'<details id="statement-editor" class="card edit-toggle">(.*?)</details>', text, re.S
    )
    return found.group(1) if found else None


def test_the_spokesperson_reads_the_approved_text_and_copies_it(
    approved, spokesperson, browser_client
):
    text = page(browser_client, spokesperson, approved)
    assert '<blockquote class="statement-text" id="approved-text">' in text
    # The publish box's copy of the exact text, as before.
    assert 'data-copy="#approved-copy"' in text
    editor = folded_editor(text)
    assert editor is not None, "the editor must be folded away"
    assert f"<summary>{VOIDS}</summary>" in html.unescape(text)
    assert 'data-action="edit"' in editor
    confirm = re.search(r'data-confirm="([^"]*)"', editor)
    assert confirm and "voids the approval" in html.unescape(confirm.group(1))


@pytest.mark.parametrize("persona", ["drafter", "lead", "approver"])
def test_every_editor_sees_an_approved_text_read_only_first(
    approved, persona, request, browser_client
):
    text = page(browser_client, request.getfixturevalue(persona), approved)
    assert 'id="approved-text"' in text
    assert folded_editor(text) is not None


def test_observers_get_the_text_and_a_copy_button_but_no_editor(approved, observer, browser_client):
    text = page(browser_client, observer, approved)
    assert 'id="approved-text"' in text and 'data-copy="#statement-copy"' in text
    assert "<textarea" not in text and VOIDS not in text


def test_a_draft_keeps_its_open_editor_without_confirmation(draft, drafter, browser_client):
    text = page(browser_client, drafter, draft)
    assert folded_editor(text) is None
    assert '<details id="statement-editor" class="card edit-toggle is-plain" open>' in text
    form = re.search(r'<form[^>]*data-action="edit"[^>]*>', text, re.S).group(0)
    assert "data-confirm" not in form


def test_the_api_says_when_an_edit_voids_the_approval(approved, make_statement, spokesperson, api):
    draft = make_statement(text="Another draft.")
    client = api.as_user(spokesperson)
    body = client.get(statement_url(approved)).json()
    assert body["edit_voids_approval"] is True and "edit" in body["available_actions"]
    assert client.get(statement_url(draft)).json()["edit_voids_approval"] is False


def test_a_confirmed_edit_by_the_spokesperson_voids_the_approval(approved, spokesperson, incident):
    loaded = selectors.load_progress(approved)
    assert rules.edit_voids_approval(loaded)
    assert rules.EDIT in rules.available_actions(spokesperson, loaded)
    edited = actions.statement_edit(
        statement=approved, actor=spokesperson, text="One word changed.", base_revision=1
    )
    assert (edited.status, edited.revision) == ("in_review", 2)
    [entry] = timeline(incident, EntryKind.STATEMENT_REVISED)
    assert entry.data["approvals_voided"] is True
