"""The order of a crisis page's FAQ entries, per language: writers of the cell set it from
the room (up and down buttons, without JavaScript) or the API (every entry once); the live
page follows after COMMIT; the timeline says who did it."""

import json
from pathlib import Path

import pytest
from django.conf import settings

from incidents.crisiscenter import actions
from incidents.errors import InvalidInput, NotAllowed
from incidents.models import TimelineEntry
from statements import actions as statement_actions
from tests.helpers import assert_error

from .conftest import approve

pytestmark = pytest.mark.django_db(transaction=True)

SAFE, REFUND = "Is the product safe?", "Can I get a refund?"


def faq_ids(page, language="en"):
    return list(
        page.texts.filter(section="faq", statement__language=language)
        .order_by("order", "id")
        .values_list("statement_id", flat=True)
    )


def public_questions(language="en"):
    data = json.loads((Path(settings.CRISIS_CENTER_ROOT) / "rumour" / "page.json").read_text())
    return [entry["question"] for entry in data["versions"][language]["faq"]]


def test_writers_reorder_the_faq_and_the_live_page_follows(live_page, drafter, incident):
    safe, refund = faq_ids(live_page)
    assert public_questions() == [SAFE, REFUND]
    assert actions.faq_order_set(
        page=live_page, actor=drafter, language="en", statement_ids=[refund, safe]
    ) == [refund, safe]
    assert public_questions() == [REFUND, SAFE]
    html = (Path(settings.CRISIS_CENTER_ROOT) / "rumour" / "en" / "index.html").read_text()
    assert html.index(REFUND) < html.index(SAFE)
    assert public_questions("fr") == ["Le produit est-il sûr ?"]  # the other language as it was
    entry = TimelineEntry.objects.get(incident=incident, kind="crisis_page_faq_ordered")
    assert entry.actor == drafter
    assert entry.data == {"page": live_page.pk, "language": "en", "order": [refund, safe]}
    # The same order again: nothing recorded.
    actions.faq_order_set(
        page=live_page, actor=drafter, language="en", statement_ids=[refund, safe]
    )
    assert TimelineEntry.objects.filter(kind="crisis_page_faq_ordered").count() == 1


def test_a_new_entry_comes_last_and_drafts_are_ordered_too(live_page, drafter, lead, approver):
    safe, refund = faq_ids(live_page)
    actions.faq_order_set(
        page=live_page, actor=drafter, language="en", statement_ids=[refund, safe]
    )
    new = actions.page_text_draft(
        page=live_page, actor=lead, section="faq", language="en", text="Where?\nHere."
    ).statement_id
    assert faq_ids(live_page) == [refund, safe, new]
    with pytest.raises(InvalidInput):  # the draft too must be named
        actions.faq_order_set(
            page=live_page, actor=drafter, language="en", statement_ids=[safe, refund]
        )
    actions.faq_order_set(
        page=live_page, actor=drafter, language="en", statement_ids=[new, safe, refund]
    )
    assert public_questions() == [SAFE, REFUND]  # the draft is not public
    approve(live_page.texts.get(statement_id=new).statement, author=lead, approver=approver)
    assert public_questions() == ["Where?", SAFE, REFUND]


@pytest.mark.parametrize(
    "ids,why",
    [
        (lambda s, r: [s], "missing: "),
        (lambda s, r: [s, r, r], "given twice: "),
        (lambda s, r: [s, r, 999999], "not one of them: 999999"),
        (lambda s, r: ["x", "y"], "list of statement ids"),
    ],
)
def test_every_entry_exactly_once_or_a_readable_refusal(live_page, drafter, ids, why):
    safe, refund = faq_ids(live_page)
    with pytest.raises(InvalidInput) as refused:
        actions.faq_order_set(
            page=live_page, actor=drafter, language="en", statement_ids=ids(safe, refund)
        )
    assert why in refused.value.message
    assert faq_ids(live_page) == [safe, refund]


def test_an_entry_of_another_language_or_a_withdrawn_one(live_page, drafter, lead):
    safe, refund = faq_ids(live_page)
    [french] = faq_ids(live_page, "fr")
    with pytest.raises(InvalidInput):
        actions.faq_order_set(
            page=live_page, actor=drafter, language="en", statement_ids=[safe, refund, french]
        )
    with pytest.raises(InvalidInput):
        actions.faq_order_set(page=live_page, actor=drafter, language="xx", statement_ids=[])
    statement_actions.statement_withdraw(
        statement=live_page.texts.get(statement_id=refund).statement, actor=lead
    )
    assert actions.faq_order_set(
        page=live_page, actor=drafter, language="en", statement_ids=[safe]
    ) == [safe]


def test_observers_and_a_resolved_page_cannot_reorder(live_page, observer, lead, drafter):
    safe, refund = faq_ids(live_page)
    with pytest.raises(NotAllowed):
        actions.faq_order_set(
            page=live_page, actor=observer, language="en", statement_ids=[refund, safe]
        )
    actions.page_switch(page=live_page, actor=lead, action="resolve")
    with pytest.raises(NotAllowed):
        actions.faq_order_set(
            page=live_page, actor=drafter, language="en", statement_ids=[refund, safe]
        )


def test_api_faq_order(live_page, api, drafter, observer, outsider, incident):
    url = f"/api/incidents/{incident.pk}/crisis-page/faq-order/"
    safe, refund = faq_ids(live_page)
    body = {"language": "en", "statements": [refund, safe]}
    assert api.as_user(outsider).put(url, body, format="json").status_code == 404
    assert_error(api.as_user(observer).put(url, body, format="json"), 403)
    detail = assert_error(
        api.as_user(drafter).put(url, {"language": "en", "statements": [safe]}, format="json"),
        400,
    )
    assert "exactly once" in detail and f"missing: {refund}" in detail
    assert api.as_user(drafter).put(url, {"language": "en"}, format="json").status_code == 400
    assert api.as_user(drafter).post(url, body, format="json").status_code == 405
    response = api.as_user(drafter).put(url, body, format="json")
    assert response.status_code == 200
    faq = [t for t in response.json()["texts"] if t["section"] == "faq" and t["language"] == "en"]
    assert [t["statement"] for t in sorted(faq, key=lambda t: t["order"])] == [refund, safe]
    assert public_questions() == [REFUND, SAFE]
    assert (
        "order_faq"
        in api.as_user(drafter).get(url.replace("faq-order/", "")).json()["available_actions"]
    )


def test_the_room_moves_an_entry_up_and_down_without_javascript(
    live_page, browser_client, drafter, observer, incident
):
    safe, refund = faq_ids(live_page)
    panel_url = f"/incidents/{incident.pk}/crisis-page/"
    panel = browser_client.as_user(drafter).get(panel_url).content.decode()
    assert f'action="/incidents/{incident.pk}/crisis-page/faq-order/"' in panel
    assert f'aria-label="Move “{SAFE}” down"' in panel
    assert f"FAQ entry · EN · “{SAFE}”</a>" in panel  # which question each row is
    assert "order_faq" not in panel
    observed = browser_client.as_user(observer).get(panel_url).content.decode()
    assert "crisis-faq-move" not in observed
    # A plain form post (no htmx): done, back to the room.
    response = browser_client.as_user(drafter).post(
        panel_url + "faq-order/", {"statement": refund, "direction": "up"}
    )
    assert response.status_code == 302
    assert faq_ids(live_page) == [refund, safe]
    assert public_questions() == [REFUND, SAFE]
    # At the top already: nothing moves, nothing is recorded.
    browser_client.as_user(drafter).post(
        panel_url + "faq-order/", {"statement": refund, "direction": "up"}
    )
    assert TimelineEntry.objects.filter(kind="crisis_page_faq_ordered").count() == 1
    refused = browser_client.as_user(observer).post(
        panel_url + "faq-order/", {"statement": refund, "direction": "down"}, HTTP_HX_REQUEST="true"
    )
    assert refused.status_code == 422 and faq_ids(live_page) == [refund, safe]
    for bad in ("99999999999999999999", "-1", "²"):
        nothing = browser_client.as_user(drafter).post(
            panel_url + "faq-order/", {"statement": bad, "direction": "up"}, HTTP_HX_REQUEST="true"
        )
        assert nothing.status_code == 422, bad
    room = browser_client.as_user(drafter).get(f"/incidents/{incident.pk}/").content.decode()
    assert "FAQ (EN): 2 entries in a new order" in room


def test_the_faq_holds_a_bounded_number_of_questions_and_stays_orderable(
    live_page, lead, drafter, monkeypatch
):
    """Past the FAQ's size no new question is drafted, so every order list fits the API."""
    monkeypatch.setattr(actions.selectors, "MAX_FAQ", 3)
    actions.page_text_draft(
        page=live_page, actor=lead, section="faq", language="en", text="Third?\nYes."
    )
    with pytest.raises(InvalidInput, match="at most 3 questions"):
        actions.page_text_draft(
            page=live_page, actor=lead, section="faq", language="en", text="Fourth?\nNo."
        )
    ids = faq_ids(live_page)
    actions.faq_order_set(
        page=live_page, actor=drafter, language="en", statement_ids=list(reversed(ids))
    )
    assert faq_ids(live_page) == list(reversed(ids))
