"""What the public reads of a page text is its last approved revision: an edit (which voids
the approval) does not take approved words away from the public; a withdrawal does, and
then every public file agrees (the page, its feeds, page.json, the index, the API)."""

import json
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from incidents import actions as incident_actions
from incidents.crisiscenter import actions, render
from incidents.errors import TransitionNotAllowed
from statements import actions as statement_actions

from .conftest import approve

pytestmark = pytest.mark.django_db(transaction=True)

OLD_TITLE = "About the rumour concerning Acme"


def files() -> dict[str, str]:
    root = Path(settings.CRISIS_CENTER_ROOT)
    return {
        str(path.relative_to(root)): path.read_text() for path in root.rglob("*") if path.is_file()
    }


def statement_of(page, section, language, startswith=""):
    texts = page.texts.filter(section=section, statement__language=language)
    return next(t.statement for t in texts if t.statement.text.startswith(startswith))


def everything_public() -> str:
    """Every public file and the public API, as one text."""
    api = Client().get("/api/crisis-pages/rumour/").content.decode()
    return "\n".join(files().values()) + api


def test_editing_the_only_approved_summary_keeps_the_approved_words_public(
    live_page, lead, approver, api, browser_client, incident
):
    before = files()
    summary = statement_of(live_page, "summary", "en")
    edited = statement_actions.statement_edit(
        statement=summary, actor=lead, text="Unapproved title\nUnapproved words.", base_revision=1
    )
    assert edited.status == "in_review"  # the edit voided the approval
    after = files()
    # The English page, its feeds and the index still say the approved words...
    assert set(after) == set(before)
    assert f"<h1>{OLD_TITLE}</h1>" in after["rumour/en/index.html"]
    assert OLD_TITLE in after["en/index.html"]
    data = json.loads(after["rumour/page.json"])
    assert data["languages"] == ["fr", "en"] and data["versions"]["en"]["title"] == OLD_TITLE
    assert Client().get("/api/crisis-pages/rumour/").json() == data
    # ...and never the words under review.
    assert "Unapproved" not in everything_public()
    team = api.as_user(lead).get(f"/api/incidents/{incident.pk}/crisis-page/").json()
    row = next(t for t in team["texts"] if t["statement"] == summary.pk)
    assert row["shown"] and row["shown_revision"] == 1 and row["status"] == "in_review"
    panel = browser_client.as_user(lead).get(f"/incidents/{incident.pk}/crisis-page/")
    assert "its last approved revision is on the page" in panel.content.decode()
    # Approved again: the new revision replaces the old one everywhere.
    approve(edited, author=lead, approver=approver)
    after = files()
    assert "<h1>Unapproved title</h1>" in after["rumour/en/index.html"]
    assert "Unapproved title" in after["en/index.html"]
    assert OLD_TITLE not in after["rumour/en/index.html"]
    assert json.loads(after["rumour/page.json"])["versions"]["en"]["title"] == "Unapproved title"


def test_an_edited_faq_answer_and_help_text_stay_as_approved(live_page, lead, publish_update):
    faq = statement_of(live_page, "faq", "en", "Is the product safe?")
    helptext = statement_of(live_page, "help", "en")
    for statement in (faq, helptext):
        statement_actions.statement_edit(
            statement=statement, actor=lead, text="Draft words\nnot approved", base_revision=1
        )
    # edited twice: still the revision approved before, not the first draft of the edit
    statement_actions.statement_edit(
        statement=faq.__class__.objects.get(pk=faq.pk),
        actor=lead,
        text="Second draft\nnot approved",
        base_revision=2,
    )
    publish_update("Shops informed.")  # another render
    english = files()["rumour/en/index.html"]
    assert "every batch is tested" in english and "0800 123 456" in english
    assert "Draft words" not in everything_public()
    assert "Second draft" not in everything_public()
    questions = [
        f["question"] for f in json.loads(files()["rumour/page.json"])["versions"]["en"]["faq"]
    ]
    assert questions == ["Is the product safe?", "Can I get a refund?"]


def test_withdrawing_a_language_summary_removes_that_language_everywhere(live_page, lead):
    summary = statement_of(live_page, "summary", "fr")
    statement_actions.statement_edit(
        statement=summary, actor=lead, text="Brouillon\nnon approuvé", base_revision=1
    )
    assert "À propos de la rumeur" in files()["rumour/fr/index.html"]
    statement_actions.statement_withdraw(
        statement=summary.__class__.objects.get(pk=summary.pk), actor=lead, reason="Wrong"
    )
    after = files()
    # No French file left for the page; English is now its first language.
    assert not [name for name in after if name.startswith("rumour/fr/")]
    assert f"<h1>{OLD_TITLE}</h1>" in after["rumour/index.html"]
    data = json.loads(after["rumour/page.json"])
    assert data["languages"] == ["en"] and set(data["versions"]) == {"en"}
    assert Client().get("/api/crisis-pages/rumour/").json() == data
    assert 'hreflang="fr"' not in after["rumour/en/index.html"]  # no switch to a missing page
    # The French index lists the page in the language it has.
    assert 'href="/crisis/rumour/en/"' in after["fr/index.html"]
    assert "À propos de la rumeur" not in everything_public()
    assert Client().get("/crisis/rumour/fr/").status_code == 404


def test_a_page_left_without_any_summary_has_no_page_file_and_leaves_the_index(live_page, lead):
    for language in ("fr", "en"):
        statement_actions.statement_withdraw(
            statement=statement_of(live_page, "summary", language), actor=lead
        )
    after = files()
    assert not [name for name in after if name.startswith("rumour/") and name.endswith(".html")]
    assert not [name for name in after if "feed." in name]
    assert json.loads(after["rumour/page.json"])["languages"] == []
    assert "/crisis/rumour/" not in after["en/index.html"]
    assert Client().get("/crisis/rumour/").status_code == 404


def test_the_index_reads_each_page_once_in_a_constant_number_of_queries(
    live_page, declare, lead, approver, playbook, next_update, approve_texts, monkeypatch
):
    calls = []
    original = render.selectors.public_page
    monkeypatch.setattr(render.selectors, "public_page", lambda p: calls.append(p) or original(p))

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            render.render_index()
        return len(captured.captured_queries)

    # one text being revised: its approved revision is read too
    statement_actions.statement_edit(
        statement=statement_of(live_page, "summary", "en"), actor=lead, text="x\ny", base_revision=1
    )
    one_page = queries()
    for number in range(3):
        incident = declare(title=f"Other incident {number}")
        incident_actions.member_add(
            incident=incident, actor=lead, user=approver, role="approver", function="other"
        )
        page = actions.page_prepare(
            incident=incident,
            actor=lead,
            playbook=playbook,
            next_update_at=next_update,
            slug=f"other-{number}",
        )
        approve_texts(page)
        actions.page_switch(page=page, actor=lead, action="go_live")
    calls.clear()
    four_pages = queries()
    assert calls == []  # the index reads the pages in one batch, not page by page
    assert four_pages == one_page <= 7
    index = files()["en/index.html"]
    assert index.count(OLD_TITLE) == 4
    assert render.render_all() == 4


def test_changes_requested_on_an_approved_text_keep_it_public_until_a_new_text_is_approved(
    live_page, lead, approver, incident
):
    """A late objection sends the approved words back for work; the public keeps reading
    them (only a withdrawal takes them off) and the same words cannot simply go round
    again: they must be edited first."""
    summary = statement_of(live_page, "summary", "en")
    before = files()
    sent_back = statement_actions.statement_request_changes(
        statement=summary, actor=approver, comment="Wait for legal"
    )
    assert sent_back.status == "changes_requested"
    for name in ("rumour/en/index.html", "rumour/page.json", "en/index.html"):
        assert files()[name] == before[name]
    assert f"<h1>{OLD_TITLE}</h1>" in files()["rumour/en/index.html"]
    with pytest.raises(TransitionNotAllowed, match="edit it before submitting"):
        statement_actions.statement_submit(statement=sent_back, actor=lead)
    edited = statement_actions.statement_edit(
        statement=sent_back, actor=lead, text="New title\nNew words.", base_revision=1
    )
    assert OLD_TITLE in files()["rumour/en/index.html"]
    approve(edited, author=lead, approver=approver)
    assert "<h1>New title</h1>" in files()["rumour/en/index.html"]
