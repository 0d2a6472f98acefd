"""The public crisis page: dark site from a playbook, one-step switches by the lead, only
approved words on the page, static files served without a database query."""

import json
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.http import http_date

from incidents.crisiscenter import actions
from incidents.crisiscenter.models import CrisisPage
from incidents.errors import Conflict, InvalidInput, NotAllowed, TransitionNotAllowed
from incidents.models import TimelineEntry
from incidents.playbooks import actions as playbook_actions
from incidents.playbooks.models import Playbook
from statements import actions as statement_actions
from tests.helpers import assert_error

from .conftest import approve

# The public files are rendered after COMMIT, as in production: real transactions.
pytestmark = pytest.mark.django_db(transaction=True)


def public_files() -> dict[str, str]:
    root = Path(settings.CRISIS_CENTER_ROOT)
    return {
        str(path.relative_to(root)): path.read_text() for path in root.rglob("*") if path.is_file()
    }


# --- Dark site from a playbook --------------------------------------------------------------


def test_a_playbook_prepares_a_dark_page_of_drafts(dark_page, incident):
    assert dark_page.state == "dark"
    statements = [text.statement for text in dark_page.texts.select_related("statement")]
    # summary, doing, help and two FAQ entries in English; summary, doing, help, one FAQ in French
    assert len(statements) == 9
    assert {s.status for s in statements} == {"draft"}
    assert {s.channel for s in statements} == {"crisis_center"}
    assert {s.kind for s in statements} == {"update", "faq"}
    summary = next(s for s in statements if s.language == "en" and s.text.startswith("About"))
    assert summary.text.startswith("About the rumour concerning Acme\n")
    doing = next(s for s in statements if s.language == "en" and "Next update" in s.text)
    assert "(Paris time)" in doing.text  # the placeholder filled, with its zone
    entry = TimelineEntry.objects.filter(incident=incident, kind="crisis_page_prepared").get()
    assert entry.data["drafts"] == 9
    assert public_files() == {}  # a dark page has no public file


def test_missing_placeholder_data_refuses_with_a_clear_message(incident, lead, playbook):
    with pytest.raises(InvalidInput) as refused:
        actions.page_prepare(incident=incident, actor=lead, playbook=playbook)
    assert "{{ next_update_at }}" in refused.value.message
    assert "set the time of the next update" in refused.value.message
    assert not CrisisPage.objects.exists()  # all or nothing


def test_only_the_lead_prepares_and_switches(incident, drafter, observer, playbook, next_update):
    for person in (drafter, observer):
        with pytest.raises(NotAllowed):
            actions.page_prepare(
                incident=incident, actor=person, playbook=playbook, next_update_at=next_update
            )


def test_a_page_is_prepared_once(dark_page, incident, lead):
    with pytest.raises(Conflict):
        actions.page_prepare(incident=incident, actor=lead)


@pytest.mark.parametrize("slug", ["en", "fr", "index"])
def test_an_address_the_index_uses_is_refused(incident, lead, slug):
    """/crisis/en/ is the English index: a page there would overwrite it or be hidden."""
    with pytest.raises(InvalidInput, match="kept for the index"):
        actions.page_prepare(incident=incident, actor=lead, slug=slug)
    assert not CrisisPage.objects.exists()


def test_going_live_needs_an_approved_summary(dark_page, lead):
    with pytest.raises(TransitionNotAllowed):
        actions.page_switch(page=dark_page, actor=lead, action="go_live")


def test_dark_and_unknown_pages_are_404_for_the_public(dark_page, client):
    for url in (
        "/crisis/rumour/",
        "/crisis/rumour/en/",
        "/crisis/nothing/",
        "/api/crisis-pages/rumour/",
    ):
        assert client.get(url).status_code == 404


# --- Live: one step, timeline, files ----------------------------------------------------------


def test_the_lead_switches_live_then_resolved_one_step_each(
    dark_page, approve_texts, lead, drafter, incident
):
    approve_texts(dark_page)
    with pytest.raises(NotAllowed):
        actions.page_switch(page=dark_page, actor=drafter, action="go_live")
    with pytest.raises(TransitionNotAllowed):
        actions.page_switch(page=dark_page, actor=lead, action="resolve")
    page = actions.page_switch(page=dark_page, actor=lead, action="go_live")
    assert page.state == "live" and page.live_at
    again = actions.page_switch(page=page, actor=lead, action="go_live")  # a double click
    assert again.state == "live"
    assert TimelineEntry.objects.filter(incident=incident, kind="crisis_page_live").count() == 1
    files = public_files()
    assert {"rumour/index.html", "rumour/en/index.html", "rumour/fr/index.html"} <= set(files)
    assert {"rumour/en/feed.atom", "rumour/en/feed.json", "rumour/page.json"} <= set(files)
    assert {"index.html", "en/index.html", "fr/index.html", "crisis.css"} <= set(files)
    english = files["rumour/en/index.html"]
    assert "<h1>About the rumour concerning Acme</h1>" in english
    assert "Is the product safe?" in english and "every batch is tested" in english
    assert "0800 123 456" in english
    assert "Next update:" in english and "(Paris time)" in english
    assert 'hreflang="fr"' in english  # the language switch
    assert 'property="og:title" content="About the rumour concerning Acme"' in english
    assert "noindex" not in english
    assert "À propos de la rumeur sur Acme" in files["rumour/fr/index.html"]
    page = actions.page_switch(page=page, actor=lead, action="resolve")
    files = public_files()
    assert "Resolved on" in files["rumour/en/index.html"]
    assert "<strong>Next update:" not in files["rumour/en/index.html"]  # no promise now
    assert "Archive" in files["en/index.html"] and "About the rumour" in files["en/index.html"]


def test_a_published_update_is_on_the_live_page_and_its_feeds_at_once(live_page, publish_update):
    first = publish_update("Tests of batch 42 are clean.")
    second = publish_update("All shops have been told.")
    correction = publish_update("Tests of batch 43 (not 42) are clean.", corrects=first)
    files = public_files()
    html = files["rumour/en/index.html"]
    positions = [html.index(f'id="update-{s.pk}"') for s in (correction, second, first)]
    assert positions == sorted(positions)  # newest first
    assert f'href="#update-{first.pk}"' in html  # the correction shows what it corrects
    assert "This update was corrected" in html
    atom = files["rumour/en/feed.atom"]
    assert atom.count("<entry>") == 3  # every update its own entry
    assert "+01:00" in atom or "+02:00" in atom  # times with their zone (Paris)
    feed = json.loads(files["rumour/en/feed.json"])
    assert feed["version"] == "https://jsonfeed.org/version/1.1"
    assert next(item["content_text"] for item in feed["items"]).startswith("Tests of batch 43")
    assert feed["items"][0]["date_published"][-6:] in ("+01:00", "+02:00")
    assert "Tests of batch" not in files["rumour/fr/index.html"]  # each language its own


def test_an_edited_page_text_goes_back_to_review_and_the_approved_one_stays(
    live_page, lead, approver
):
    summary = live_page.texts.get(section="summary", statement__language="en").statement
    statement_actions.statement_edit(
        statement=summary, actor=lead, text="Unapproved title\nUnapproved words.", base_revision=1
    )
    html = public_files()["rumour/en/index.html"]
    assert "Unapproved" not in html
    replacement = actions.page_text_draft(
        page=live_page, actor=lead, section="summary", language="en", text="New title\nNew facts."
    )
    approve(replacement.statement, author=lead, approver=approver)
    assert "<h1>New title</h1>" in public_files()["rumour/en/index.html"]


# --- Nothing but approved words reaches the public ---------------------------------------------


def test_no_draft_briefing_name_comment_timeline_or_evidence_reaches_the_public(
    live_page, lead, drafter, approver, spokesperson, incident, publish_update, tmp_path, settings
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from incidents import actions as incident_actions
    from incidents.evidence import actions as evidence_actions
    from tests.evidence.conftest import png_bytes

    settings.MEDIA_ROOT = tmp_path / "media"
    secrets = []
    statement_actions.statement_create(
        incident=incident,
        actor=drafter,
        kind="update",
        channel="crisis_center",
        language="en",
        text="SECRET-DRAFT never approved",
        title="SECRET-TITLE",
    )
    secrets += ["SECRET-DRAFT", "SECRET-TITLE"]
    returned = statement_actions.statement_create(
        incident=incident,
        actor=drafter,
        kind="update",
        channel="crisis_center",
        language="en",
        text="SECRET-RETURNED text",
    )
    returned = statement_actions.statement_submit(statement=returned, actor=drafter)
    statement_actions.statement_request_changes(
        statement=returned, actor=approver, comment="SECRET-COMMENT"
    )
    secrets += ["SECRET-RETURNED", "SECRET-COMMENT"]
    briefing = statement_actions.statement_create(
        incident=incident,
        actor=drafter,
        kind="briefing",
        channel="crisis_center",
        language="en",
        text="SECRET-BRIEFING internal",
    )
    briefing = approve(briefing, author=drafter, approver=approver)
    statement_actions.statement_publish(statement=briefing, actor=spokesperson)
    secrets.append("SECRET-BRIEFING")
    faq_draft = actions.page_text_draft(
        page=live_page,
        actor=drafter,
        section="faq",
        language="en",
        text="SECRET-QUESTION?\nSECRET-ANSWER",
    )
    statement_actions.statement_submit(statement=faq_draft.statement, actor=drafter)
    secrets += ["SECRET-QUESTION", "SECRET-ANSWER"]
    incident_actions.timeline_add_entry(
        incident=incident, actor=lead, kind="note", text="SECRET-TIMELINE note"
    )
    secrets.append("SECRET-TIMELINE")
    evidence_actions.evidence_attach(
        incident=incident,
        actor=drafter,
        files=[SimpleUploadedFile("SECRET-EVIDENCE.png", png_bytes(), content_type="image/png")],
        metadata={"kind": "post", "source_url": "https://x.com/SECRET-SOURCE/status/1"},
    )
    secrets += ["SECRET-EVIDENCE", "SECRET-SOURCE"]
    publish_update("The one approved update.")
    files = public_files()
    everything = "\n".join(files.values())
    assert "The one approved update." in everything
    for secret in secrets:
        assert secret not in everything, secret
    for person in (lead, drafter, approver, spokesperson):
        for name in {person.username, person.get_full_name(), person.email} - {""}:
            assert name not in everything, name
    assert incident.title not in everything  # the incident's internal title


# --- Serving: no database, caching, headers ------------------------------------------------------


def test_django_serves_the_files_without_a_query_cookie_or_token(
    live_page, django_assert_num_queries
):
    client = Client()
    with django_assert_num_queries(0):
        response = client.get("/crisis/rumour/en/")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert "public" in response["Cache-Control"] and "max-age" in response["Cache-Control"]
    assert "default-src 'none'" in response["Content-Security-Policy"]
    assert "script-src" not in response["Content-Security-Policy"]
    assert not response.cookies  # no session, no CSRF cookie
    assert not response.has_header("Vary")  # one copy per file in a CDN
    body = response.content.decode()
    assert "csrfmiddlewaretoken" not in body and "<script" not in body
    # One form: the e-mail subscription, posting to Django (the only public write).
    assert body.count("<form") == 1 and 'action="/crisis/rumour/subscribe/"' in body
    etag, modified = response["ETag"], response["Last-Modified"]
    with django_assert_num_queries(0):
        assert client.get("/crisis/rumour/en/", HTTP_IF_NONE_MATCH=etag).status_code == 304
        assert client.get("/crisis/rumour/en/", HTTP_IF_MODIFIED_SINCE=modified).status_code == 304
        assert client.get("/crisis/").status_code == 200
        feed = client.get("/crisis/rumour/en/feed.json")
        assert feed["Content-Type"] == "application/feed+json"
        assert client.get("/crisis/rumour/en/feed.atom")["Content-Type"].startswith(
            "application/atom+xml"
        )
        assert client.get("/crisis/../settings.py").status_code == 404
        assert client.get("/crisis/rumour/.tmp-x").status_code == 404
    stale = http_date(0)
    assert client.get("/crisis/rumour/en/", HTTP_IF_MODIFIED_SINCE=stale).status_code == 200
    assert client.post("/crisis/rumour/en/").status_code == 405


def test_an_unchanged_page_keeps_its_etag(live_page, lead):
    client = Client()
    etag = client.get("/crisis/rumour/en/")["ETag"]
    actions.page_next_update_set(page=live_page, actor=lead, at=live_page.next_update_at)
    from incidents.crisiscenter import render

    render.render_page(live_page.pk)  # rendered again: same bytes, same file
    assert client.get("/crisis/rumour/en/")["ETag"] == etag


# --- Preview, room panel, API ------------------------------------------------------------------


def test_the_cell_previews_a_dark_page_with_noindex_and_outsiders_get_404(
    dark_page, approve_texts, browser_client, observer, outsider, incident
):
    approve_texts(dark_page)
    response = browser_client.as_user(observer).get(
        f"/incidents/{incident.pk}/crisis-page/preview/?lang=fr"
    )
    assert response.status_code == 200
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    body = response.content.decode()
    assert 'name="robots" content="noindex' in body and 'class="banner preview"' in body
    assert "À propos de la rumeur" in body
    assert (
        browser_client.as_user(outsider)
        .get(f"/incidents/{incident.pk}/crisis-page/preview/")
        .status_code
        == 404
    )


def test_the_room_panel_shows_state_links_and_what_is_on_the_page(
    live_page, publish_update, browser_client, lead, incident
):
    update = publish_update("Shops informed.")
    body = browser_client.as_user(lead).get(f"/incidents/{incident.pk}/").content.decode()
    assert 'data-panel="crisis-page"' in body
    assert "http://127.0.0.1:8000/crisis/rumour/" in body or "/crisis/rumour/" in body
    assert 'data-copy="#crisis-public-url"' in body
    assert f"/statements/{update.pk}/" in body
    assert 'value="resolve"' in body


def test_without_a_playbook_template_the_room_prepares_an_empty_page(
    incident, lead, browser_client
):
    client = browser_client.as_user(lead)
    panel = client.get(f"/incidents/{incident.pk}/crisis-page/").content.decode()
    assert 'name="playbook"' not in panel  # no menu of one entry
    response = client.post(
        f"/incidents/{incident.pk}/crisis-page/prepare/", {"slug": "empty"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert CrisisPage.objects.get(incident=incident).texts.count() == 0


def test_the_playbooks_are_offered_in_the_readers_language(
    incident, lead, playbook, browser_client
):
    playbook.name = "Rumeur / Rumour"
    playbook.save(update_fields=["name"])
    client = browser_client.as_user(lead)
    english = client.get(f"/incidents/{incident.pk}/", HTTP_ACCEPT_LANGUAGE="en").text
    french = client.get(f"/incidents/{incident.pk}/", HTTP_ACCEPT_LANGUAGE="fr").text
    assert f'<option value="{playbook.pk}">Rumour</option>' in english
    assert f'<option value="{playbook.pk}">Rumeur</option>' in french
    # And where an incident is declared from a playbook.
    declaring = client.get("/incidents/new/", HTTP_ACCEPT_LANGUAGE="fr").text
    assert f'<option value="{playbook.pk}">Rumeur — ' in declaring


def test_the_playbook_the_incident_follows_is_preselected(incident, lead, playbook, browser_client):
    """An empty page was the default even for an incident following a playbook with a dark
    site: a hurried lead prepared one by mistake (a new-user pass)."""
    Playbook.objects.create(name="Another dark site").crisis_templates.create(
        language="en", summary="Another\nText."
    )
    client = browser_client.as_user(lead)
    panel = client.get(f"/incidents/{incident.pk}/crisis-page/").text
    assert '<option value="" selected>' in panel
    playbook_actions.playbook_apply(incident=incident, actor=lead, playbook=playbook)
    panel = client.get(f"/incidents/{incident.pk}/crisis-page/").text
    assert f'<option value="{playbook.pk}" selected>' in panel


def test_the_lead_prepares_and_switches_from_the_room(
    incident, lead, playbook, browser_client, approve_texts
):
    client = browser_client.as_user(lead)
    response = client.post(
        f"/incidents/{incident.pk}/crisis-page/prepare/",
        {"playbook": playbook.pk, "slug": "room-made", "next_update_at": "2099-01-01T10:00"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 422  # beyond a week
    assert "within the coming week" in response.content.decode()
    response = client.post(
        f"/incidents/{incident.pk}/crisis-page/prepare/",
        {"slug": "room-made"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    page = CrisisPage.objects.get(incident=incident)
    assert page.state == "dark" and page.texts.count() == 0
    response = client.post(
        f"/incidents/{incident.pk}/crisis-page/texts/",
        {"section": "summary", "language": "en", "text": "Our title\nWhat happened."},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    approve_texts(page)
    response = client.post(
        f"/incidents/{incident.pk}/crisis-page/switch/",
        {"action": "go_live"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert Client().get("/crisis/room-made/").status_code == 200
    room = client.get(f"/incidents/{incident.pk}/").content.decode()
    assert "Dark page /room-made/, empty" in room  # the timeline says what happened
    assert "Crisis page live" in room


def test_api_public_json_and_team_switch(
    dark_page, approve_texts, api, lead, drafter, outsider, incident
):
    url = f"/api/incidents/{incident.pk}/crisis-page/"
    assert api.as_user(outsider).get(url).status_code == 404
    team = api.as_user(drafter).get(url).json()
    assert team["state"] == "dark" and "go_live" not in team["available_actions"]
    assert len(team["texts"]) == 9 and not any(t["shown"] for t in team["texts"])
    assert_error(
        api.as_user(drafter).post(url + "switch/", {"action": "go_live"}, format="json"), 403
    )
    approve_texts(dark_page)
    response = api.as_user(lead).post(url + "switch/", {"action": "go_live"}, format="json")
    assert response.status_code == 200 and response.json()["state"] == "live"
    assert_error(api.as_user(lead).post(url + "switch/", {"action": "dark"}, format="json"), 400)
    public = Client().get("/api/crisis-pages/rumour/")
    assert public.status_code == 200 and not public.cookies
    data = public.json()
    assert data["languages"] == ["fr", "en"]
    assert data["versions"]["en"]["title"] == "About the rumour concerning Acme"
    assert [f["question"] for f in data["versions"]["en"]["faq"]] == [
        "Is the product safe?",
        "Can I get a refund?",
    ]


def test_the_files_stand_alone_without_the_app(live_page, publish_update, settings):
    """What a web server in front serves when the app or its database is down: a plain file
    server on the directory (here Python's) gives the page, its stylesheet and its feeds."""
    import functools
    import http.server
    import threading
    import urllib.request

    publish_update("Served without the app.")
    handler = functools.partial(
        http.server.SimpleHTTPRequestHandler, directory=str(settings.CRISIS_CENTER_ROOT)
    )
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"

    def get(path):
        return urllib.request.urlopen(base + path)  # noqa: S310 (http on loopback)

    try:
        html = get("/rumour/en/").read().decode()
        assert "Served without the app." in html
        # Links between the files carry CRISIS_CENTER_URL's path, no host: any server that
        # mounts the directory there serves them whole.
        assert 'href="/crisis/crisis.css"' in html
        assert get("/crisis.css").status == 200
        feed = json.loads(get("/rumour/en/feed.json").read())
        assert feed["items"][0]["content_text"] == "Served without the app."
        assert "<h2" in get("/").read().decode()
    finally:
        server.shutdown()
        server.server_close()


def test_an_approved_page_text_waits_for_nobody_to_publish_it(
    dark_page, approve_texts, spokesperson, drafter, browser_client
):
    """The page shows its sections once approved: the spokesperson got ten "ready to
    publish" messages for nothing, and each text's page said it waited for them."""
    from incidents.notifications.models import Notification

    approve_texts(dark_page)
    assert not Notification.objects.filter(user=spokesperson, kind="ready_to_publish").exists()
    text = dark_page.texts.select_related("statement").first().statement
    page = browser_client.as_user(drafter).get(f"/statements/{text.pk}/").text
    assert "waiting for" not in page and "nobody in the cell may publish" not in page
    # Nor does the spokesperson get a Publish box, on the page or through the API.
    spokesperson_page = browser_client.as_user(spokesperson).get(f"/statements/{text.pk}/")
    assert 'name="url"' not in spokesperson_page.text
    url = f"/api/incidents/{dark_page.incident_id}/statements/"
    client = browser_client.as_user(spokesperson)
    with CaptureQueriesContext(connection) as one_row:
        client.get(url + "?page_size=1")
    with CaptureQueriesContext(connection) as every_row:
        listed = client.get(url)
    assert listed.status_code == 200 and len(listed.json()["results"]) > 5
    assert len(every_row) == len(one_row)  # whether each is a page's section: one query
    by_id = {s["id"]: s for s in listed.json()["results"]}
    assert by_id[text.pk]["status"] == "approved"
    assert "publish" not in by_id[text.pk]["available_actions"]


def test_switch_live_says_it_waits_for_an_approved_summary(
    dark_page, approve_texts, lead, browser_client
):
    """ "Switch live" asked "Make this page public now?", then refused: no approved summary."""
    room = f"/incidents/{dark_page.incident_id}/"
    client = browser_client.as_user(lead)
    page = client.get(room).text
    assert re.search(r'<button[^>]*value="go_live"[^>]*disabled', page)
    assert "Once its summary is approved." in page
    approve_texts(dark_page)
    page = client.get(room).text
    assert not re.search(r'<button[^>]*value="go_live"[^>]*disabled', page)
    assert "Once its summary is approved." not in page


def test_a_dark_pages_approved_texts_are_ready_for_it_not_on_it(
    dark_page, approve_texts, lead, incident, browser_client
):
    """Nobody sees a dark page: its approved texts read "on the page" as if public (a
    new-user pass)."""
    approve_texts(dark_page)
    client = browser_client.as_user(lead)
    panel = client.get(f"/incidents/{incident.pk}/crisis-page/").text
    assert "✓ ready for the page" in panel and "✓ on the page" not in panel
    actions.page_switch(page=dark_page, actor=lead, action="go_live")
    panel = client.get(f"/incidents/{incident.pk}/crisis-page/").text
    assert "✓ on the page" in panel and "ready for the page" not in panel


def test_preparing_and_switching_live_are_said_in_the_room(
    incident, lead, playbook, approve_texts, browser_client, next_update
):
    """Their effect shows in panels far from the button: the room says it too (a new-user
    pass found both silent)."""
    client = browser_client.as_user(lead)

    def said(response) -> str:
        assert response.status_code == 200
        return json.loads(response["HX-Trigger"])["room-message"]["message"]

    prepared = client.post(
        f"/incidents/{incident.pk}/crisis-page/prepare/",
        {
            "playbook": playbook.pk,
            "slug": "said",
            "next_update_at": timezone.localtime(next_update).strftime("%Y-%m-%dT%H:%M"),
        },
        HTTP_HX_REQUEST="true",
    )
    assert "Crisis page prepared" in said(prepared)
    approve_texts(CrisisPage.objects.get(incident=incident))
    live = client.post(
        f"/incidents/{incident.pk}/crisis-page/switch/",
        {"action": "go_live"},
        HTTP_HX_REQUEST="true",
    )
    assert said(live) == "The crisis page is live."
