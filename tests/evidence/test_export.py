"""The signed bundle for counsel: asked for (a short action), built by a worker off the
incident lock from a snapshot read at one moment, then recorded in custody and on the
timeline; the room and the API follow its state; only its requester downloads it."""

import hashlib
import io
import json
import zipfile
from datetime import timedelta

import pytest
from celery.canvas import Signature
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from kombu.exceptions import OperationalError

from incidents import actions as incident_actions
from incidents import chains
from incidents.errors import InvalidInput, NotAllowed
from incidents.evidence import actions, bundle, tasks
from incidents.evidence.actions import export as export_actions
from incidents.evidence.bundle import verify_bundle
from incidents.evidence.models import CustodyAction, EvidenceExport, ExportStatus
from incidents.integrity import checks
from incidents.models import EntryKind, TimelineEntry
from tests.evidence.conftest import bundle_bytes, jpeg_bytes, png_bytes
from tests.helpers import assert_error

pytestmark = pytest.mark.django_db
LATER = timedelta(minutes=10)


def published(listener) -> list[dict]:
    """What the room's sockets were sent (tests/incidents/test_panels.py reads it so)."""
    return [json.loads(message["text"]) for message in listener()]


def manifest_of(data: bytes) -> dict:
    return json.loads(zipfile.ZipFile(io.BytesIO(data)).read("manifest.json"))


def attach_many(incident, actor, n: int) -> list:
    """n small PNGs in one upload (display copies left pending: no worker runs here)."""
    files = [
        SimpleUploadedFile(f"s{i}.png", png_bytes(color=(i % 256, i // 256, 7)), "image/png")
        for i in range(n)
    ]
    return actions.evidence_attach(incident=incident, actor=actor, files=files, metadata={})


@pytest.fixture
def broker(monkeypatch):
    """broker.down() makes every enqueue fail as an unreachable Redis does; broker.up()."""
    real = Signature.apply_async

    def unreachable(self, *args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    class Broker:
        def down(self):
            monkeypatch.setattr(Signature, "apply_async", unreachable)

        def up(self):
            monkeypatch.setattr(Signature, "apply_async", real)

    return Broker()


class TestBundle:
    def test_bundle_holds_originals_manifest_signature_and_report(
        self, attach, incident, lead, export_bundle
    ):
        data = jpeg_bytes(gps=True)
        item = attach(data, name="post.jpg", author_handle="@hater")
        export = export_bundle(incident, lead)
        assert export.status == ExportStatus.READY
        name = export.download_name
        assert name.startswith(f"incident-{incident.pk}-evidence-") and name.endswith(".zip")
        bundle_data = bundle_bytes(export)
        archive = zipfile.ZipFile(io.BytesIO(bundle_data))
        names = set(archive.namelist())
        original = f"originals/E-1-{item.sha256[:12]}.jpg"
        assert {original, "manifest.json", "manifest.json.sig", "signing-key.pem"} <= names
        assert {"report.html", "README.txt"} <= names
        assert archive.read(original) == data
        manifest = manifest_of(bundle_data)
        entry = manifest["items"][0]
        assert entry["sha256"] == item.sha256 and entry["file"] == original
        assert entry["author"]["handle"] == "@hater"
        # The custody as it stood when the bundle's content was read; the `exported`
        # event that records this very bundle (with its manifest's hash) comes after.
        assert [e["action"] for e in entry["custody"]] == ["uploaded"]
        report = archive.read("report.html").decode()
        assert item.sha256 in report and "@hater" in report and "E-1" in report
        assert report.rstrip().endswith("</html>") and "<!-- items -->" not in report
        assert verify_bundle(bundle_data).ok
        # The stored file is the one described.
        assert export.sha256 == hashlib.sha256(bundle_data).hexdigest()
        assert export.size == len(bundle_data)
        assert export.manifest_sha256 == hashlib.sha256(archive.read("manifest.json")).hexdigest()

    def test_the_report_escapes_what_people_typed(self, attach, incident, lead, export_bundle):
        attach(author_handle="<script>alert(1)</script>", description="a\n<b>b</b>")
        report = zipfile.ZipFile(io.BytesIO(bundle_bytes(export_bundle(incident, lead))))
        html = report.read("report.html").decode()
        assert "<script>alert" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert "a<br>&lt;b&gt;b&lt;/b&gt;" in html

    def test_the_report_inlines_thumbnails(
        self, attach, incident, lead, export_bundle, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            attach()  # display copies made
        report = zipfile.ZipFile(io.BytesIO(bundle_bytes(export_bundle(incident, lead))))
        assert "data:image/jpeg;base64," in report.read("report.html").decode()

    def test_a_modified_manifest_does_not_verify(self, attach, incident, lead, export_bundle):
        attach()
        data = bundle_bytes(export_bundle(incident, lead))
        check = verify_bundle(rewrite(data, "manifest.json", lambda b: b.replace(b"post", b"p0st")))
        assert not check.ok
        assert "signature does not match" in check.problems[0]

    def test_a_modified_original_does_not_verify(self, attach, incident, lead, export_bundle):
        item = attach()
        data = bundle_bytes(export_bundle(incident, lead))
        path = f"originals/E-1-{item.sha256[:12]}.png"
        check = verify_bundle(rewrite(data, path, lambda b: b[:-1] + b"\x01"))
        assert check.problems == [f"{path} does not match its SHA-256."]

    def test_a_selection_exports_only_those_items(self, attach, incident, lead, export_bundle):
        attach(), attach(png_bytes(color=(9, 9, 9)))
        third = attach(png_bytes(color=(8, 8, 8)))
        export = export_bundle(incident, lead, item_ids=[third.pk])
        assert [i["label"] for i in manifest_of(bundle_bytes(export))["items"]] == ["E-3"]
        assert export.item_count == 1

    def test_verify_bundle_command(self, attach, incident, lead, export_bundle, tmp_path, capsys):
        attach()
        data = bundle_bytes(export_bundle(incident, lead))
        good = tmp_path / "good.zip"
        good.write_bytes(data)
        call_command("verify_bundle", str(good))
        assert "Signature valid" in capsys.readouterr().out
        bad = tmp_path / "bad.zip"
        bad.write_bytes(rewrite(data, "manifest.json", lambda b: b + b" "))
        with pytest.raises(CommandError):
            call_command("verify_bundle", str(bad))

    def test_the_report_is_in_the_requesters_language(self, attach, incident, lead, export_bundle):
        from django.utils import translation

        attach()
        with translation.override("fr"):
            export = export_bundle(incident, lead)
        report = zipfile.ZipFile(io.BytesIO(bundle_bytes(export))).read("report.html").decode()
        assert 'lang="fr"' in report


class TestRecord:
    def test_the_export_is_logged_in_custody_and_on_the_timeline_when_ready(
        self, attach, incident, lead, export_bundle
    ):
        item = attach()
        export = export_bundle(incident, lead)
        exported = item.custody.order_by("-seq").first()
        assert (exported.action, exported.actor) == (CustodyAction.EXPORTED, lead)
        assert exported.detail == {
            "export": export.pk,
            "manifest_sha256": export.manifest_sha256,
            "custody_seq": 1,
        }
        entry = TimelineEntry.objects.filter(incident=incident).order_by("-seq").first()
        assert entry.kind == EntryKind.EVIDENCE_EXPORTED and entry.actor == lead
        assert entry.data == {
            "items": ["E-1"],
            "manifest_sha256": export.manifest_sha256,
            "export": export.pk,
        }
        assert checks.verify(incident=incident) == []

    def test_asking_records_nothing_but_the_request(self, attach, incident, lead, broker):
        item = attach()
        entries = TimelineEntry.objects.filter(incident=incident).count()
        broker.down()
        export = actions.evidence_export_request(incident=incident, actor=lead)
        assert export.status == ExportStatus.QUEUED and export.item_count == 1
        assert list(export.items.all()) == [item]
        assert item.custody.count() == 1
        assert TimelineEntry.objects.filter(incident=incident).count() == entries

    def test_the_bundle_holds_the_items_asked_for_not_those_added_since(
        self, attach, incident, lead, django_capture_on_commit_callbacks
    ):
        attach()
        export = actions.evidence_export_request(incident=incident, actor=lead)
        later = attach(png_bytes(color=(3, 3, 3)))
        tasks.build_export(export.pk)
        export.refresh_from_db()
        assert [i["label"] for i in manifest_of(bundle_bytes(export))["items"]] == ["E-1"]
        assert later.custody.count() == 1  # not exported

    def test_custody_written_during_the_build_is_after_the_bundles_heads(
        self, attach, incident, lead, observer, monkeypatch
    ):
        """The bundle shows each chain as read; an access logged while the files are being
        copied comes after it, and the `exported` event after that, saying how much of the
        custody the bundle shows. Every chain still verifies."""
        item = attach()
        export = actions.evidence_export_request(incident=incident, actor=lead)
        real = bundle.write_bundle

        def write_while_someone_looks(out, **kwargs):
            actions.evidence_record_access(
                item=item, actor=observer, action=CustodyAction.DOWNLOADED
            )
            return real(out, **kwargs)

        monkeypatch.setattr(bundle, "write_bundle", write_while_someone_looks)
        tasks.build_export(export.pk)
        export.refresh_from_db()
        manifest = manifest_of(bundle_bytes(export))
        assert [e["action"] for e in manifest["items"][0]["custody"]] == ["uploaded"]
        anchor = manifest["anchors"][f"custody:{item.pk}"]
        first = item.custody.get(seq=1)
        assert (anchor["count"], anchor["head"]) == (1, first.hash)
        actions_now = list(item.custody.order_by("seq").values_list("action", flat=True))
        assert actions_now == ["uploaded", "downloaded", "exported"]
        assert item.custody.get(seq=3).detail["custody_seq"] == 1
        assert checks.verify(incident=incident) == []

    def test_a_checkpoint_that_was_tampered_with_is_left_alone_and_reported(
        self, attach, incident, lead, export_bundle, caplog
    ):
        from django.db.models import F

        from incidents.models import ChainCheckpoint

        first, second = attach(), attach(png_bytes(color=(5, 5, 5)))
        chain = f"custody:{first.pk}"
        ChainCheckpoint.objects.filter(chain=chain).update(count=F("count") + 5)
        export = export_bundle(incident, lead)
        assert export.status == ExportStatus.READY
        assert first.custody.count() == second.custody.count() == 2  # both logged
        assert ChainCheckpoint.objects.get(chain=chain).count == 6  # not moved
        assert ChainCheckpoint.objects.get(chain=f"custody:{second.pk}").count == 2
        assert f"Chain {chain} does not continue its signed checkpoint" in caplog.text
        findings = [str(f) for f in checks.verify(incident=incident)]
        assert findings and all("E-1" in f for f in findings), findings

    def test_observer_cannot_export_and_nothing_is_logged(self, attach, incident, observer):
        item = attach()
        with pytest.raises(NotAllowed):
            actions.evidence_export_request(incident=incident, actor=observer)
        assert item.custody.count() == 1
        assert not EvidenceExport.objects.exists()

    def test_nothing_to_export(self, incident, lead):
        with pytest.raises(InvalidInput):
            actions.evidence_export_request(incident=incident, actor=lead)

    def test_an_item_of_another_incident_is_refused(self, attach, declare, lead):
        item = attach()
        other = declare(title="Another crisis")
        with pytest.raises(InvalidInput, match="not evidence of this incident"):
            actions.evidence_export_request(incident=other, actor=lead, item_ids=[item.pk])

    def test_a_failed_build_records_nothing_and_says_so(
        self, attach, incident, lead, monkeypatch, listener, settings
    ):
        item = attach()
        entries = TimelineEntry.objects.filter(incident=incident).count()
        export = actions.evidence_export_request(incident=incident, actor=lead)

        def broken(out, **kwargs):
            out.write(b"half a zip")
            raise OSError("disk full")

        monkeypatch.setattr(bundle, "write_bundle", broken)
        listener()  # drain
        tasks.build_export(export.pk)
        export.refresh_from_db()
        assert export.status == ExportStatus.FAILED
        assert "could not be built" in export.error and not export.file
        assert item.custody.count() == 1
        assert TimelineEntry.objects.filter(incident=incident).count() == entries
        exports_dir = settings.MEDIA_ROOT / "exports"
        assert not exports_dir.exists() or not any(exports_dir.rglob("*.zip"))
        signals = [p for p in published(listener) if p.get("event") == "signal"]
        assert {"signal": "evidence-changed", "export": export.pk}.items() <= signals[-1].items()

    def test_a_requester_removed_meanwhile_gets_nothing(
        self, attach, incident, lead, drafter, settings
    ):
        item = attach()
        export = actions.evidence_export_request(incident=incident, actor=drafter)
        incident_actions.member_remove(incident=incident, actor=lead, user=drafter)
        tasks.build_export(export.pk)
        export.refresh_from_db()
        assert export.status == ExportStatus.FAILED and "no longer" in export.error
        assert item.custody.count() == 1
        assert not any((settings.MEDIA_ROOT / "exports").rglob("*.zip"))

    def test_a_duplicate_message_builds_once(self, attach, incident, lead, export_bundle):
        item = attach()
        export = export_bundle(incident, lead)
        tasks.build_export(export.pk)  # the same message again
        assert item.custody.filter(action=CustodyAction.EXPORTED).count() == 1


class TestQueries:
    """The worker's queries do not depend on the number of items (the inserts go in
    batches of the database's parameter limit: one batch at these sizes)."""

    def measure(self, incident, lead, n):
        attach_many(incident, lead, n)
        export = actions.evidence_export_request(incident=incident, actor=lead)
        claimed = EvidenceExport.objects.filter(pk=export.pk)
        claimed.update(status=ExportStatus.RUNNING, attempts=1, heartbeat_at=timezone.now())
        export = EvidenceExport.objects.select_related("incident", "requested_by").get(pk=export.pk)
        with CaptureQueriesContext(connection) as build:
            built = export_actions.build_bundle(export)
        with CaptureQueriesContext(connection) as record:
            export_actions._record(export, built)
        export.refresh_from_db()
        assert export.status == ExportStatus.READY
        assert len(manifest_of(bundle_bytes(export))["items"]) == n
        self.build_queries = [q["sql"] for q in build.captured_queries]
        return len(build), len(record)

    def test_the_build_and_its_record_take_as_many_queries_for_100_items_as_for_10(
        self, declare, lead
    ):
        few = self.measure(declare(title="Few"), lead, 10)
        many = self.measure(declare(title="Many"), lead, 100)
        assert many == few
        # The snapshot (items, custody, people, heads; in a savepoint here), the heartbeat.
        assert few[0] <= 7, self.build_queries

    def test_the_panel_and_the_locker_take_as_many_queries_with_three_exports_as_with_one(
        self, attach, incident, lead, browser_client, export_bundle
    ):
        attach()
        client = browser_client.as_user(lead)
        urls = (f"/incidents/{incident.pk}/evidence/panel/", f"/incidents/{incident.pk}/evidence/")
        export_bundle(incident, lead)

        def count():
            with CaptureQueriesContext(connection) as queries:
                for url in urls:
                    client.get(url)
            return len(queries)

        one = count()
        export_bundle(incident, lead), export_bundle(incident, lead)
        assert count() == one

    def test_the_request_takes_as_many_queries_for_100_items_as_for_10(self, declare, lead):
        counts = []
        for n in (10, 100):
            incident = declare(title=f"{n} items")
            attach_many(incident, lead, n)
            with CaptureQueriesContext(connection) as asked:
                actions.evidence_export_request(incident=incident, actor=lead)
            counts.append(len(asked))
        assert counts[0] == counts[1]


class TestSweep:
    def test_an_export_asked_for_while_the_broker_is_down_is_built_after_the_sweep(
        self, attach, incident, lead, broker, django_capture_on_commit_callbacks, caplog
    ):
        item = attach()
        broker.down()
        with django_capture_on_commit_callbacks(execute=True):
            export = actions.evidence_export_request(incident=incident, actor=lead)
        assert "the sweep will queue it again" in caplog.text
        broker.up()
        assert actions.evidence_requeue_stuck()["exports"] == 0  # too early
        assert actions.evidence_requeue_stuck(now=timezone.now() + LATER)["exports"] == 1
        export.refresh_from_db()
        assert export.status == ExportStatus.READY
        assert actions.evidence_requeue_stuck(now=timezone.now() + LATER)["exports"] == 0
        assert item.custody.filter(action=CustodyAction.EXPORTED).count() == 1

    def test_an_export_whose_worker_died_is_built_again_and_the_dead_run_records_nothing(
        self, attach, incident, lead, broker
    ):
        item = attach()
        broker.down()
        export = actions.evidence_export_request(incident=incident, actor=lead)
        # A worker claimed it, then died without a word.
        EvidenceExport.objects.filter(pk=export.pk).update(
            status=ExportStatus.RUNNING, attempts=1, heartbeat_at=timezone.now()
        )
        dead_run = EvidenceExport.objects.select_related("incident", "requested_by").get()
        broker.up()
        assert actions.evidence_requeue_stuck()["exports"] == 0  # it may still be working
        assert actions.evidence_requeue_stuck(now=timezone.now() + LATER)["exports"] == 1
        export.refresh_from_db()
        assert (export.status, export.attempts) == (ExportStatus.READY, 2)
        # The first run wakes up: it finds the export taken over and records nothing.
        with pytest.raises(export_actions.Superseded):
            export_actions.build_bundle(dead_run)
        assert item.custody.filter(action=CustodyAction.EXPORTED).count() == 1

    def test_an_export_that_keeps_killing_its_worker_is_given_up(self, attach, incident, lead):
        attach()
        export = actions.evidence_export_request(incident=incident, actor=lead)
        EvidenceExport.objects.filter(pk=export.pk).update(
            status=ExportStatus.RUNNING,
            attempts=export_actions.MAX_ATTEMPTS,
            heartbeat_at=timezone.now(),
        )
        assert actions.evidence_requeue_stuck(now=timezone.now() + LATER)["exports"] == 0
        export.refresh_from_db()
        assert export.status == ExportStatus.FAILED and "stopped 3 times" in export.error


class TestLive:
    def test_the_room_hears_each_step(
        self, attach, incident, lead, listener, django_capture_on_commit_callbacks
    ):
        attach()
        listener()
        with django_capture_on_commit_callbacks(execute=True):
            export = actions.evidence_export_request(incident=incident, actor=lead)
        payloads = published(listener)
        signals = [p for p in payloads if p.get("event") == "signal"]
        # Asked (queued), claimed (running), recorded (ready); the entry has its seq.
        assert [s["export"] for s in signals] == [export.pk] * 3
        assert all(s["panels"] == ["evidence"] for s in signals)
        entries = [p for p in payloads if p.get("event") == "timeline.evidence_exported"]
        assert len(entries) == 1

    def test_the_panel_shows_the_state_and_the_link_to_the_requester_only(
        self, attach, incident, lead, drafter, browser_client, export_bundle, broker
    ):
        attach()
        export = export_bundle(incident, lead)
        url = f"/incidents/{incident.pk}/evidence/panel/"
        mine = browser_client.as_user(lead).get(url).content.decode()
        assert f'data-export="{export.pk}" data-status="ready"' in mine
        assert f"/evidence/exports/{export.pk}/file/" in mine
        theirs = browser_client.as_user(drafter).get(url).content.decode()
        assert f'data-export="{export.pk}" data-status="ready"' in theirs
        assert f"/evidence/exports/{export.pk}/file/" not in theirs
        broker.down()
        queued = actions.evidence_export_request(incident=incident, actor=drafter)
        page = browser_client.as_user(drafter).get(url).content.decode()
        assert f'data-export="{queued.pk}" data-status="queued"' in page
        assert "Waiting for a worker" in page


def rewrite(data: bytes, name: str, change) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            content = source.read(info)
            target.writestr(info, change(content) if info.filename == name else content)
    return out.getvalue()


def test_the_signed_heads_match_the_installations(attach, incident, lead, export_bundle):
    item = attach()
    export = export_bundle(incident, lead)
    anchors = manifest_of(bundle_bytes(export))["anchors"]
    timeline = anchors[f"timeline:{incident.pk}"]
    assert chains.signature_valid(
        f"timeline:{incident.pk}", timeline["count"], timeline["head"], timeline["signature"]
    )
    assert anchors[f"custody:{item.pk}"]["head"] == item.custody.get(seq=1).hash


@pytest.mark.django_db(transaction=True)
def test_a_timeline_write_is_not_blocked_by_an_export_being_built(
    attach, incident, lead, drafter, monkeypatch
):
    """The worker copies the originals holding no transaction, hence no lock: a member
    writes on the timeline meanwhile (on PostgreSQL with a lock timeout, so a held
    incident lock fails the test instead of hanging it), then the export completes and
    its entry comes after the member's."""
    import threading

    from django.db import transaction

    attach()
    # The worker runs in the thread below, not at commit (eager Celery in tests).
    monkeypatch.setattr(export_actions, "queue_task_after_commit", lambda *args: None)
    export = actions.evidence_export_request(incident=incident, actor=lead)
    building, written = threading.Event(), threading.Event()
    seen = {}
    real = bundle.write_bundle

    def write_slowly(out, **kwargs):
        seen["in_transaction"] = connection.in_atomic_block
        building.set()
        assert written.wait(timeout=20), "the timeline write never came through"
        return real(out, **kwargs)

    monkeypatch.setattr(bundle, "write_bundle", write_slowly)

    def worker():
        try:
            tasks.build_export(export.pk)
        finally:
            connection.close()

    thread = threading.Thread(target=worker)
    thread.start()
    try:
        assert building.wait(timeout=20)
        with transaction.atomic():
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL lock_timeout = '5s'")
            note = incident_actions.timeline_add_entry(
                incident=incident, actor=drafter, kind="note", text="Still working"
            )
    finally:
        written.set()
        thread.join(timeout=60)
    assert seen == {"in_transaction": False}
    export.refresh_from_db()
    assert export.status == ExportStatus.READY
    exported = TimelineEntry.objects.get(incident=incident, kind=EntryKind.EVIDENCE_EXPORTED)
    assert exported.seq > note.seq
    assert checks.verify(incident=incident) == []


class TestApi:
    def test_asking_answers_202_then_the_status_then_the_file(
        self, api, attach, incident, lead, django_capture_on_commit_callbacks
    ):
        item = attach()
        client = api.as_user(lead)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                f"/api/incidents/{incident.pk}/evidence/export/",
                {"items": [item.pk]},
                format="json",
            )
        assert response.status_code == 202, response.content
        body = response.json()
        assert response["Location"] == body["status_url"]
        assert (body["status"], body["item_count"]) == ("queued", 1)
        assert body["file_url"] is None and body["requested_by"]["username"] == "lead"
        status = client.get(body["status_url"]).json()
        assert status["status"] == "ready" and len(status["sha256"]) == 64
        download = client.get(status["file_url"])
        assert download.status_code == 200
        assert download["Content-Type"] == "application/zip"
        assert "attachment" in download["Content-Disposition"]
        data = b"".join(download.streaming_content)
        assert hashlib.sha256(data).hexdigest() == status["sha256"] and verify_bundle(data).ok

    def test_only_the_requester_downloads(
        self, api, attach, incident, lead, drafter, outsider, export_bundle
    ):
        attach()
        export = export_bundle(incident, lead)
        status_url = f"/api/evidence/exports/{export.pk}/"
        file_url = f"/api/evidence/exports/{export.pk}/file/"
        other = api.as_user(drafter)
        assert other.get(status_url).json()["file_url"] is None
        assert "Only the person who asked" in assert_error(other.get(file_url), 403)
        stranger = api.as_user(outsider)
        assert_error(stranger.get(status_url), 404)
        assert_error(stranger.get(file_url), 404)

    def test_not_ready_is_404(self, api, attach, incident, lead, broker):
        attach()
        broker.down()
        export = actions.evidence_export_request(incident=incident, actor=lead)
        response = api.as_user(lead).get(f"/api/evidence/exports/{export.pk}/file/")
        assert "not ready" in assert_error(response, 404)

    def test_refusals(self, api, attach, incident, lead, observer, declare):
        item = attach()
        other = declare(title="Another crisis")
        client = api.as_user(lead)
        response = client.post(
            f"/api/incidents/{other.pk}/evidence/export/", {"items": [item.pk]}, format="json"
        )
        assert "not evidence of this incident" in assert_error(response, 400)
        response = client.post(
            f"/api/incidents/{incident.pk}/evidence/export/", {"items": ["x"]}, format="json"
        )
        assert_error(response, 400)
        response = api.as_user(observer).post(
            f"/api/incidents/{incident.pk}/evidence/export/", {}, format="json"
        )
        assert_error(response, 403)
        assert not EvidenceExport.objects.exists()


class TestPages:
    def test_the_locker_asks_then_lists_the_export_until_it_is_ready(
        self, browser_client, attach, incident, lead, broker
    ):
        item = attach()
        client = browser_client.as_user(lead)
        broker.down()  # a worker that has not run yet
        response = client.post(
            f"/incidents/{incident.pk}/evidence/export/", {"items": [item.pk]}, follow=True
        )
        page = response.content.decode()
        assert "The bundle is being prepared" in page
        export = EvidenceExport.objects.get()
        assert f'data-export="{export.pk}" data-status="queued"' in page
        assert 'hx-trigger="every 3s"' in page  # re-fetches itself while under way
        broker.up()
        tasks.build_export(export.pk)
        fragment = client.get(f"/incidents/{incident.pk}/evidence/exports/").content.decode()
        assert f'data-export="{export.pk}" data-status="ready"' in fragment
        assert "hx-trigger" not in fragment
        download = client.get(f"/evidence/exports/{export.pk}/file/")
        assert download["Content-Type"] == "application/zip"
        export.refresh_from_db()  # named after the moment its content was read
        assert export.download_name in download["Content-Disposition"]

    def test_the_page_in_embedded_mode_builds_it_at_once(
        self, browser_client, attach, incident, lead, django_capture_on_commit_callbacks
    ):
        attach()
        with django_capture_on_commit_callbacks(execute=True):
            browser_client.as_user(lead).post(f"/incidents/{incident.pk}/evidence/export/")
        assert EvidenceExport.objects.get().status == ExportStatus.READY

    def test_downloads_are_checked(
        self, browser_client, attach, incident, lead, drafter, outsider, export_bundle
    ):
        attach()
        export = export_bundle(incident, lead)
        url = f"/evidence/exports/{export.pk}/file/"
        assert browser_client.as_user(drafter).get(url).status_code == 403
        assert browser_client.as_user(outsider).get(url).status_code == 404
        fragment = f"/incidents/{incident.pk}/evidence/exports/"
        assert browser_client.as_user(outsider).get(fragment).status_code == 404

    def test_a_refusal_is_shown_on_the_locker(self, browser_client, incident, lead):
        response = browser_client.as_user(lead).post(
            f"/incidents/{incident.pk}/evidence/export/", follow=True
        )
        assert "There is no evidence to export yet." in response.content.decode()
