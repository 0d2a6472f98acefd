"""Evidence in one click: from a mention of the reply queue, the server captures the post
and the author's profile page through the evidence locker's URL capture (its SSRF checks,
worker, hashed items), each linked to the mention. Pages are served on loopback by this
test (allowed by a setting, as in tests/evidence/test_capture.py); never the internet."""

import threading
from http.server import BaseHTTPRequestHandler

import pytest
from django.utils import translation

from crisiscell.celery import app as celery_app
from incidents.evidence import actions as evidence_actions
from incidents.evidence import capture
from incidents.evidence.models import CaptureJob, EvidenceItem, EvidenceSource
from incidents.models import EntryKind, TimelineEntry
from incidents.replies import actions, selectors
from incidents.replies.models import MentionCapture
from tests.evidence.conftest import png_bytes
from tests.evidence.test_capture import needs_chromium
from tests.helpers import QuietHTTPServer

pytestmark = pytest.mark.django_db

POST_PAGE = b"""<!doctype html><html><head><title>Post by @hater</title></head>
<body><p>This brand poisoned my dog.</p></body></html>"""
PROFILE_PAGE = b"""<!doctype html><html><head><title>@hater on the platform</title></head>
<body><h1>@hater</h1><p>12 followers. Hates brands.</p></body></html>"""


class Pages(BaseHTTPRequestHandler):
    def do_GET(self):
        pages = {"/post": POST_PAGE, "/profile": PROFILE_PAGE}
        body = pages.get(self.path, b"<title>Not found</title>")
        self.send_response(200 if self.path in pages else 404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def local_site():
    server = QuietHTTPServer(("127.0.0.1", 0), Pages)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(autouse=True)
def _evidence_storage(settings, tmp_path):
    """Stored files in a temporary MEDIA_ROOT; the capture worker runs inline."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.EVIDENCE_CAPTURE_ALLOW_LOOPBACK = True
    settings.ALLOWED_HOSTS = ["testserver"]
    settings.SITE_URL = "http://testserver"
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = eager


@pytest.fixture
def fake_browser(monkeypatch):
    """The capture's browser replaced by made-up pages (the queueing, the worker and the
    storing are real): the URLs it was asked to open."""
    opened = []

    def open_page(url, *, on_stage):
        opened.append(url)
        return capture.CapturedPage(
            final_url=url,
            http_status=200,
            title=f"Page {url}",
            screenshot=png_bytes(64, 48),
            archive=b"MIME-Version: 1.0\r\n\r\nThe page.",
        )

    monkeypatch.setattr(capture, "capture_page", open_page)
    return opened


@pytest.fixture
def hater(incident, attach_mentions, local_site):
    (m,) = attach_mentions(
        incident,
        {
            "text": "This brand poisoned my dog.",
            "author_handle": "@hater",
            "url": f"{local_site}/post",
            "author_url": f"{local_site}/profile",
        },
    )
    return m


def evidence_url(incident, mention):
    return f"/api/incidents/{incident.pk}/replies/{mention.pk}/evidence/"


def page_url(incident):
    return f"/incidents/{incident.pk}/replies/?view=to_triage"


def ask(api, user, incident, mention, captured, execute=True, **data):
    with captured(execute=execute):
        return api.as_user(user).post(evidence_url(incident, mention), data, format="json")


@needs_chromium
def test_the_post_and_the_profile_are_captured_and_linked_to_the_mention(
    api, browser_client, incident, drafter, hater, local_site, django_capture_on_commit_callbacks
):
    response = ask(api, drafter, incident, hater, django_capture_on_commit_callbacks)

    assert response.status_code == 202, response.content
    body = response.json()
    assert (body["queued"], body["kept"], body["skipped"]) == (["post", "profile"], [], [])
    state = api.get(evidence_url(incident, hater)).json()
    assert state["pending"] is False
    post, profile = state["pages"]
    assert (post["target"], post["url"], post["status"]) == ("post", f"{local_site}/post", "done")
    assert (profile["target"], profile["status"]) == ("profile", "done")
    for page, kind, title in (
        (post, "post", "Post by @hater"),
        (profile, "profile", "@hater on the platform"),
    ):
        assert [i["content_type"] for i in page["items"]] == ["image/png", "multipart/related"]
        for listed in page["items"]:
            item = api.get(listed["url"]).json()
            assert item["kind"] == kind
            assert item["source"] == EvidenceSource.CAPTURE
            assert item["capture"]["page_title"] == title
            assert item["captured_by"]["username"] == "drafter"
            assert f"mention #{hater.pk}" in item["description"]
    links = MentionCapture.objects.filter(mention=hater, incident=incident)
    assert sorted(links.values_list("target", flat=True)) == ["post", "profile"]
    assert EvidenceItem.objects.filter(capture__mention_capture__mention=hater).count() == 4
    # The capture path's own entries: one per stored item, by the person who asked.
    added = TimelineEntry.objects.filter(incident=incident, kind=EntryKind.EVIDENCE_ADDED)
    assert added.count() == 4
    assert set(added.values_list("actor__username", flat=True)) == {"drafter"}

    html = browser_client.as_user(drafter).get(page_url(incident)).content.decode()
    for listed in post["items"] + profile["items"]:
        assert f'href="/evidence/{listed["id"]}/"' in html
    assert "Capture again" in html


@needs_chromium
def test_a_mention_without_a_profile_address_captures_only_the_post(
    api, incident, drafter, attach_mentions, local_site, django_capture_on_commit_callbacks
):
    (mention,) = attach_mentions(incident, {"text": "Bad.", "url": f"{local_site}/post"})

    body = ask(api, drafter, incident, mention, django_capture_on_commit_callbacks).json()

    assert body["queued"] == ["post"]
    assert body["skipped"] == [{"target": "profile", "reason": "No address for this page."}]
    assert [p["status"] for p in body["pages"]] == ["queued", ""]  # answered before the worker
    post, profile = api.get(evidence_url(incident, mention)).json()["pages"]
    assert post["status"] == "done" and len(post["items"]) == 2
    assert (profile["url"], profile["status"], profile["items"]) == ("", "", [])
    assert MentionCapture.objects.filter(mention=mention).count() == 1


def test_asking_twice_captures_once_until_someone_asks_for_a_fresh_copy(
    api, incident, drafter, lead, hater, fake_browser, django_capture_on_commit_callbacks
):
    captured = django_capture_on_commit_callbacks
    # Still queued (the worker has not run): a second click asks for nothing.
    ask(api, drafter, incident, hater, captured, execute=False)
    body = ask(api, lead, incident, hater, captured, execute=False).json()
    assert (body["queued"], body["kept"], body["pending"]) == ([], ["post", "profile"], True)
    # Not even "again" while one is pending.
    body = ask(api, lead, incident, hater, captured, execute=False, again=True).json()
    assert body["queued"] == []
    assert CaptureJob.objects.count() == 2

    for job in CaptureJob.objects.all():
        evidence_actions.evidence_capture_run(job_id=job.pk)
    assert sorted(fake_browser) == sorted([hater.url, hater.author_url])
    body = ask(api, drafter, incident, hater, captured).json()
    assert (body["queued"], body["kept"]) == ([], ["post", "profile"])
    assert CaptureJob.objects.count() == 2

    # Explicitly again: a new capture of each page; the earlier items stay, the newest show.
    first_items = {i["id"] for p in body["pages"] for i in p["items"]}
    body = ask(api, drafter, incident, hater, captured, again=True).json()
    assert body["queued"] == ["post", "profile"]
    assert CaptureJob.objects.count() == 4
    assert EvidenceItem.objects.count() == 8
    pages = api.get(evidence_url(incident, hater)).json()["pages"]
    newest = {i["id"] for p in pages for i in p["items"]}
    assert len(newest) == 4 and not newest & first_items


def test_a_failed_capture_shows_its_reason_and_is_tried_again_on_the_next_click(
    api,
    browser_client,
    incident,
    drafter,
    hater,
    monkeypatch,
    django_capture_on_commit_callbacks,
):
    def refused(url, *, on_stage):
        raise capture.CaptureFailed("The server refused the connection.")

    monkeypatch.setattr(capture, "capture_page", refused)
    ask(api, drafter, incident, hater, django_capture_on_commit_callbacks)

    pages = api.get(evidence_url(incident, hater)).json()["pages"]
    assert [(p["status"], p["error"], p["items"]) for p in pages] == [
        ("failed", "The server refused the connection.", [])
    ] * 2
    html = browser_client.as_user(drafter).get(page_url(incident)).content.decode()
    assert "capture failed: The server refused the connection." in html
    assert "Try the capture again" in html

    body = ask(api, drafter, incident, hater, django_capture_on_commit_callbacks).json()
    assert body["queued"] == ["post", "profile"]
    assert CaptureJob.objects.count() == 4


def test_a_page_the_server_may_not_open_is_skipped_with_its_reason(
    api,
    incident,
    drafter,
    attach_mentions,
    local_site,
    fake_browser,
    django_capture_on_commit_callbacks,
):
    (mention,) = attach_mentions(
        incident,
        {"text": "x", "url": "http://10.1.2.3/post", "author_url": f"{local_site}/profile"},
    )
    body = ask(api, drafter, incident, mention, django_capture_on_commit_callbacks).json()
    assert body["queued"] == ["profile"]
    assert body["skipped"][0]["target"] == "post"
    assert "private or local network address" in body["skipped"][0]["reason"]
    assert fake_browser == [f"{local_site}/profile"]


def test_a_mention_with_nothing_to_capture_is_a_400(
    api, incident, drafter, attach_mentions, django_capture_on_commit_callbacks
):
    (mention,) = attach_mentions(incident, {"text": "x", "url": "", "author_url": ""})
    response = ask(api, drafter, incident, mention, django_capture_on_commit_callbacks)
    assert response.status_code == 400
    assert response.json()["detail"].startswith("Nothing to capture")
    assert not CaptureJob.objects.exists()


@pytest.mark.parametrize(
    ("persona", "status"), [("observer", 403), ("staff", 403), ("outsider", 404)]
)
def test_only_who_may_add_evidence_may_capture(
    request, api, incident, hater, fake_browser, persona, status, django_capture_on_commit_callbacks
):
    user = request.getfixturevalue(persona)
    response = ask(api, user, incident, hater, django_capture_on_commit_callbacks)
    assert response.status_code == status
    assert not CaptureJob.objects.exists() and fake_browser == []
    if status == 403:  # they may still read the state
        state = api.as_user(user).get(evidence_url(incident, hater)).json()
        assert state["may_capture"] is False


def test_observers_see_no_capture_button_and_their_post_is_refused(
    browser_client, incident, observer, hater, fake_browser
):
    client = browser_client.as_user(observer)
    assert "Capture post and profile" not in client.get(page_url(incident)).content.decode()
    response = client.post(f"/incidents/{incident.pk}/replies/{hater.pk}/capture/", follow=True)
    assert "Only members of the cell who can write may add evidence." in response.content.decode()
    assert not CaptureJob.objects.exists()


def test_a_mention_of_another_incident_is_a_404(
    api, browser_client, declare, incident, drafter, attach_mentions, local_site, fake_browser
):
    other = declare(title="Another crisis")
    (elsewhere,) = attach_mentions(other, {"text": "x", "url": f"{local_site}/post"})
    client = api.as_user(drafter)
    assert client.get(evidence_url(incident, elsewhere)).status_code == 404
    assert client.post(evidence_url(incident, elsewhere), {}, format="json").status_code == 404
    page = browser_client.as_user(drafter)
    assert page.post(f"/incidents/{incident.pk}/replies/{elsewhere.pk}/capture/").status_code == 404
    assert not CaptureJob.objects.exists()


def test_the_button_posts_and_the_page_shows_the_captures(
    browser_client, incident, drafter, hater, fake_browser, django_capture_on_commit_callbacks
):
    client = browser_client.as_user(drafter)
    assert "Capture post and profile" in client.get(page_url(incident)).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/incidents/{incident.pk}/replies/{hater.pk}/capture/",
            {"back": page_url(incident)},
        )
    assert response.status_code == 302
    assert response["Location"] == f"{page_url(incident)}#mention-{hater.pk}"
    html = client.get(page_url(incident)).content.decode()
    assert "Capture asked for: The post, The author&#x27;s profile." in html
    assert html.count('href="/evidence/') == 4


def test_the_captures_of_a_page_of_the_queue_cost_one_query(
    incident,
    drafter,
    attach_mentions,
    local_site,
    fake_browser,
    django_capture_on_commit_callbacks,
    django_assert_num_queries,
):
    mentions = attach_mentions(
        incident,
        *[{"text": "x", "url": f"{local_site}/post", "author_url": f"{local_site}/profile"}] * 4,
    )
    for mention in mentions:
        with django_capture_on_commit_callbacks(execute=True):
            actions.mention_capture(incident=incident, mention=mention, actor=drafter)
    with django_assert_num_queries(1):
        found = selectors.captures_of(incident, [m.pk for m in mentions])
    assert all(found[m.pk].done and len(found[m.pk].profile.items) == 2 for m in mentions)


def test_a_deleted_post_is_kept_with_the_status_it_answered(
    api, browser_client, incident, drafter, hater, monkeypatch, django_capture_on_commit_callbacks
):
    def gone(url, *, on_stage):
        return capture.CapturedPage(
            final_url=url,
            http_status=404 if url == hater.url else 200,
            title="Not found",
            screenshot=png_bytes(64, 48),
            archive=b"MIME-Version: 1.0\r\n\r\nThis post was deleted.",
        )

    monkeypatch.setattr(capture, "capture_page", gone)
    ask(api, drafter, incident, hater, django_capture_on_commit_callbacks)

    post, profile = api.get(evidence_url(incident, hater)).json()["pages"]
    assert (post["status"], post["http_status"], len(post["items"])) == ("done", 404, 2)
    assert profile["http_status"] == 200
    html = browser_client.as_user(drafter).get(page_url(incident)).content.decode()
    assert html.count("the page answered 404 (deleted?)") == 1


def test_a_browser_error_is_said_in_plain_words_in_the_readers_language(
    browser_client, incident, drafter, hater, monkeypatch, django_capture_on_commit_callbacks
):
    def unsafe_port(url, *, on_stage):
        raise capture.CaptureFailed(
            capture._network_reason(f"Page.goto: net::ERR_UNSAFE_PORT at {url}\nCall log:")
        )

    monkeypatch.setattr(capture, "capture_page", unsafe_port)
    client = browser_client.as_user(drafter)
    with django_capture_on_commit_callbacks(execute=True):  # asked from the French page
        client.post(
            f"/incidents/{incident.pk}/replies/{hater.pk}/capture/",
            {"back": page_url(incident)},
            HTTP_ACCEPT_LANGUAGE="fr",
        )
    # Stored once, in English; an older row kept Chromium's raw words.
    assert {job.error for job in CaptureJob.objects.all()} == {
        "The address uses a port that browsers refuse to open."
    }
    CaptureJob.objects.filter(pk=CaptureJob.objects.first().pk).update(
        error="The page could not be opened: Page.goto: net::ERR_UNSAFE_PORT at http://x:6000/"
    )
    english = client.get(page_url(incident)).content.decode()
    assert english.count("capture failed: The address uses a port that browsers refuse") == 2
    french = client.get(page_url(incident), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert french.count("utilise un port que les navigateurs refusent") == 2
    assert "net::" not in english + french and "ERR_UNSAFE_PORT" not in english + french
    with translation.override("en"):
        assert capture.failure_reason("net::ERR_SOMETHING_NEW at x") == (
            "The page could not be opened (browser error ERR_SOMETHING_NEW)."
        )
