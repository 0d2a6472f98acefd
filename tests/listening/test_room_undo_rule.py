"""The room's mentions panel: Detach, its Undo, and who may attach again.

1. One rule (listening.rules.undoable_detaches, may_attach): without listening access a
   cell member may attach again only the mentions they detached from this incident in the
   last UNDO_DETACH that no other incident took since; the panel offers exactly those
   (still detached), the action, the page and the API refuse the rest. Listening readers
   attach anything. Before, the panel offered the Undo for 15 minutes to whoever detached,
   but the guard let any cell writer attach any mention ever detached from the incident.
2. Without JavaScript, an Undo comes back to the room (`next`; else the room, never the
   Listening page, for someone who may not read it).
3. The Detach confirmation says what happens to this viewer: the stream for a listening
   reader, the Undo's time for anyone else.
4. The "Started on" key event names the first mention's author with the "@" its handle
   carries on the pages.

Persona fixtures: the drafter is in the cell without listening access; `grant` gives it."""

from datetime import timedelta
from html import unescape

import pytest
from django.utils import timezone

from incidents import actions as incident_actions
from incidents.errors import NotAllowed
from incidents.listening import actions, rules
from incidents.listening.choices import Sentiment, Source
from incidents.listening.models import Mention
from incidents.models import TimelineEntry

from .conftest import grant

pytestmark = pytest.mark.django_db

MINUTE = timedelta(minutes=1)
READER_CONFIRM = (
    "Detach this mention from the incident? It stays in the listening stream, and the "
    "timeline records it."
)
CELL_CONFIRM = (
    "Detach this mention from the incident? The timeline records it. You can attach it again "
    "(Undo) for 15 minutes; after that, only people with access to listening data can."
)


def _mentions(n, incident=None, prefix="m"):
    start = timezone.now() - timedelta(hours=1)
    Mention.objects.bulk_create(
        Mention(
            platform="bluesky",
            external_id=f"{prefix}{i}",
            text=f"Refund please {i}",
            posted_at=start + timedelta(minutes=i),
            collected_at=start + timedelta(minutes=i),
            author_handle=f"{prefix}{i}.bsky.social",
            sentiment=Sentiment.NEGATIVE,
            source=Source.IMPORT,
            incident=incident,
        )
        for i in range(n)
    )
    return list(Mention.objects.filter(external_id__startswith=prefix).order_by("external_id"))


@pytest.fixture
def other_incident(declare, lead, drafter):
    """A second incident, the drafter in its cell too."""
    other = declare(title="Another crisis")
    incident_actions.member_add(incident=other, actor=lead, user=drafter, role="drafter")
    return other


def _offered(client, incident) -> set[int]:
    """The mentions the room panel offers this viewer to Undo."""
    panel = client.get(f"/incidents/{incident.pk}/mentions/")
    return {mention.pk for mention in panel.context["undo_detached"]}


def _undo(client, mention, incident, *, htmx=False, **fields):
    """The panel's Undo form sent (with htmx, or as a plain form with `fields`: next)."""
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    return client.post(
        f"/listening/mentions/{mention.pk}/attach/", {"incident": incident.pk, **fields}, **headers
    )


# 1. One rule


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("own, just now", True),
        ("own, 14 minutes ago", True),
        ("own, 16 minutes ago", False),
        ("detached by the lead", False),
        ("own, attached to another incident since", False),
        ("own, from another incident", False),
        ("never attached here", False),
    ],
)
def test_the_panel_offers_exactly_what_the_guard_allows_without_listening_access(
    case, expected, incident, other_incident, lead, drafter, browser_client, at_now
):
    mention, stray = _mentions(2)
    attach_to = other_incident if case == "own, from another incident" else incident
    Mention.objects.filter(pk=mention.pk).update(incident=attach_to)
    detacher = lead if case == "detached by the lead" else drafter
    if case == "never attached here":
        mention = stray
    else:
        actions.mention_detach(mention=mention, incident=attach_to, actor=detacher)
    if case == "own, attached to another incident since":
        reader = grant(lead, "view_mention")
        actions.mention_attach(mention=mention, incident=other_incident, actor=reader)
    later = {"own, 14 minutes ago": 14 * MINUTE, "own, 16 minutes ago": 16 * MINUTE}
    if case in later:
        at_now(timezone.now() + later[case])
    client = browser_client.as_user(drafter)

    offered = mention.pk in _offered(client, incident)
    allowed = rules.may_attach(drafter, incident, [mention.pk])

    assert offered is allowed is expected, case
    answer = _undo(client, mention, incident, htmx=True)
    mention.refresh_from_db()
    if expected:
        assert answer.status_code == 200 and mention.incident_id == incident.pk
    else:
        assert answer.status_code == 422, case
        said = unescape(answer.content.decode())
        if case == "own, attached to another incident since":  # which one: 5. below
            assert "now attached to another incident: “<a href=" in said
            assert f'<a href="/incidents/{other_incident.pk}/">Another crisis</a>”' in said
        else:
            assert "you can attach again only the mentions you detached" in said
        assert mention.incident_id != incident.pk


def test_a_colleague_who_detached_it_since_decides_not_an_older_undo(
    incident, lead, drafter, browser_client
):
    """The drafter detached it, the lead attached it again and then detached it: the lead's
    decision is the last; the drafter's older Undo no longer applies (it was still offered,
    and the API attached the mention again over the lead's detach)."""
    (mention,) = _mentions(1, incident)
    actions.mention_detach(mention=mention, incident=incident, actor=drafter)
    reader = grant(lead, "view_mention")
    actions.mention_attach(mention=mention, incident=incident, actor=reader)
    actions.mention_detach(mention=mention, incident=incident, actor=reader)
    client = browser_client.as_user(drafter)
    assert mention.pk not in _offered(client, incident)
    assert not rules.may_attach(drafter, incident, [mention.pk])
    assert _undo(client, mention, incident, htmx=True).status_code == 422
    mention.refresh_from_db()
    assert mention.incident_id is None


def test_the_window_is_the_rules_one(incident, drafter, at_now):
    (mention,) = _mentions(1, incident)
    actions.mention_detach(mention=mention, incident=incident, actor=drafter)
    at_now(timezone.now() + rules.UNDO_DETACH - MINUTE)
    assert rules.may_attach(drafter, incident, [mention.pk])
    at_now(timezone.now() + 2 * MINUTE)
    assert not rules.may_attach(drafter, incident, [mention.pk])
    with pytest.raises(NotAllowed, match="in the last 15 minutes"):
        actions.mention_attach(mention=mention, incident=incident, actor=drafter)


def test_a_listening_reader_attaches_anything_whoever_detached_it_and_whenever(
    incident, lead, drafter, at_now
):
    first, second = _mentions(2, incident)
    for mention in (first, second):
        actions.mention_detach(mention=mention, incident=incident, actor=lead)
    at_now(timezone.now() + timedelta(days=2))
    reader = grant(drafter, "view_mention")
    assert rules.may_attach(reader, incident, [first.pk, second.pk])
    result = actions.mentions_attach(
        mention_ids=[first.pk, second.pk], incident=incident, actor=reader
    )
    assert sorted(result.attached) == sorted([first.pk, second.pk])


def test_a_second_click_on_undo_is_a_no_op_not_a_refusal(incident, drafter, browser_client):
    (mention,) = _mentions(1, incident)
    actions.mention_detach(mention=mention, incident=incident, actor=drafter)
    assert actions.mention_attach(mention=mention, incident=incident, actor=drafter)
    # Attached here again: nothing to undo in the panel, and a second send changes nothing.
    assert mention.pk not in _offered(browser_client.as_user(drafter), incident)
    assert actions.mention_attach(mention=mention, incident=incident, actor=drafter) is False
    assert TimelineEntry.objects.filter(incident=incident, kind="mentions_attached").count() == 1


def test_a_batch_is_refused_whole_when_one_mention_is_not_the_members_to_undo(
    incident, lead, drafter
):
    mine, theirs = _mentions(2, incident)
    actions.mention_detach(mention=mine, incident=incident, actor=drafter)
    actions.mention_detach(mention=theirs, incident=incident, actor=lead)
    with pytest.raises(NotAllowed):
        actions.mentions_attach(mention_ids=[mine.pk, theirs.pk], incident=incident, actor=drafter)
    assert not Mention.objects.filter(incident=incident).exists()


def test_the_api_follows_the_same_rule(incident, lead, drafter, api, at_now):
    mine, theirs, late = _mentions(3, incident)
    actions.mention_detach(mention=late, incident=incident, actor=drafter)
    at_now(timezone.now() + 16 * MINUTE)
    actions.mention_detach(mention=mine, incident=incident, actor=drafter)
    actions.mention_detach(mention=theirs, incident=incident, actor=lead)
    client = api.as_user(drafter)
    url = f"/api/incidents/{incident.pk}/mentions/"

    for refused in (theirs, late):
        answer = client.post(url, {"mentions": [refused.pk]}, format="json")
        assert answer.status_code == 403, answer.content
        assert "in the last 15 minutes" in answer.json()["detail"]
    answer = client.post(url, {"mentions": [mine.pk]}, format="json")

    assert answer.status_code == 200 and answer.json()["attached"] == [mine.pk]
    assert set(Mention.objects.filter(incident=incident).values_list("pk", flat=True)) == {mine.pk}


def test_the_rule_and_the_panel_cost_the_same_queries_whatever_was_detached(
    incident, drafter, browser_client, django_assert_max_num_queries
):
    mentions = _mentions(12, incident)
    client = browser_client.as_user(drafter)
    url = f"/incidents/{incident.pk}/mentions/"
    actions.mention_detach(mention=mentions[0], incident=incident, actor=drafter)
    client.get(url)
    with django_assert_max_num_queries(100) as one:
        client.get(url)
    for mention in mentions[1:]:
        actions.mention_detach(mention=mention, incident=incident, actor=drafter)
    with django_assert_max_num_queries(len(one.captured_queries)):
        panel = client.get(url)
    assert len(panel.context["undo_detached"]) == 5  # selectors.MAX_UNDO_SHOWN, newest first
    assert panel.context["undo_detached"][0].pk == mentions[-1].pk
    assert rules.can_view_listening(drafter) is False  # its permissions read, then cached
    with django_assert_max_num_queries(2):
        assert rules.may_attach(drafter, incident, [m.pk for m in mentions])


# 2. Without JavaScript


def test_without_javascript_the_undo_comes_back_to_the_room(incident, drafter, browser_client):
    (mention,) = _mentions(1, incident)
    client = browser_client.as_user(drafter)
    room = f"/incidents/{incident.pk}/"
    detached = client.post(f"/incidents/{incident.pk}/mentions/{mention.pk}/detach/")
    # Back at the panel, where the Undo is.
    assert detached.status_code == 302 and detached.url == f"{room}#mentions-panel"
    page = client.get(room).content.decode()
    assert f'name="next" value="{room}#mentions-panel"' in page  # the Undo form carries it

    undone = _undo(client, mention, incident, next=f"{room}#mentions-panel")

    assert undone.status_code == 302 and undone.url == f"{room}#mentions-panel"
    followed = client.get(undone.url)
    assert followed.status_code == 200
    assert f"Attached to “{incident.title}”." in unescape(followed.content.decode())
    mention.refresh_from_db()
    assert mention.incident_id == incident.pk


def test_without_next_the_fallback_is_the_room_for_a_member_who_may_not_read_listening(
    incident, lead, drafter, browser_client
):
    first, second = _mentions(2, incident)
    actions.mention_detach(mention=first, incident=incident, actor=drafter)
    actions.mention_detach(mention=second, incident=incident, actor=lead)
    client = browser_client.as_user(drafter)
    room = f"/incidents/{incident.pk}/"
    # Done, or refused (not theirs to undo), back at the panel, where it is said: in the
    # room, never on /listening/ (403).
    for mention in (first, second):
        answer = _undo(client, mention, incident)
        assert answer.status_code == 302 and answer.url == f"{room}#mentions-panel"
    refused = client.get(room).content.decode()
    assert "you can attach again only the mentions you detached" in unescape(refused)
    assert Mention.objects.get(pk=first.pk).incident_id == incident.pk
    assert Mention.objects.get(pk=second.pk).incident_id is None
    # A listening reader's fallback is still the Listening page (the stream's form).
    reader = grant(lead, "view_mention")
    answer = _undo(browser_client.as_user(reader), second, incident)
    assert answer.status_code == 302 and answer.url == "/listening/"


# 3. What the Detach confirmation says


def test_the_detach_confirmation_says_what_happens_to_this_viewer(
    incident, lead, drafter, browser_client
):
    _mentions(1, incident)
    reader = grant(lead, "view_mention")
    for user, says, not_this in (
        (reader, READER_CONFIRM, CELL_CONFIRM),
        (drafter, CELL_CONFIRM, READER_CONFIRM),
    ):
        client = browser_client.as_user(user)
        for url in (f"/incidents/{incident.pk}/", f"/incidents/{incident.pk}/mentions/"):
            html = unescape(client.get(url).content.decode())
            assert f'hx-confirm="{says}"' in html, (user, url)
            assert not_this not in html


# 4. The key event names the first mention's author as the pages do


def test_the_started_on_key_event_names_the_handle_with_its_at(signal, reader):
    first = signal.first_mention
    assert first.platform == "bluesky" and not first.author_handle.startswith("@")

    incident = actions.signal_declare(signal=signal, actor=reader)

    entry = TimelineEntry.objects.get(incident=incident, kind="key_event")
    assert f"(first mention: @{first.author_handle})" in entry.text
