"""The room's Undo of a detach, refused because another incident took the mention since.

1. The refusal says which incident took it, to whoever may see that incident (its cell,
   staff: incidents.selectors.incidents_visible_to); anyone else reads "another incident
   you are not a member of", and its title is in no answer: the Undo with htmx (422), the
   page without JavaScript and the API say the same; the pages also say which mention (by
   its author and text, as the panel's "Detached:" line) and link the incident to its
   room, the API's `detail` is plain text. A listening reader's Undo (allowed, then
   refused by the action: the mention is elsewhere) says it the same way.
2. With htmx the refusal replaces the Undo's form: the button goes at once.
3. Without JavaScript the refusal comes back to the panel (#mentions-panel) and is said
   at its top, not at the top of the page; also when the panel had nothing left to show.
4. Without JavaScript the room does not claim to connect: the live indicator is hidden
   until static/js/live.js shows it, and a <noscript> line says to reload for news.

Persona fixtures: the drafter is in the incident's cell without listening access."""

import re
from datetime import timedelta
from html import unescape

import pytest
from django.utils import timezone

from incidents import actions as incident_actions
from incidents.listening import actions
from incidents.listening.choices import Sentiment, Source
from incidents.listening.models import Mention

from .conftest import grant

pytestmark = pytest.mark.django_db

SECRET = "Secret merger leak"
# The API's words: the caller named the mention.
NAMED = f"This mention is now attached to another incident: “{SECRET}”."
UNNAMED = "This mention is now attached to another incident you are not a member of."
# A page's: which mention too (without JavaScript the panel shows it no more), as the
# panel's "Detached:" line names it; the incident's title links to its room.
WHICH = "The mention from @ana.bsky.social, “Refund please”,"
PAGE_NAMED = f"{WHICH} is now attached to another incident: “{SECRET}”."
PAGE_UNNAMED = f"{WHICH} is now attached to another incident you are not a member of."
PAGE = {NAMED: PAGE_NAMED, UNNAMED: PAGE_UNNAMED}


def text(html: str) -> str:
    return unescape(" ".join(re.sub(r"<[^>]+>", "", html).split()))


def _taken(incident, other, detacher, lead, external_id="taken"):
    """A mention `detacher` detached from the incident a minute ago, which a listening
    reader then attached to `other`."""
    mention = Mention.objects.create(
        platform="bluesky",
        external_id=external_id,
        text="Refund please",
        posted_at=timezone.now() - timedelta(hours=1),
        collected_at=timezone.now() - timedelta(hours=1),
        author_handle="ana.bsky.social",
        sentiment=Sentiment.NEGATIVE,
        source=Source.IMPORT,
        incident=incident,
    )
    actions.mention_detach(mention=mention, incident=incident, actor=detacher)
    actions.mention_attach(mention=mention, incident=other, actor=grant(lead, "view_mention"))
    return mention


@pytest.fixture
def taken(incident, declare, lead, drafter):
    """A mention the drafter detached from the incident, which another incident, SECRET,
    took since (the drafter is not in its cell)."""
    other = declare(title=SECRET)
    return _taken(incident, other, drafter, lead), other


def _join(other, lead, user):
    incident_actions.member_add(incident=other, actor=lead, user=user, role="observer")


def _answers(user, mention, incident, browser_client, api) -> dict:
    """What each way of asking the Undo answers `user`: htmx (422), the page (the room it
    comes back to) and the API (403)."""
    client = browser_client.as_user(user)
    url = f"/listening/mentions/{mention.pk}/attach/"
    room = f"/incidents/{incident.pk}/"
    form = {"incident": incident.pk, "next": f"{room}#mentions-panel"}
    htmx = client.post(url, form, HTTP_HX_REQUEST="true")
    assert htmx.status_code == 422
    page = client.post(url, form)
    assert page.status_code == 302 and page.url == f"{room}#mentions-panel"
    followed = client.get(page.url)
    answer = api.as_user(user).post(
        f"/api/incidents/{incident.pk}/mentions/", {"mentions": [mention.pk]}, format="json"
    )
    return {
        "htmx": htmx.content.decode(),
        "page": followed.content.decode(),
        "api": answer.json().get("detail", "") if answer.status_code == 403 else answer.json(),
    }


@pytest.mark.parametrize(
    ("who", "says"),
    [
        ("a member of the other incident's cell", NAMED),
        ("staff, in neither cell of the other", NAMED),
        ("outside the other incident's cell", UNNAMED),
    ],
)
def test_the_refusal_names_the_incident_that_took_it_only_to_who_may_see_it(
    who, says, incident, taken, lead, drafter, staff, browser_client, api
):
    mention, other = taken
    user = drafter
    if who.startswith("a member"):
        _join(other, lead, drafter)
    elif who.startswith("staff"):
        incident_actions.member_add(incident=incident, actor=lead, user=staff, role="drafter")
        mention, user = _taken(incident, other, staff, lead, "taken-by-staff"), staff

    answers = _answers(user, mention, incident, browser_client, api)

    # With htmx the panel's "Detached:" line stays above and names the mention; without
    # JavaScript the refusal does.
    assert says in text(answers["htmx"]) and "The mention from" not in text(answers["htmx"])
    assert PAGE[says] in text(answers["page"])
    assert answers["api"] == says  # plain text
    link = f'<a href="/incidents/{other.pk}/">{SECRET}</a>'
    if says == UNNAMED:
        for answer in answers.values():
            assert SECRET not in unescape(answer), who
            assert f"/incidents/{other.pk}/" not in answer, who
    else:  # the pages link the incident to its room
        assert link in answers["htmx"] and link in answers["page"]
    mention.refresh_from_db()
    assert mention.incident_id == other.pk


def test_a_refused_undo_with_htmx_replaces_its_form(incident, taken, drafter, browser_client):
    mention, _other = taken
    answer = browser_client.as_user(drafter).post(
        f"/listening/mentions/{mention.pk}/attach/",
        {"incident": incident.pk},
        HTTP_HX_REQUEST="true",
    )
    assert answer.status_code == 422
    # In place of the form that was sent (the button with it): the refusal alone.
    assert answer["HX-Retarget"] == "this" and answer["HX-Reswap"] == "outerHTML"
    html = answer.content.decode()
    assert "<button" not in html and "<form" not in html
    assert 'class="form-error" role="alert"' in html


def test_a_listening_readers_undo_of_a_mention_taken_since_says_it_the_same_way(
    incident, taken, drafter, browser_client
):
    """A reader may attach anything (rules.may_attach): the action refuses, since the
    mention is elsewhere, and names the incident as the guard would."""
    mention, _other = taken
    reader = grant(drafter, "view_mention")
    answers = {}
    client = browser_client.as_user(reader)
    room = f"/incidents/{incident.pk}/"
    form = {"incident": incident.pk, "next": f"{room}#mentions-panel"}
    htmx = client.post(f"/listening/mentions/{mention.pk}/attach/", form, HTTP_HX_REQUEST="true")
    answers["htmx"] = unescape(htmx.content.decode())
    page = client.post(f"/listening/mentions/{mention.pk}/attach/", form, follow=True)
    answers["page"] = unescape(page.content.decode())

    assert htmx.status_code == 422 and htmx["HX-Retarget"] == "this"
    assert page.redirect_chain[-1][0] == f"{room}#mentions-panel"
    for answer in answers.values():
        assert PAGE_UNNAMED in text(answer) and SECRET not in answer


def _section(html: str) -> str:
    """The room's mentions section (to its end)."""
    start = html.index('id="mentions-panel"')
    return html[start : html.index("</section>", start)]


def test_without_javascript_the_refusal_is_said_at_the_panel(
    incident, taken, drafter, browser_client
):
    """The drafter detached the incident's only mention, which another incident took: the
    panel had nothing left to show them (no mention, no Undo), and shows the refusal."""
    mention, _other = taken
    client = browser_client.as_user(drafter)
    room = f"/incidents/{incident.pk}/"
    answer = client.post(
        f"/listening/mentions/{mention.pk}/attach/", {"incident": incident.pk}, follow=True
    )

    assert answer.redirect_chain[-1][0] == f"{room}#mentions-panel"
    html = unescape(answer.content.decode())
    assert html.count(PAGE_UNNAMED) == 1
    assert PAGE_UNNAMED in _section(html)
    main = html[html.index('id="main"') : html.index('id="incident-room"')]
    assert 'class="messages"' not in main  # nothing at the top of the page
    # Said once: the next page shows it no more, nor the panel its section.
    again = unescape(client.get(room).content.decode())
    assert "is now attached to another incident" not in again
    assert not re.search(r'<section id="mentions-panel" class="card', again)


def test_the_panels_refresh_never_says_the_page_s_messages(incident, lead, drafter, browser_client):
    """A message said at the panel waits for the room's page: the panel's own refresh
    (htmx) neither shows it nor uses it up."""
    client = browser_client.as_user(drafter)
    room = f"/incidents/{incident.pk}/"
    Mention.objects.create(
        platform="bluesky",
        external_id="held",
        text="Still here",
        posted_at=timezone.now(),
        collected_at=timezone.now(),
        incident=incident,
    )
    incident_actions.incident_transition(incident=incident, actor=lead, status="closed")
    held = Mention.objects.get(external_id="held")
    refused = client.post(f"/incidents/{incident.pk}/mentions/{held.pk}/detach/")
    assert refused.url == f"{room}#mentions-panel"

    panel = unescape(client.get(f"/incidents/{incident.pk}/mentions/").content.decode())
    page = unescape(client.get(room).content.decode())

    assert "reopen it before detaching" not in panel
    assert "reopen it before detaching" in _section(page)


def test_without_javascript_the_room_does_not_claim_to_connect(incident, drafter, browser_client):
    html = unescape(
        browser_client.as_user(drafter).get(f"/incidents/{incident.pk}/").content.decode()
    )
    status = re.search(r'<p class="live-status" id="live-status"[^>]*>', html).group(0)
    assert " hidden" in status
    noscript = re.search(r"<noscript><p[^>]*>([^<]*)</p></noscript>", html)
    assert noscript.group(1) == (
        "No live updates without JavaScript: reload the page to see what changed."
    )


def test_the_linked_title_is_escaped_in_every_page_answer(
    incident, declare, lead, drafter, browser_client
):
    """The title a page links is the incident's own text: escaped, with htmx and through
    the message said without JavaScript."""
    title = "R&D <script>alert(1)</script>"
    other = declare(title=title)
    _join(other, lead, drafter)
    mention = _taken(incident, other, drafter, lead, "taken-escaped")
    client = browser_client.as_user(drafter)
    url = f"/listening/mentions/{mention.pk}/attach/"
    form = {"incident": incident.pk, "next": f"/incidents/{incident.pk}/#mentions-panel"}
    htmx = client.post(url, form, HTTP_HX_REQUEST="true").content.decode()
    page = client.post(url, form, follow=True).content.decode()
    link = f'<a href="/incidents/{other.pk}/">R&amp;D &lt;script&gt;alert(1)&lt;/script&gt;</a>'
    for answer in (htmx, page):
        assert link in answer
        assert "<script>alert(1)" not in answer


def test_without_javascript_a_detach_and_its_undo_are_said_at_the_panel(
    incident, drafter, browser_client
):
    """Back at #mentions-panel, a done Detach or Undo is said there too, not at the top of
    a page scrolled away from it."""
    mention = Mention.objects.create(
        platform="bluesky",
        external_id="here",
        text="Lid cracked",
        posted_at=timezone.now(),
        collected_at=timezone.now(),
        incident=incident,
    )
    client = browser_client.as_user(drafter)
    room = f"/incidents/{incident.pk}/"
    detached = client.post(f"{room}mentions/{mention.pk}/detach/", follow=True)
    assert detached.redirect_chain[-1][0] == f"{room}#mentions-panel"
    html = unescape(detached.content.decode())
    assert "Mention detached." in _section(html)
    assert (
        'class="messages"' not in html[html.index('id="main"') : html.index('id="incident-room"')]
    )

    undone = client.post(
        f"/listening/mentions/{mention.pk}/attach/", {"incident": incident.pk}, follow=True
    )
    assert undone.redirect_chain[-1][0] == f"{room}#mentions-panel"
    html = unescape(undone.content.decode())
    assert f"Attached to “{incident.title}”." in _section(html)
    assert (
        'class="messages"' not in html[html.index('id="main"') : html.index('id="incident-room"')]
    )


def test_a_linked_refusal_keeps_its_link_when_copied_or_pickled():
    """A cache, a task or a deepcopy of the message must not lose (or fail on) the link."""
    import copy
    import pickle

    from incidents.listening.rules import Linked

    said = Linked("Taken by “A”.", 'Taken by “<a href="/incidents/1/">A</a>”.')
    for again in (copy.copy(said), copy.deepcopy(said), pickle.loads(pickle.dumps(said))):  # noqa: S301 (our own bytes)
        assert again == said and again.__html__() == said.__html__()
