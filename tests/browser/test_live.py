"""Two people in two browsers work the same incident and see each other's changes live,
over the real WebSocket (uvicorn in a thread, the configured channel layer)."""

import re

import pytest
from playwright.sync_api import expect

from incidents import actions
from tests.browser.conftest import PASSWORD
from tests.helpers import outside_the_browser_loop

pytestmark = pytest.mark.browser


@pytest.fixture
def room(django_user_model, asgi_server):
    def make():
        lead = django_user_model.objects.create_user(
            "camille", password=PASSWORD, first_name="Camille"
        )
        drafter = django_user_model.objects.create_user(
            "dana", password=PASSWORD, first_name="Dana"
        )
        incident = actions.incident_declare(
            actor=lead,
            title="Complaint wave about kettle lids",
            category="product",
            origin="online",
            platforms=["x"],
            severity=2,
            activate=True,
        )
        actions.member_add(incident=incident, actor=lead, user=drafter, role="drafter")
        return incident, lead, drafter

    return outside_the_browser_loop(make)


def open_room(tab, incident):
    tab.goto(f"/incidents/{incident.pk}/")
    expect(tab.locator("#live-status")).to_have_attribute("data-state", "live")
    tab.evaluate("window.__sameDocument = true")  # lost on any reload


def test_each_sees_the_others_changes_without_reloading(signed_in, room):
    incident, lead, drafter = room
    lead_tab, drafter_tab = signed_in(lead), signed_in(drafter, locale="fr-FR")
    open_room(lead_tab, incident)
    open_room(drafter_tab, incident)

    drafter_tab.fill("#id_text", "A forum thread links our post")
    drafter_tab.click("form.entry-form button[type=submit]")
    expect(lead_tab.locator("#timeline")).to_contain_text("A forum thread links our post")

    # The severity asks first, naming the choice; cancelled, it shows the saved one again.
    asked = []
    lead_tab.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    lead_tab.select_option("#severity-select", "4")
    expect(lead_tab.locator("#severity-select")).to_have_value("2")
    assert asked and "Change the severity to" in asked[0]
    lead_tab.once("dialog", lambda dialog: dialog.accept())
    lead_tab.select_option("#severity-select", "4")
    expect(drafter_tab.locator("#incident-header .chips .severity-critical")).to_be_visible()
    expect(drafter_tab.locator("#incident-header .chips")).to_contain_text("Critique")
    expect(drafter_tab.locator("#timeline")).to_contain_text("Gravité 2 → 4")

    for tab in (lead_tab, drafter_tab):
        assert tab.evaluate("window.__sameDocument") is True


def test_a_dropped_connection_loses_nothing(signed_in, room):
    incident, lead, drafter = room
    lead_tab, drafter_tab = signed_in(lead), signed_in(drafter)
    open_room(lead_tab, incident)
    open_room(drafter_tab, incident)

    with drafter_tab.expect_request(re.compile(r"/timeline/\?after=\d+$")):
        drafter_tab.evaluate("window.crisisLive.socket.close()")
        # Five entries while the drafter is disconnected (they reconnect after ~1 s).
        lead_tab.evaluate(
            """async (url) => {
                const token = JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"];
                for (let n = 1; n <= 5; n++) {
                    await fetch(url, {method: "POST", credentials: "same-origin",
                        headers: {"Content-Type": "application/json", "X-CSRFToken": token},
                        body: JSON.stringify({kind: "note", text: `missed ${n}`})});
                }
            }""",
            f"/api/incidents/{incident.pk}/timeline/",
        )
    expect(drafter_tab.locator("#live-status")).to_have_attribute("data-state", "live")
    missed = drafter_tab.locator("#timeline li.entry", has_text="missed")
    expect(missed).to_have_count(5)
    texts = missed.locator(".entry-text").all_inner_texts()
    assert texts == [f"missed {n}" for n in range(5, 0, -1)]  # newest first, each once
    assert drafter_tab.evaluate("window.__sameDocument") is True


PANEL_URLS = re.compile(
    r"/incidents/\d+/(header|members|tasks|contacts|statements|evidence/panel)/(?:\?[^/]*)?$"
)


def test_live_events_refresh_exactly_the_panels_they_name(signed_in, room, django_user_model):
    incident, lead, drafter = room
    drafter_tab = signed_in(drafter)
    open_room(drafter_tab, incident)
    refreshed = []
    drafter_tab.on(
        "request",
        lambda r: PANEL_URLS.search(r.url) and refreshed.append(PANEL_URLS.search(r.url)[1]),
    )

    # A typed entry changes the timeline only: no panel is fetched again.
    outside_the_browser_loop(
        lambda: actions.timeline_add_entry(
            incident=incident, actor=lead, kind="note", text="Journalist called"
        )
    )
    expect(drafter_tab.locator("#timeline")).to_contain_text("Journalist called")
    assert refreshed == []

    expect(drafter_tab.locator("#statements-panel")).to_contain_text("New statement")
    # The lead makes Dana an observer: her cell, her role in the header and what she may do
    # in the checklist and the statements panel follow, without a reload.
    outside_the_browser_loop(
        lambda: actions.member_change_role(
            incident=incident, actor=lead, user=drafter, role="observer"
        )
    )
    expect(drafter_tab.locator("#incident-header .facts")).to_contain_text("Observer")
    expect(drafter_tab.locator("#members-panel")).to_contain_text("Observer")
    expect(drafter_tab.locator("#statements-panel")).not_to_contain_text("New statement")
    assert set(refreshed) == {"header", "members", "tasks", "statements", "contacts"}
    assert drafter_tab.evaluate("window.__sameDocument") is True


def test_a_resync_refreshes_the_panels_of_what_was_missed(signed_in, room, django_user_model):
    incident, lead, drafter = room
    drafter_tab = signed_in(drafter)
    open_room(drafter_tab, incident)

    def add_eli():
        eli = django_user_model.objects.create_user("eli", first_name="Eli")
        actions.member_add(incident=incident, actor=lead, user=eli, role="spokesperson")

    with drafter_tab.expect_request(re.compile(r"/timeline/\?after=\d+$")):
        drafter_tab.evaluate("window.crisisLive.socket.close()")
        outside_the_browser_loop(add_eli)  # while the drafter is disconnected
    expect(drafter_tab.locator("#live-status")).to_have_attribute("data-state", "live")
    expect(drafter_tab.locator("#members-panel")).to_contain_text("Eli")
    assert drafter_tab.evaluate("window.__sameDocument") is True


def test_the_room_says_paused_while_the_channel_layer_is_down(signed_in, room, monkeypatch):
    """Honest status: the server tells the page when it cannot deliver events, and when it
    can again (the page then catches up)."""
    from channels.layers import channel_layers

    from incidents import presence
    from tests.incidents.test_socket_access import FlakyLayer

    monkeypatch.setattr(presence, "REFRESH_SECONDS", 0.2)
    layer = FlakyLayer()
    previous = channel_layers.set("default", layer)
    try:
        incident, lead, drafter = room
        tab = signed_in(drafter)
        open_room(tab, incident)
        layer.down = True
        expect(tab.locator("#live-status")).to_have_attribute("data-state", "paused")
        expect(tab.locator("#live-status")).to_contain_text("Live updates paused")
        outside_the_browser_loop(
            lambda: actions.timeline_add_entry(
                incident=incident, actor=lead, kind="note", text="Missed while paused"
            )
        )
        layer.down = False
        expect(tab.locator("#live-status")).to_have_attribute("data-state", "live")
        expect(tab.locator("#timeline")).to_contain_text("Missed while paused")  # resync
        assert tab.evaluate("window.__sameDocument")
    finally:
        channel_layers.set("default", previous)


def test_a_handshake_the_server_cannot_subscribe_shows_paused_and_retries(signed_in, room):
    from channels.layers import channel_layers

    from tests.incidents.test_socket_access import FlakyLayer

    layer = FlakyLayer()
    previous = channel_layers.set("default", layer)
    try:
        incident, _lead, drafter = room
        tab = signed_in(drafter)
        layer.down = True
        tab.goto(f"/incidents/{incident.pk}/")
        expect(tab.locator("#live-status")).to_have_attribute("data-state", "paused")
        layer.down = False
        # socket.js retries (backoff: about a second, then two).
        expect(tab.locator("#live-status")).to_have_attribute("data-state", "live")
    finally:
        channel_layers.set("default", previous)


def test_events_arriving_out_of_order_are_applied_in_order_without_a_resync(
    signed_in, room, monkeypatch
):
    """Two web workers may deliver two committed entries in either order: the page waits
    for the missing one instead of asking the server for it."""
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    from incidents import events

    incident, lead, drafter = room
    tab = signed_in(drafter)
    open_room(tab, incident)
    resyncs = []
    tab.on("request", lambda r: "after=" in r.url and resyncs.append(r.url))

    held = []
    monkeypatch.setattr(events, "_send", lambda group, message, what: held.append((group, message)))

    def write():
        for text in ("first of two", "second of two"):
            actions.timeline_add_entry(incident=incident, actor=lead, kind="note", text=text)

    outside_the_browser_loop(write)
    monkeypatch.undo()
    entries = [(g, m) for g, m in held if m.get("seq")]
    assert [m["seq"] for _g, m in entries] == sorted(m["seq"] for _g, m in entries)

    def deliver_reversed():
        layer = get_channel_layer()
        for group, message in reversed(entries):
            async_to_sync(layer.group_send)(group, message)

    outside_the_browser_loop(deliver_reversed)
    notes = tab.locator("#timeline li.entry .entry-text")
    expect(notes.first).to_have_text("second of two")
    assert notes.all_inner_texts()[:2] == ["second of two", "first of two"]
    assert tab.evaluate("window.crisisLive.waiting") == 0
    assert resyncs == []


def test_a_live_entry_reads_as_the_server_writes_it_in_each_language(signed_in, room):
    """The live timeline re-writes each pushed entry's time in the viewer's zone: the text
    is the one the server writes for that viewer when the page is loaded again."""
    incident, lead, drafter = room
    # Zones far from the site's (Paris): the script must use the viewer's, as the server
    # does from the cookie the page sets.
    lead_tab = signed_in(lead, timezone_id="America/New_York")
    drafter_tab = signed_in(drafter, locale="fr-FR", timezone_id="Asia/Tokyo")
    open_room(lead_tab, incident)
    open_room(drafter_tab, incident)

    # One after the other, each read on the receiving page as soon as it arrives, before
    # that page does anything else (its own post, a panel refreshed from the server, writes
    # entries as the server does: no data-local, not the path this test reads).
    written = {}
    for author, receiver, text, shape in (
        (
            drafter_tab,
            lead_tab,
            "Seen by the lead live",
            r"\d{1,2} [A-Z][a-z]{2} \d{4}, \d{2}:\d{2}",
        ),
        (
            lead_tab,
            drafter_tab,
            "Seen by the drafter live",
            r"\d{1,2} [a-zéû]{3,4}\.? \d{4} \d{2}:\d{2}",
        ),
    ):
        author.fill("#id_text", text)
        author.click("form.entry-form button[type=submit]")
        live = receiver.locator("#timeline li.entry", has_text=text).locator("time[data-local]")
        expect(live).to_have_text(re.compile(rf"^{shape}$"))
        written[receiver] = (text, live.text_content())
    for tab, (text, shown) in written.items():
        tab.reload()
        again = tab.locator("#timeline li.entry", has_text=text).locator("time").first
        expect(again).not_to_have_attribute("data-local", "")
        expect(again).to_have_text(shown)
