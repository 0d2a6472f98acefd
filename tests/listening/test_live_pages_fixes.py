"""Fixes from a break-it and a new-user pass on the live pages:

1. a signal linked to an open incident: its "started on" key event reaches the other open
   rooms with the "See the signal" link, marked for listening readers (the room says whom
   it is shown to), as the reloaded page and a resync show it;
2. a detach in the room's mentions panel can be undone at once, also by a cell member
   without listening access;
3. under a search, the room's chips ("All" included) count what the search matches;
4. a planned campaign that starts or ends on its own refreshes the open Listening pages
   after the detection pass;
6. the "Not allowed" page says whom to ask.

The real ASGI application and channel layer for the live parts; persona fixtures."""

import json
import re
from datetime import timedelta
from html import unescape

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from django.utils import timezone

from incidents.listening import actions, selectors, tasks
from incidents.listening.choices import Sentiment, Source
from incidents.listening.models import ExpectedBurst, Mention
from incidents.models import TimelineEntry
from tests.helpers import forget_listening_window
from tests.incidents.test_consumer import session_cookie, socket
from tests.incidents.test_user_socket import me

from .conftest import grant

WAIT = 10


def _attached(incident, *texts_and_tones):
    start = timezone.now() - timedelta(hours=1)
    Mention.objects.bulk_create(
        Mention(
            platform="bluesky",
            external_id=f"m{i}",
            text=text,
            posted_at=start + timedelta(minutes=i),
            collected_at=start + timedelta(minutes=i),
            author_handle=f"user{i}.bsky.social",
            language="fr",
            sentiment=tone,
            source=Source.IMPORT,
            incident=incident,
        )
        for i, (text, tone) in enumerate(texts_and_tones)
    )
    return list(Mention.objects.filter(incident=incident).order_by("external_id"))


# 1. The signal's link in a live entry


def _signal_link(html: str, signal) -> str:
    """The marked paragraph holding the signal's link in `html` (or "")."""
    found = re.search(
        rf'<p class="entry-change" data-for-viewers="listening" hidden>'
        rf'<a href="/listening/signals/{signal.pk}/">[^<]+</a></p>',
        html,
    )
    return found.group(0) if found else ""


@pytest.mark.django_db(transaction=True)
def test_a_linked_signals_key_event_reaches_open_rooms_with_its_link(
    signal, incident, lead, drafter, browser_client
):
    """The live entry is rendered once for everyone: the link is in it, hidden, marked for
    listening readers; each room says whether its viewer is one (data-viewer-may), which
    the page's script reads. Before, the live entry had no link at all (it was rendered
    without a viewer), until a reload."""
    lead = grant(lead, "view_mention")
    key = session_cookie(drafter)[1]  # in the cell, no listening access: same payload

    async def scenario():
        room = socket(incident, key)
        assert (await room.connect())[0]
        await sync_to_async(actions.signal_link)(signal=signal, incident=incident, actor=lead)
        found = None
        while found is None:
            payload = json.loads((await room.receive_output(WAIT))["text"])
            if payload.get("entry", {}).get("kind") == "key_event":
                found = payload
        await room.disconnect()
        return found

    payload = async_to_sync(scenario)()
    assert payload["entry"]["data"]["signal"] == signal.pk
    assert _signal_link(payload["html"]["en"]["entry"], signal)
    assert "Voir le signal" in _signal_link(payload["html"]["fr"]["entry"], signal)
    # The link follows the sentence it leads on from.
    entry = payload["html"]["en"]["entry"]
    assert entry.index('class="entry-text"') < entry.index("See the signal")
    # The rooms: the same entry, and whom it is shown to.
    readers = browser_client.as_user(lead).get(f"/incidents/{incident.pk}/").content.decode()
    assert 'data-viewer-may="listening"' in readers and _signal_link(readers, signal)
    others = browser_client.as_user(drafter).get(f"/incidents/{incident.pk}/").content.decode()
    assert 'data-viewer-may=""' in others and _signal_link(others, signal)
    # A resync (a page that missed the event) reads the same entry.
    seq = payload["seq"]
    missed = browser_client.as_user(drafter).get(
        f"/incidents/{incident.pk}/timeline/", {"after": seq - 1}
    )
    assert _signal_link(missed.content.decode(), signal)


# 2. Undo a detach


@pytest.mark.django_db
def test_the_room_offers_to_undo_a_detach_to_whoever_detached(
    incident, lead, drafter, browser_client
):
    (first, _second) = _attached(
        incident, ("Refund please", Sentiment.NEGATIVE), ("Nice lids", Sentiment.POSITIVE)
    )
    client = browser_client.as_user(drafter)
    url = f"/incidents/{incident.pk}/mentions/"
    detach = f"/incidents/{incident.pk}/mentions/{first.pk}/detach/"
    assert client.post(detach, HTTP_HX_REQUEST="true").status_code == 200
    panel = client.get(url).content.decode()
    undo = f'hx-post="/listening/mentions/{first.pk}/attach/"'
    assert "Detached: @user0.bsky.social, “Refund please”" in unescape(panel)
    assert undo in panel and ">Undo</button>" in panel
    assert f'name="incident" value="{incident.pk}"' in panel
    # Only to whoever detached it: the lead's panel does not offer it.
    assert undo not in browser_client.as_user(lead).get(url).content.decode()
    # The timeline names the author as the panel does, with the "@" of the handle.
    room = unescape(client.get(f"/incidents/{incident.pk}/").content.decode())
    assert "Bluesky · @user0.bsky.social: Refund please" in room


@pytest.mark.django_db
def test_undo_attaches_the_mention_again_for_a_listening_reader(incident, drafter, browser_client):
    drafter = grant(drafter, "view_mention")
    (mention,) = _attached(incident, ("Refund please", Sentiment.NEGATIVE))
    actions.mention_detach(mention=mention, incident=incident, actor=drafter)
    client = browser_client.as_user(drafter)
    answer = client.post(
        f"/listening/mentions/{mention.pk}/attach/",
        {"incident": incident.pk},
        HTTP_HX_REQUEST="true",
    )
    assert answer.status_code == 200 and answer.headers["HX-Trigger"].startswith(
        '{"incident-changed"'
    )
    mention.refresh_from_db()
    assert mention.incident_id == incident.pk
    panel = client.get(f"/incidents/{incident.pk}/mentions/").content.decode()
    assert "Detached:" not in panel  # attached again: nothing to undo


@pytest.mark.django_db
def test_a_cell_member_without_listening_access_may_undo_their_detach_only(
    incident, drafter, observer, browser_client
):
    """The detach was theirs to make (the cell except observers); so is its undo, though
    attaching needs listening access otherwise (listening.rules.may_attach). A refusal is
    answered as the room's actions are (422, said beside the button)."""
    (mention, _other) = _attached(
        incident, ("Refund please", Sentiment.NEGATIVE), ("Nice", Sentiment.POSITIVE)
    )
    stray = Mention.objects.create(
        platform="bluesky",
        external_id="stray",
        text="Never attached here",
        posted_at=timezone.now(),
        collected_at=timezone.now(),
        source=Source.IMPORT,
    )
    client = browser_client.as_user(drafter)
    client.post(f"/incidents/{incident.pk}/mentions/{mention.pk}/detach/", HTTP_HX_REQUEST="true")
    # A mention never attached here stays out of reach (listening data): refused, unchanged.
    refused = client.post(
        f"/listening/mentions/{stray.pk}/attach/", {"incident": incident.pk}, HTTP_HX_REQUEST="true"
    )
    assert refused.status_code == 422
    assert "detached from this incident in the last 15 minutes" in refused.content.decode()
    stray.refresh_from_db()
    assert stray.incident_id is None

    undone = client.post(
        f"/listening/mentions/{mention.pk}/attach/",
        {"incident": incident.pk},
        HTTP_HX_REQUEST="true",
    )

    assert undone.status_code == 200, undone.content
    mention.refresh_from_db()
    assert mention.incident_id == incident.pk
    assert TimelineEntry.objects.filter(incident=incident, kind="mentions_attached").exists()


# 3. The chips under a search


def _chips(html: str) -> list[str]:
    found = re.findall(r'<a class="chip chip-sentiment sentiment-\w+.*?>(.*?)</a>', html, re.S)
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", text)).strip() for text in found]


@pytest.mark.django_db
def test_under_a_search_every_chip_counts_what_it_matches(incident, lead, browser_client):
    _attached(
        incident,
        ("Refund my order", Sentiment.NEGATIVE),
        ("I want a refund", Sentiment.NEGATIVE),
        ("Lids crack", Sentiment.NEGATIVE),
        ("Refund received, thanks", Sentiment.POSITIVE),
        ("Nothing to say", Sentiment.NEUTRAL),
    )
    client = browser_client.as_user(lead)
    url = f"/incidents/{incident.pk}/mentions/"
    assert _chips(client.get(url).content.decode()) == [
        "All 5",
        "Positive 1",
        "Neutral 1",
        "Negative 3",
    ]
    html = client.get(url, {"mentions_q": "refund"}).content.decode()
    assert _chips(html) == ["All 3", "Positive 1", "Negative 2"]
    assert "3 posts match." in html  # the note says the same as "All"
    html = client.get(url, {"mentions_q": "refund", "mentions_sentiment": "negative"})
    assert _chips(html.content.decode()) == ["All 3", "Positive 1", "Negative 2"]
    assert len(html.context["mentions"]) == 2
    # The heading still counts every mention attached.
    assert '<span class="count">5</span>' in html.content.decode()


def test_chips_counted_in_part_say_so(incident, lead, browser_client, monkeypatch):
    from incidents.listening import selectors

    _attached(
        incident,
        *[(f"Refund {n}", Sentiment.NEGATIVE) for n in range(4)],
    )
    client = browser_client.as_user(lead)
    url = f"/incidents/{incident.pk}/mentions/"
    whole = client.get(url, {"mentions_q": "refund"}).content.decode()
    assert "chips-partial" not in whole
    monkeypatch.setattr(selectors, "SEARCH_SCAN", 2)
    monkeypatch.setattr(selectors, "SEARCH_CHUNK", 2)
    part = client.get(url, {"mentions_q": "refund"}).content.decode()
    assert _chips(part)[0] == "All 2"
    assert "attached: older ones may match too." in part


# 4. Planned campaigns that start or end on their own


@pytest.mark.django_db(transaction=True)
def test_a_campaign_starting_or_ending_on_its_own_refreshes_the_listening_pages(
    reader, watch, watch_editor, at_now
):
    start = timezone.now().replace(second=0, microsecond=0)
    ExpectedBurst.objects.create(
        watch=watch,
        starts_at=start + timedelta(minutes=10),
        ends_at=start + timedelta(minutes=70),
        created_by=watch_editor,
    )
    at_now(start)
    tasks.detect_signals()  # the pass before: nothing crossed since
    key = session_cookie(reader)[1]

    def tick(minutes):
        at_now(start + timedelta(minutes=minutes))
        tasks.detect_signals()

    async def heard(page, timeout):
        messages = []
        while not await page.receive_nothing(timeout=timeout):
            messages.append(json.loads((await page.receive_output())["text"]))
        return [m.get("signal") for m in messages]

    async def scenario():
        page = me(key)
        assert (await page.connect())[0]
        forget_listening_window()
        await sync_to_async(tick)(5)
        assert await heard(page, 0.5) == []  # nothing started nor ended
        await sync_to_async(tick)(11)  # it started at minute 10
        assert await heard(page, 1) == ["listening-changed"]
        await sync_to_async(tick)(12)
        assert await heard(page, 0.5) == []
        await sync_to_async(tick)(75)  # it ended at minute 70
        assert await heard(page, 1) == ["listening-changed"]
        await page.disconnect()

    async_to_sync(scenario)()
    forget_listening_window()


@pytest.mark.django_db
def test_a_boundary_is_read_from_the_previous_pass(watch, watch_editor):
    now = timezone.now()
    ExpectedBurst.objects.create(
        watch=watch,
        starts_at=now - timedelta(minutes=3),
        ends_at=now + timedelta(hours=1),
        created_by=watch_editor,
    )
    assert selectors.campaign_boundary_between(now - timedelta(minutes=5), now)
    assert not selectors.campaign_boundary_between(now - timedelta(minutes=2), now)
    # No pass before (or passes stopped long ago): read an hour back at most.
    assert selectors.campaign_boundary_between(None, now)
    assert not selectors.campaign_boundary_between(None, now + timedelta(hours=3))


# 6. Whom to ask


@pytest.mark.django_db
def test_the_not_allowed_page_says_whom_to_ask(drafter, reader, browser_client):
    page = browser_client.as_user(drafter).get("/listening/")
    assert page.status_code == 403
    html = unescape(page.content.decode())
    assert "Listening data is shown to the people given access to it." in html
    assert "An administrator of Crisis Cell gives this access" in html
    # A reader who may not change watches: the same person to ask.
    page = browser_client.as_user(reader).get("/listening/watches/new/")
    assert page.status_code == 403
    html = unescape(page.content.decode())
    assert "Only people allowed to change watches can do this." in html
    assert "An administrator of Crisis Cell gives this access" in html


@pytest.mark.django_db
def test_a_refusal_to_htmx_is_the_same_sentence_as_a_message(drafter, browser_client):
    import json

    from django.core.exceptions import PermissionDenied
    from django.test import RequestFactory

    from crisiscell import errors

    # htmx reduced the whole 403 page to "Something went wrong" (static/js/app.js shows a
    # JSON `detail`): a panel refreshing itself for someone whose access was withdrawn.
    client = browser_client.as_user(drafter)
    page = unescape(client.get("/listening/").content.decode())
    answer = client.get("/listening/panels/signals/", HTTP_HX_REQUEST="true")
    assert answer.status_code == 403
    assert answer["Content-Type"] == "application/json"
    detail = answer.json()["detail"]
    assert detail.startswith("Listening data is shown to the people given access to it.")
    assert "An administrator of Crisis Cell gives this access" in detail
    assert detail in page and "<" not in detail and "&" not in detail
    # Text, not HTML: an apostrophe stays one.
    request = RequestFactory().post("/incidents/1/", HTTP_HX_REQUEST="true")
    refused = errors.permission_denied(request, PermissionDenied("It's not yours to do."))
    assert json.loads(refused.content) == {"detail": "It's not yours to do."}
