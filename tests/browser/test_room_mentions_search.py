"""The room's mentions panel searched in a browser: the search, a chip and an older page
combine, the older page comes into view under the phone's sticky bar, a live refresh
(mentions attached meanwhile) keeps the search and the page being read, and the address
bar keeps them too: a reload opens the same view."""

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from incidents.listening import actions
from incidents.listening.choices import Source
from incidents.listening.ingest import parse
from incidents.listening.models import Mention
from tests.browser.conftest import PASSWORD
from tests.helpers import outside_the_browser_loop
from tests.listening.conftest import lead_of_a_listened_incident, post

pytestmark = pytest.mark.browser


@pytest.fixture
def room(django_user_model, asgi_server):
    """A lead and an incident with 14 refund complaints (12 negative) and 6 other posts
    attached, a minute apart."""

    def make():
        lead, incident = lead_of_a_listened_incident(
            django_user_model, PASSWORD, "Refund complaints"
        )
        start = timezone.now() - timedelta(hours=1)
        texts = [f"Lumière, toujours pas de remboursement, honte (n°{i})" for i in range(12)]
        texts += ["Lumière : remboursement reçu, merci (a)", "Lumière rembourse enfin (b)"]
        texts += [f"Lumière, joli produit (autre {i})" for i in range(6)]
        rows = [
            parse(post(f"r{i}", text=text, posted_at=(start + timedelta(minutes=i)).isoformat()))
            for i, text in enumerate(texts)
        ]
        actions.mentions_ingest(mentions=rows, source=Source.API, actor=None)
        Mention.objects.update(incident=incident)
        # The tone as a reader would label them (the lexicon's own is tested elsewhere).
        Mention.objects.filter(text__contains="honte").update(sentiment="negative")
        return lead, incident

    return outside_the_browser_loop(make)


def test_search_chip_and_older_page_hold_through_a_live_refresh(signed_in, room):
    lead, incident = room
    tab = signed_in(lead)
    tab.set_viewport_size({"width": 390, "height": 800})
    tab.goto(f"/incidents/{incident.pk}/")
    expect(tab.locator("body")).to_have_attribute("data-live", "live")
    panel = tab.locator("#mentions-panel")
    items = panel.locator(".mention")

    panel.get_by_label("Search the mentions").fill("rembours -merci")
    panel.get_by_role("button", name="Search", exact=True).click()
    expect(items).to_have_count(10)  # 13 match, ten a page
    expect(panel).not_to_contain_text("joli produit")
    expect(panel).not_to_contain_text("reçu, merci")

    panel.locator(".sentiment-counts .sentiment-negative").click()
    expect(items.first).to_contain_text("(n°11)")
    panel.get_by_role("link", name="Older mentions").click()
    expect(items).to_have_count(2)
    expect(items.first).to_contain_text("(n°1)")
    # The new page's top comes into view, below the phone's bar of the room's parts (htmx
    # scrolls once the swap has settled, after the new items are in: wait for it).
    tab.wait_for_function(
        "() => { const top = document.getElementById('mentions-panel')"
        ".getBoundingClientRect().top; return 0 < top && top < 200; }"
    )

    # Mentions attached meanwhile refresh the panel: same search, same chip, same page.
    def attach_another():
        row = post("late", text="Lumière, remboursement refusé (late)")
        row["posted_at"] = timezone.now().isoformat()
        actions.mentions_ingest(mentions=[parse(row)], source=Source.API, actor=None)
        mention = Mention.objects.get(external_id="late")
        actions.mention_attach(mention=mention, incident=incident, actor=lead)

    outside_the_browser_loop(attach_another)
    expect(panel.locator(".count").first).to_have_text("21")
    expect(items).to_have_count(2)
    expect(items.first).to_contain_text("(n°1)")
    expect(panel.get_by_label("Search the mentions")).to_have_value("rembours -merci")

    # The view is in the address: a reload (or the link sent to a colleague) shows it again.
    address = parse_qs(urlsplit(tab.url).query)
    assert address["mentions_q"] == ["rembours -merci"]
    assert address["mentions_sentiment"] == ["negative"]
    assert "mentions_before" in address
    tab.reload()
    expect(items).to_have_count(2)
    expect(items.first).to_contain_text("(n°1)")
    expect(panel.get_by_label("Search the mentions")).to_have_value("rembours -merci")

    # Clearing the search takes it out of the address; the other panels' state is not ours.
    panel.get_by_role("link", name="Clear").click()
    expect(items).to_have_count(10)
    tab.wait_for_function("() => !new URLSearchParams(location.search).has('mentions_q')")
    address = parse_qs(urlsplit(tab.url).query)
    assert "mentions_q" not in address and "mentions_before" not in address
    assert address["mentions_sentiment"] == ["negative"]

    # Detach asks first: "Cancel" keeps the mention, "OK" detaches it.
    count = panel.locator(".count").first
    expect(count).to_have_text("21")
    questions = []

    def answer(dialog, accept):
        questions.append(dialog.message)
        dialog.accept() if accept else dialog.dismiss()

    tab.once("dialog", lambda dialog: answer(dialog, False))
    items.first.get_by_role("button", name="Detach").click()
    assert questions and questions[0].startswith("Detach this mention from the incident?")
    expect(count).to_have_text("21")
    tab.once("dialog", lambda dialog: answer(dialog, True))
    items.first.get_by_role("button", name="Detach").click()
    expect(count).to_have_text("20")
