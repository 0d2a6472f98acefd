"""Who may see what, how files are served, the pages, and query counts that do not grow."""

import io
import zipfile

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from incidents.evidence import actions
from incidents.evidence.models import CustodyAction, EvidenceExport, EvidenceItem
from tests.evidence.conftest import PDF, png_bytes, upload
from tests.helpers import assert_error

pytestmark = pytest.mark.django_db


@pytest.fixture
def item(attach, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        stored = attach(png_bytes(120, 80), author_handle="@hater")
    stored.refresh_from_db()
    return stored


def body(response) -> bytes:
    return b"".join(response.streaming_content)


class TestOutsidersLearnNothing:
    def test_api_answers_404_everywhere(self, api, item, outsider):
        client = api.as_user(outsider)
        incident = item.incident_id
        for url in (
            f"/api/incidents/{incident}/evidence/",
            f"/api/evidence/{item.pk}/",
            f"/api/evidence/{item.pk}/file/",
            f"/api/evidence/{item.pk}/custody/",
        ):
            assert_error(client.get(url), 404)
        response = client.post(
            f"/api/incidents/{incident}/evidence/",
            {"file": [upload(png_bytes())]},
            format="multipart",
        )
        assert_error(response, 404)
        assert_error(client.post(f"/api/incidents/{incident}/evidence/export/", {}), 404)
        assert EvidenceItem.objects.count() == 1
        assert item.custody.count() == 1  # no access was logged: there was none

    def test_pages_and_files_answer_404_by_guessed_url(self, browser_client, item, outsider):
        client = browser_client.as_user(outsider)
        for url in (
            f"/evidence/{item.pk}/",
            f"/evidence/{item.pk}/file/",
            f"/evidence/{item.pk}/thumbnail/",
            f"/evidence/{item.pk}/preview/",
            f"/incidents/{item.incident_id}/evidence/",
            f"/incidents/{item.incident_id}/evidence/panel/",
        ):
            assert client.get(url).status_code == 404, url
        assert client.post(f"/incidents/{item.incident_id}/evidence/export/").status_code == 404

    def test_media_files_are_not_served_publicly(self, client, item):
        assert client.get(f"/media/{item.file.name}").status_code == 404

    def test_anonymous(self, api, client, item):
        assert api.get(f"/api/evidence/{item.pk}/file/").status_code in (401, 403)
        response = client.get(f"/evidence/{item.pk}/thumbnail/")
        assert response.status_code == 302 and "/login" in response["Location"]


class TestServing:
    def test_original_is_an_attachment_bit_exact_and_logged(self, api, item, observer):
        response = api.as_user(observer).get(f"/api/evidence/{item.pk}/file/")
        assert response.status_code == 200
        with item.file.open("rb") as f:
            assert body(response) == f.read()
        assert response["Content-Disposition"].startswith("attachment;")
        assert item.sha256[:12] in response["Content-Disposition"]
        assert response["Content-Type"] == "image/png"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert "sandbox" in response["Content-Security-Policy"]
        assert "default-src 'none'" in response["Content-Security-Policy"]
        last = item.custody.order_by("-seq").first()
        assert (last.action, last.actor) == (CustodyAction.DOWNLOADED, observer)

    def test_display_copies_are_inline_jpeg_and_hardened(self, browser_client, item, observer):
        client = browser_client.as_user(observer)
        for which in ("thumbnail", "preview"):
            response = client.get(f"/evidence/{item.pk}/{which}/")
            assert response.status_code == 200
            assert response["Content-Type"] == "image/jpeg"
            assert "attachment" not in response.get("Content-Disposition", "")
            assert response["X-Content-Type-Options"] == "nosniff"
            assert body(response).startswith(b"\xff\xd8")

    def test_a_pdf_has_no_thumbnail(self, browser_client, attach, observer):
        pdf = attach(PDF, name="a.pdf")
        assert (
            browser_client.as_user(observer).get(f"/evidence/{pdf.pk}/thumbnail/").status_code
            == 404
        )

    def test_staff_outside_the_cell_may_read(self, api, item, staff):
        assert api.as_user(staff).get(f"/api/evidence/{item.pk}/").status_code == 200


class TestApi:
    def test_upload_answers_with_hashes_and_links(self, api, incident, drafter):
        data = png_bytes()
        response = api.as_user(drafter).post(
            f"/api/incidents/{incident.pk}/evidence/",
            {"file": [upload(data, "a.png"), upload(PDF, "b.pdf")], "author_handle": "@x"},
            format="multipart",
        )
        assert response.status_code == 201, response.content
        first, second = response.json()
        import hashlib

        assert first["sha256"] == hashlib.sha256(data).hexdigest()
        assert (first["label"], second["label"]) == ("E-1", "E-2")
        assert first["author"]["handle"] == second["author"]["handle"] == "@x"
        assert first["file_url"].endswith(f"/api/evidence/{first['id']}/file/")

    def test_list_is_newest_first(self, api, incident, attach, observer):
        attach(), attach(png_bytes(color=(1, 1, 1)))
        page = api.as_user(observer).get(f"/api/incidents/{incident.pk}/evidence/").json()
        assert [i["label"] for i in page["results"]] == ["E-2", "E-1"]
        assert page["next"] is None and page["previous"] is None

    def test_list_is_paged(self, api, incident, drafter, observer):
        files = [upload(png_bytes(color=(n, 2, 2)), f"{n}.png") for n in range(5)]
        actions.evidence_attach(incident=incident, actor=drafter, files=files, metadata={})
        client = api.as_user(observer)
        first = client.get(f"/api/incidents/{incident.pk}/evidence/?page_size=2").json()
        assert [i["label"] for i in first["results"]] == ["E-5", "E-4"]
        # A new item does not shift the pages being read (cursor pages).
        actions.evidence_attach(
            incident=incident, actor=drafter, files=[upload(png_bytes())], metadata={}
        )
        second = client.get(first["next"]).json()
        assert [i["label"] for i in second["results"]] == ["E-3", "E-2"]
        third = client.get(second["next"]).json()
        assert [i["label"] for i in third["results"]] == ["E-1"] and third["next"] is None

    def test_the_page_size_is_bounded(self, api, incident, observer):
        from incidents.evidence.api import EvidencePagination

        assert EvidencePagination.page_size == 50 and EvidencePagination.max_page_size == 200
        client = api.as_user(observer)
        url = f"/api/incidents/{incident.pk}/evidence/?page_size=100000"
        assert client.get(url).status_code == 200

    def test_custody_endpoint(self, api, item, lead):
        client = api.as_user(lead)
        client.get(f"/api/evidence/{item.pk}/file/")
        events = client.get(f"/api/evidence/{item.pk}/custody/").json()
        assert [e["action"] for e in events] == ["uploaded", "downloaded"]
        assert events[1]["actor"]["username"] == "lead"
        assert events[1]["prev_hash"] == events[0]["hash"]

    def test_list_queries_do_not_grow_with_items(self, api, incident, attach, observer):
        client = api.as_user(observer)
        url = f"/api/incidents/{incident.pk}/evidence/"
        attach()
        with CaptureQueriesContext(connection) as few:
            client.get(url)
        for n in range(6):
            attach(png_bytes(color=(n, n, n)))
        with CaptureQueriesContext(connection) as many:
            assert len(client.get(url).json()["results"]) == 7
        assert len(many) == len(few)


class TestPages:
    def test_room_shows_the_panel_with_hash_and_author(self, browser_client, item, drafter):
        page = (
            browser_client.as_user(drafter).get(f"/incidents/{item.incident_id}/").content.decode()
        )
        assert 'id="evidence-panel"' in page
        assert "E-1" in page and item.sha256[:16] in page and "@hater" in page
        assert 'id="evidence-upload"' in page and "Capture this URL" in page

    def test_observer_sees_evidence_but_no_upload_form(self, browser_client, item, observer):
        page = (
            browser_client.as_user(observer).get(f"/incidents/{item.incident_id}/").content.decode()
        )
        assert "E-1" in page
        assert 'id="evidence-upload"' not in page

    def test_empty_state(self, browser_client, incident, drafter):
        page = browser_client.as_user(drafter).get(f"/incidents/{incident.pk}/").content.decode()
        assert "No evidence yet. Capture the post" in page

    def test_an_observers_empty_state_invites_no_capture(self, browser_client, incident, observer):
        as_observer = browser_client.as_user(observer)
        for url in (f"/incidents/{incident.pk}/", f"/incidents/{incident.pk}/evidence/"):
            page = as_observer.get(url).content.decode()
            assert "No evidence yet. The cell's members who write preserve it" in page, url
            assert "capture the URL" not in page and "capture a URL" not in page, url

    def test_item_page_shows_facts_and_custody_and_logs_the_view(self, browser_client, item, lead):
        response = browser_client.as_user(lead).get(f"/evidence/{item.pk}/")
        page = response.content.decode()
        assert item.sha256 in page and "Chain of custody" in page
        assert item.custody.order_by("-seq").first().action == CustodyAction.VIEWED

    def test_user_text_is_escaped(self, browser_client, attach, lead):
        evil = attach(
            author_handle="<script>alert(1)</script>", description="<img src=x onerror=alert(1)>"
        )
        page = browser_client.as_user(lead).get(f"/evidence/{evil.pk}/").content.decode()
        assert "<script>alert(1)</script>" not in page
        assert "&lt;script&gt;" in page

    def test_form_upload_without_javascript(self, browser_client, incident, drafter):
        client = browser_client.as_user(drafter)
        response = client.post(
            f"/incidents/{incident.pk}/evidence/upload/",
            {"file": [upload(png_bytes(), "a.png"), upload(PDF, "b.pdf")], "kind": "profile"},
            follow=True,
        )
        assert "2 files preserved as evidence." in response.content.decode()
        assert EvidenceItem.objects.filter(kind="profile").count() == 2

    def test_form_upload_refusal_is_shown(self, browser_client, incident, drafter):
        response = browser_client.as_user(drafter).post(
            f"/incidents/{incident.pk}/evidence/upload/",
            {"file": [upload(b"<html></html>", "x.png")], "kind": "post"},
            follow=True,
        )
        assert "x.png: This file is not a PNG" in response.content.decode()

    def test_capture_form_refusal_in_place(self, browser_client, incident, drafter):
        response = browser_client.as_user(drafter).post(
            f"/incidents/{incident.pk}/evidence/capture/",
            {"url": "http://10.0.0.1/", "kind": "post"},
            headers={"HX-Request": "true"},
        )
        assert response.status_code == 422
        assert "private or local network" in response.content.decode()

    def test_locker_page_and_export(
        self, browser_client, item, lead, django_capture_on_commit_callbacks
    ):
        client = browser_client.as_user(lead)
        page = client.get(f"/incidents/{item.incident_id}/evidence/").content.decode()
        assert "Export for counsel" in page and item.label in page
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                f"/incidents/{item.incident_id}/evidence/export/", {"items": [item.pk]}
            )
        assert response.status_code == 302
        page = client.get(response["Location"]).content.decode()
        export = EvidenceExport.objects.get()
        download = f"/evidence/exports/{export.pk}/file/"
        assert download in page
        response = client.get(download)
        assert response["Content-Type"] == "application/zip"
        assert "attachment" in response["Content-Disposition"]
        archive = zipfile.ZipFile(io.BytesIO(body(response)))
        assert "manifest.json" in archive.namelist()

    def test_locker_page_queries_do_not_grow(self, browser_client, incident, attach, lead):
        client = browser_client.as_user(lead)
        attach()
        with CaptureQueriesContext(connection) as few:
            client.get(f"/incidents/{incident.pk}/evidence/")
        for n in range(5):
            attach(png_bytes(color=(n, 0, 0)))
        with CaptureQueriesContext(connection) as many:
            client.get(f"/incidents/{incident.pk}/evidence/")
        assert len(many) == len(few)

    def test_room_queries_do_not_grow_with_evidence(self, browser_client, incident, attach, lead):
        client = browser_client.as_user(lead)
        attach()
        with CaptureQueriesContext(connection) as few:
            client.get(f"/incidents/{incident.pk}/evidence/panel/")
        for n in range(5):
            attach(png_bytes(color=(0, n, 0)))
        with CaptureQueriesContext(connection) as many:
            client.get(f"/incidents/{incident.pk}/evidence/panel/")
        assert len(many) == len(few)
