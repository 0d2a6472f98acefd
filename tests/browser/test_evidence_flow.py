"""A community manager preserves evidence from the incident room: pastes a screenshot,
captures a URL; another member sees it appear live, with its hash and author details."""

import base64
import threading

import pytest
from playwright.sync_api import expect

from crisiscell.celery import app as celery_app
from incidents import actions
from tests.browser.conftest import PASSWORD
from tests.evidence.conftest import png_bytes
from tests.evidence.test_capture import Pages
from tests.helpers import QuietHTTPServer, outside_the_browser_loop

pytestmark = pytest.mark.browser


@pytest.fixture
def room(django_user_model, asgi_server, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True  # thumbnails and captures within the test

    def make():
        lead = django_user_model.objects.create_user("camille", password=PASSWORD)
        drafter = django_user_model.objects.create_user(
            "sam", password=PASSWORD, first_name="Sam", last_name="Moreau"
        )
        incident = actions.incident_declare(
            actor=lead,
            title="Rumour about contaminated yoghurts",
            category="rumour",
            origin="online",
            platforms=["x"],
            severity=3,
            activate=True,
        )
        actions.member_add(incident=incident, actor=lead, user=drafter, role="drafter")
        return incident, lead, drafter

    yield outside_the_browser_loop(make)
    celery_app.conf.task_always_eager = eager


def open_room(tab, incident):
    tab.goto(f"/incidents/{incident.pk}/")
    expect(tab.locator("#live-status")).to_have_attribute("data-state", "live")


def test_a_pasted_screenshot_is_preserved_and_shown_live(signed_in, room):
    incident, lead, drafter = room
    lead_tab, drafter_tab = signed_in(lead), signed_in(drafter)
    open_room(lead_tab, incident)
    open_room(drafter_tab, incident)

    # Ctrl+V of a screenshot: the browser hands the page a clipboard file named image.png.
    drafter_tab.evaluate(
        """(b64) => {
            const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
            const data = new DataTransfer();
            data.items.add(new File([bytes], "image.png", { type: "image/png" }));
            const paste = new ClipboardEvent("paste", { clipboardData: data, bubbles: true });
            document.dispatchEvent(paste);
        }""",
        base64.b64encode(png_bytes(300, 200)).decode(),
    )
    expect(drafter_tab.locator(".upload-row")).to_contain_text("Pasted screenshot")
    drafter_tab.click(".evidence-details summary")
    drafter_tab.fill("#evidence_author_handle", "@yoghurt_truth")
    drafter_tab.fill("#evidence_author_followers", "48200")
    drafter_tab.click("#evidence-upload button[type=submit]")
    expect(drafter_tab.locator(".upload-row")).to_contain_text("Preserved as E-1")

    card = lead_tab.locator("#evidence-list .evidence-card").first
    expect(card).to_contain_text("E-1")
    expect(card).to_contain_text("@yoghurt_truth")
    expect(card).to_contain_text("48,200 followers")
    expect(card.locator("img")).to_be_visible()  # the thumbnail arrived
    expect(lead_tab.locator("#timeline")).to_contain_text("E-1")


def test_a_refused_file_shows_the_reason_next_to_it(signed_in, room):
    incident, _lead, drafter = room
    tab = signed_in(drafter)
    open_room(tab, incident)
    tab.set_input_files(
        "#evidence_file",
        files=[{"name": "invoice.png", "mimeType": "image/png", "buffer": b"<html>not an image"}],
    )
    tab.click("#evidence-upload button[type=submit]")
    expect(tab.locator(".upload-row[data-state=failed]")).to_contain_text(
        "not a PNG, JPEG, WebP or GIF image"
    )
    expect(tab.locator("#evidence-list")).to_contain_text("No evidence yet")


def test_sending_with_no_file_says_so_and_the_button_still_works(signed_in, room):
    incident, _lead, drafter = room
    tab = signed_in(drafter)
    open_room(tab, incident)
    button = tab.locator("#evidence-upload button[type=submit]")
    button.click()
    expect(tab.locator("#evidence-upload")).to_contain_text("at least one file")
    tab.wait_for_timeout(100)  # past the one-click guard's own turn
    expect(button).to_be_enabled()
    assert button.get_attribute("aria-busy") is None


@pytest.fixture
def local_page(settings):
    settings.EVIDENCE_CAPTURE_ALLOW_LOOPBACK = True
    # 127.0.0.2 is loopback too, but not one of the app's own hosts.
    server = QuietHTTPServer(("127.0.0.2", 0), Pages)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.2:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_capture_a_url_from_the_room(signed_in, room, local_page):
    incident, _lead, drafter = room
    tab = signed_in(drafter)
    open_room(tab, incident)
    tab.fill("#capture_url", f"{local_page}/post")
    tab.click(".capture-form button[type=submit]")
    capture = tab.locator(".capture-list .capture").first
    expect(capture).to_contain_text("Done", timeout=30_000)
    expect(capture).to_contain_text("2 items preserved")
    expect(tab.locator("#evidence-list")).to_contain_text("Angry post #1234")
    expect(tab.locator("#evidence-list")).to_contain_text("Captured by the server for Sam Moreau")
