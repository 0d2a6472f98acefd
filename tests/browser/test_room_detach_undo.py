"""The room's Detach and its Undo in a browser, on a phone's width, for a cell member
without listening access: the confirmation says what a detach means for them (an Undo for
15 minutes, not the stream they cannot see), the Undo attaches it again, and an Undo
clicked once its time is up, or after another incident took the post, says why in place
of its button (which incident, to whoever may see it). Without JavaScript, the room does
not claim to connect, and a refused Undo comes back to the panel, said there."""

import os
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from incidents import actions as incident_actions
from incidents.listening import actions, rules
from incidents.listening.choices import Source
from incidents.listening.ingest import parse
from incidents.listening.models import Mention
from tests.browser.conftest import PASSWORD, TIMEOUT_MS
from tests.helpers import outside_the_browser_loop
from tests.listening.conftest import lead_of_a_listened_incident, post

pytestmark = pytest.mark.browser

SHOTS = os.environ.get("CRISISCELL_SHOTS")  # a directory: screenshots to look at

CELL_CONFIRM = (
    "Detach this mention from the incident? The timeline records it. You can attach it again "
    "(Undo) for 15 minutes; after that, only people with access to listening data can."
)


@pytest.fixture
def room(django_user_model, asgi_server):
    """A listening lead's incident with 2 posts attached, and Inès, its approver, without
    listening access."""

    def make():
        lead, incident = lead_of_a_listened_incident(django_user_model, PASSWORD, "Lids")
        ines = django_user_model.objects.create_user(
            "ines", password=PASSWORD, first_name="Inès", last_name="Bernard"
        )
        incident_actions.member_add(
            incident=incident, actor=lead, user=ines, role="approver", function="legal"
        )
        start = timezone.now() - timedelta(hours=1)
        rows = [
            parse(post(f"c{i}", text=f"Lumière, couvercle fendu (n°{i})", posted_at=when))
            for i, when in enumerate((start + timedelta(minutes=i)).isoformat() for i in range(2))
        ]
        actions.mentions_ingest(mentions=rows, source=Source.API, actor=None)
        Mention.objects.update(incident=incident)
        return lead, ines, incident

    return outside_the_browser_loop(make)


def test_a_member_without_listening_access_detaches_and_undoes(signed_in, room, monkeypatch):
    _lead, ines, incident = room
    tab = signed_in(ines)
    tab.set_viewport_size({"width": 390, "height": 800})
    tab.goto(f"/incidents/{incident.pk}/")
    expect(tab.locator("body")).to_have_attribute("data-live", "live")
    panel = tab.locator("#mentions-panel")
    items = panel.locator(".mention")
    undo = panel.locator(".mention-undo li")
    expect(items).to_have_count(2)

    said = []
    tab.on("dialog", lambda dialog: (said.append(dialog.message), dialog.accept()))
    items.first.get_by_role("button", name="Detach").click()
    expect(items).to_have_count(1)
    assert said == [CELL_CONFIRM]
    expect(undo).to_contain_text("Detached: @alice.bsky.social, “Lumière, couvercle fendu (n°1)”")
    tab.wait_for_load_state("networkidle")

    undo.get_by_role("button", name="Undo").click()
    expect(items).to_have_count(2)
    expect(undo).to_have_count(0)

    # Detached again, and the Undo clicked once its time is up (the server's clock moved on):
    # refused, said beside the button, nothing attached.
    items.first.get_by_role("button", name="Detach").click()
    expect(undo).to_have_count(1)
    # Read again (the panel's refreshes after a detach all done), then the time is up.
    tab.reload()
    expect(tab.locator("body")).to_have_attribute("data-live", "live")
    expect(undo).to_have_count(1)
    later = timezone.now() + rules.UNDO_DETACH + timedelta(minutes=1)
    monkeypatch.setattr(timezone, "now", lambda: later)
    undo.get_by_role("button", name="Undo").click()
    expect(undo.locator(".form-error")).to_contain_text(
        "you can attach again only the mentions you detached from this incident in the last "
        "15 minutes, if no other incident has taken them since."
    )
    expect(undo.get_by_role("button", name="Undo")).to_have_count(0)  # offered no more
    expect(items).to_have_count(1)
    assert Mention.objects.get(external_id="c1").incident_id is None


def _take(lead, external_id, title, ines=None):
    """A listening reader (the lead) attaches the detached mention `external_id` to a new
    incident `title`, Inès in its cell when given."""
    other = incident_actions.incident_declare(
        actor=lead,
        title=title,
        category="product",
        origin="online",
        platforms=["x"],
        severity=2,
        activate=True,
    )
    if ines:
        incident_actions.member_add(incident=other, actor=lead, user=ines, role="observer")
    mention = Mention.objects.get(external_id=external_id)
    actions.mention_attach(mention=mention, incident=other, actor=lead)
    return other


def test_a_refused_undo_names_the_incident_that_took_it_and_goes_at_once(signed_in, room):
    """Inès detached both posts; since, one went to an incident she is in, the other to one
    she is not in: each Undo, clicked, says which incident took it (or only that she is
    not in it) in place of its button, offered no more, and nothing moves."""
    lead, ines, incident = room
    tab = signed_in(ines)
    tab.goto(f"/incidents/{incident.pk}/")
    expect(tab.locator("body")).to_have_attribute("data-live", "live")
    panel = tab.locator("#mentions-panel")
    items = panel.locator(".mention")
    undo = panel.locator(".mention-undo li")
    expect(items).to_have_count(2)
    tab.on("dialog", lambda dialog: dialog.accept())
    items.first.get_by_role("button", name="Detach").click()
    expect(items).to_have_count(1)
    items.first.get_by_role("button", name="Detach").click()
    expect(items).to_have_count(0)
    expect(undo).to_have_count(2)
    tab.wait_for_load_state("networkidle")
    # Taken elsewhere meanwhile (no event of this room says it): both Undos still offered.
    recall = outside_the_browser_loop(lambda: _take(lead, "c0", "Recall of the lids", ines=ines))
    outside_the_browser_loop(lambda: _take(lead, "c1", "Secret supplier dispute"))
    expect(undo.get_by_role("button", name="Undo")).to_have_count(2)

    mine = undo.filter(has_text="(n°0)")
    mine.get_by_role("button", name="Undo").click()
    # The "Detached:" line above names the mention.
    expect(mine.locator(".form-error")).to_have_text(
        "This mention is now attached to another incident: “Recall of the lids”."
    )
    expect(mine.locator(".form-error a")).to_have_attribute("href", f"/incidents/{recall.pk}/")
    expect(mine.get_by_role("button")).to_have_count(0)
    expect(undo.get_by_role("button", name="Undo")).to_have_count(1)

    theirs = undo.filter(has_text="(n°1)")
    theirs.get_by_role("button", name="Undo").click()
    expect(theirs.locator(".form-error")).to_have_text(
        "This mention is now attached to another incident you are not a member of."
    )
    expect(theirs.locator(".form-error a")).to_have_count(0)
    expect(undo.get_by_role("button")).to_have_count(0)
    expect(tab.get_by_text("Secret supplier dispute")).to_have_count(0)
    expect(items).to_have_count(0)
    if SHOTS:
        panel.screenshot(path=f"{SHOTS}/room-undo-refused.png")
    assert not Mention.objects.filter(incident=incident).exists()


@pytest.mark.parametrize("width", [390, 1280])
def test_without_javascript_a_refused_undo_comes_back_to_the_panel(
    width, chromium, asgi_server, room
):
    lead, ines, incident = room
    context = chromium.new_context(
        base_url=asgi_server,
        locale="en-GB",
        java_script_enabled=False,
        viewport={"width": width, "height": 800},
    )
    context.set_default_timeout(TIMEOUT_MS)
    try:
        tab = context.new_page()
        tab.goto("/accounts/login/")
        tab.fill("#id_username", ines.username)
        tab.fill("#id_password", PASSWORD)
        tab.get_by_role("button", name="Sign in").click()  # not the language's "Switch"
        tab.wait_for_url(lambda url: "/accounts/login/" not in url)
        tab.goto(f"/incidents/{incident.pk}/")
        # Nothing connects without JavaScript: no "Connecting…", a line that says so.
        expect(tab.locator("#live-status")).to_be_hidden()
        expect(tab.get_by_text("Connecting…")).to_be_hidden()
        # Said in a <noscript>, which Chromium does not lay out when Playwright turns
        # scripts off (a browser without JavaScript does): its text is read.
        said = tab.locator(".room-status noscript").evaluate("e => e.textContent")
        assert "No live updates without JavaScript: reload the page to see what changed." in said
        panel = tab.locator("#mentions-panel")
        panel.locator(".mention").first.get_by_role("button", name="Detach").click()
        expect(panel.locator(".mention-undo li")).to_have_count(1)
        outside_the_browser_loop(lambda: _take(lead, "c1", "Secret supplier dispute"))

        panel.get_by_role("button", name="Undo").click()

        assert tab.url.endswith(f"/incidents/{incident.pk}/#mentions-panel")
        refusal = panel.locator(".messages .message-error")
        # Its "Detached:" line is gone: the refusal says which mention it was.
        expect(refusal).to_have_text(
            "The mention from @alice.bsky.social, “Lumière, couvercle fendu (n°1)”, is now "
            "attached to another incident you are not a member of."
        )
        expect(refusal).to_be_in_viewport()
        expect(tab.locator("main > .messages .message-error")).to_have_count(0)
        expect(panel.get_by_role("button", name="Undo")).to_have_count(0)
        expect(tab.get_by_text("Secret supplier dispute")).to_have_count(0)
        if SHOTS:
            tab.screenshot(path=f"{SHOTS}/room-undo-refused-nojs-{width}.png", full_page=False)
        assert tab.evaluate("document.documentElement.scrollWidth") <= max(width, 390)
    finally:
        context.close()
