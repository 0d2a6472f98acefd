"""The lead asks for the bundle for counsel on the locker's page; the drafter, in the room,
sees the export appear in the evidence panel live, without its download link; the lead
downloads the ZIP, which verifies. Celery runs inline here (embedded mode)."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from playwright.sync_api import expect

from incidents.evidence import actions as evidence_actions
from incidents.evidence.bundle import verify_bundle
from tests.browser.test_evidence_flow import open_room, room  # noqa: F401
from tests.evidence.conftest import png_bytes
from tests.helpers import outside_the_browser_loop

pytestmark = pytest.mark.browser


def test_the_lead_exports_and_the_room_sees_it_live(signed_in, room):  # noqa: F811
    incident, lead, drafter = room

    def attach():
        evidence_actions.evidence_attach(
            incident=incident,
            actor=drafter,
            files=[SimpleUploadedFile("post.png", png_bytes(), content_type="image/png")],
            metadata={"author_handle": "@yoghurt_truth"},
        )

    outside_the_browser_loop(attach)
    drafter_tab, lead_tab = signed_in(drafter), signed_in(lead)
    open_room(drafter_tab, incident)
    expect(drafter_tab.locator("#evidence-list")).to_contain_text("E-1")

    lead_tab.goto(f"/incidents/{incident.pk}/evidence/")
    lead_tab.click("text=Export for counsel (ZIP)")
    expect(lead_tab.locator("body")).to_contain_text("The bundle is being prepared")
    export = lead_tab.locator("#evidence-exports .export").first
    expect(export).to_have_attribute("data-status", "ready")
    expect(export).to_contain_text("Bundle for counsel, 1 item")

    # The room heard it: the panel lists the export, ready, but the link is the lead's.
    shown = drafter_tab.locator("#evidence-list .export").first
    expect(shown).to_have_attribute("data-status", "ready")
    expect(shown).to_contain_text(lead.username)
    expect(shown.locator("a")).to_have_count(0)

    with lead_tab.expect_download() as download:
        export.locator("a", has_text="Download the ZIP").click()
    path = download.value.path()
    with open(path, "rb") as bundle:
        assert verify_bundle(bundle.read()).ok
