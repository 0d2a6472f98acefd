"""The room's Detach and its Undo in a browser, on a phone's width, for a cell member
without listening access: the confirmation says what a detach means for them (an Undo for
15 minutes, not the stream they cannot see), the Undo attaches it again, and an Undo
clicked once its time is up says why beside the button instead of doing nothing."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from incidents import actions as incident_actions
from incidents.listening import actions, rules
from incidents.listening.choices import Source
from incidents.listening.ingest import parse
from incidents.listening.models import Mention
from tests.browser.conftest import PASSWORD
from tests.helpers import outside_the_browser_loop
from tests.listening.conftest import lead_of_a_listened_incident, post

pytestmark = pytest.mark.browser

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
    expect(items).to_have_count(1)
    assert Mention.objects.get(external_id="c1").incident_id is None
