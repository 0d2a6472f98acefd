"""Storing, display copies, custody, append-only guards and integrity checks."""

import hashlib
import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from PIL import Image

from incidents.errors import NotAllowed
from incidents.evidence import actions
from incidents.evidence.models import (
    CustodyAction,
    CustodyEvent,
    DisplayStatus,
    EvidenceItem,
)
from incidents.models import AppendOnlyError, EntryKind, TimelineEntry
from tests.evidence.conftest import PDF, jpeg_bytes, png_bytes, upload

pytestmark = pytest.mark.django_db


def stored_bytes(item) -> bytes:
    with item.file.open("rb") as f:
        return f.read()


def test_the_original_is_stored_bit_exact_with_its_hash(attach):
    data = png_bytes(64, 48)
    item = attach(data, name="../../etc/passwd.png", author_handle="@angry_customer")
    assert item.sha256 == hashlib.sha256(data).hexdigest()
    assert item.size == len(data)
    assert stored_bytes(item) == data
    # The name typed by the uploader never reaches the file system.
    assert item.file.name.startswith(f"evidence/{item.incident_id}/")
    assert "passwd" not in item.file.name and ".." not in item.file.name
    assert item.original_name == "passwd.png"  # Django keeps the base name only


def test_items_are_numbered_per_incident_and_logged(attach, incident, drafter):
    first, second = attach(), attach(png_bytes(color=(0, 0, 0)))
    assert (first.label, second.label) == ("E-1", "E-2")
    entry = TimelineEntry.objects.filter(incident=incident).order_by("-seq").first()
    assert entry.kind == EntryKind.EVIDENCE_ADDED
    assert entry.actor == drafter
    assert entry.data["sha256"] == second.sha256
    assert entry.data["label"] == "E-2"
    custody = list(second.custody.all())
    assert [(e.action, e.actor) for e in custody] == [(CustodyAction.UPLOADED, drafter)]


def test_author_facts_are_kept(attach):
    item = attach(
        author_handle="@hater",
        author_name="Le Hater",
        author_profile_url="https://x.com/hater",
        author_followers="12345",
        author_facts="Account created last week; bio mentions a competitor.",
        source_url="https://x.com/hater/status/1",
        platform="x",
        description="Claims our product poisoned his dog.",
    )
    item.refresh_from_db()
    assert (item.author_handle, item.author_followers, item.platform) == ("@hater", 12345, "x")
    assert "competitor" in item.author_facts


def test_observer_cannot_add_evidence(incident, observer):
    with pytest.raises(NotAllowed):
        actions.evidence_attach(
            incident=incident, actor=observer, files=[upload(png_bytes())], metadata={}
        )
    assert not EvidenceItem.objects.exists()


def test_a_failed_transaction_leaves_no_file_behind(incident, observer, settings):
    with pytest.raises(NotAllowed):
        actions.evidence_attach(
            incident=incident, actor=observer, files=[upload(png_bytes())], metadata={}
        )
    evidence_dir = settings.MEDIA_ROOT / "evidence"
    assert not evidence_dir.exists() or not any(p.is_file() for p in evidence_dir.rglob("*"))


def test_display_copies_drop_exif_and_gps_but_the_original_keeps_them(
    attach, django_capture_on_commit_callbacks
):
    data = jpeg_bytes(800, 600, gps=True)
    with django_capture_on_commit_callbacks(execute=True):
        item = attach(data, name="photo.jpg")
    item.refresh_from_db()
    assert item.display_status == DisplayStatus.READY
    for copy in (item.thumbnail, item.preview):
        with copy.open("rb") as f, Image.open(f) as image:
            assert not image.getexif(), "metadata leaked into a display copy"
            assert "exif" not in image.info
    assert stored_bytes(item) == data  # untouched
    with Image.open(io.BytesIO(data)) as original:
        assert original.getexif().get_ifd(0x8825)  # the GPS block is still in the original


def test_a_pdf_has_no_display_copies(attach, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        item = attach(PDF, name="article.pdf")
    item.refresh_from_db()
    assert item.display_status == DisplayStatus.NONE
    assert not item.thumbnail


def test_display_copies_are_made_once(attach, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        item = attach()
    item.refresh_from_db()
    thumbnail = item.thumbnail.name
    actions.evidence_store_display_copies(item_id=item.pk)  # a retried task
    item.refresh_from_db()
    assert item.thumbnail.name == thumbnail


class TestNothingCanAlterOrDeleteEvidence:
    def test_model_guards(self, attach):
        item = attach()
        item.sha256 = "0" * 64
        with pytest.raises(AppendOnlyError):
            item.save()
        with pytest.raises(AppendOnlyError):
            item.delete()
        with pytest.raises(AppendOnlyError):
            EvidenceItem.objects.filter(pk=item.pk).update(sha256="0" * 64)
        with pytest.raises(AppendOnlyError):
            EvidenceItem.objects.filter(pk=item.pk).delete()
        with pytest.raises(AppendOnlyError):
            item.custody.first().delete()
        with pytest.raises(AppendOnlyError):
            CustodyEvent.objects.filter(item=item).update(action="viewed")

    @pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger is PostgreSQL's")
    @pytest.mark.parametrize(
        "sql",
        [
            "UPDATE incidents_evidenceitem SET sha256 = repeat('0', 64)",
            "UPDATE incidents_evidenceitem SET file = 'evidence/other.png'",
            "UPDATE incidents_evidenceitem SET captured_at = now()",
            "UPDATE incidents_evidenceitem SET author_handle = '@someone_else'",
            "DELETE FROM incidents_evidenceitem",
            "UPDATE incidents_custodyevent SET action = 'viewed'",
            "DELETE FROM incidents_custodyevent",
        ],
    )
    def test_postgresql_refuses_in_sql(self, attach, sql):
        attach()
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)

    @pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger is PostgreSQL's")
    def test_postgresql_lets_the_worker_fill_in_display_copies(self, attach):
        item = attach()
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE incidents_evidenceitem SET display_status = 'failed' WHERE id = %s",
                [item.pk],
            )
        item.refresh_from_db()
        assert item.display_status == "failed"


def test_views_and_downloads_extend_the_custody_chain(attach, lead, approver):
    item = attach()
    actions.evidence_record_access(
        item=item, actor=lead, action=CustodyAction.VIEWED, ip="10.1.2.3"
    )
    actions.evidence_record_access(item=item, actor=approver, action=CustodyAction.DOWNLOADED)
    events = list(item.custody.order_by("seq"))
    assert [(e.seq, e.action) for e in events] == [
        (1, "uploaded"),
        (2, "viewed"),
        (3, "downloaded"),
    ]
    assert events[1].detail == {"ip": "10.1.2.3"}
    assert events[2].prev_hash == events[1].hash
    assert all(e.compute_hash() == e.hash for e in events)


def test_outsider_access_is_refused(attach, outsider):
    with pytest.raises(NotAllowed):
        actions.evidence_record_access(item=attach(), actor=outsider, action=CustodyAction.VIEWED)


class TestVerifyEvidence:
    def test_intact_items_pass_and_the_check_is_logged(self, attach, capsys):
        item = attach()
        call_command("verify_evidence")
        assert "1 evidence item(s) intact" in capsys.readouterr().out
        assert item.custody.order_by("-seq").first().action == CustodyAction.VERIFIED

    def test_a_tampered_file_fails(self, attach, capsys):
        item, other = attach(), attach(png_bytes(color=(1, 2, 3)))
        path = item.file.path
        with open(path, "r+b") as f:
            f.seek(-20, 2)
            f.write(b"\x00")
        with pytest.raises(CommandError, match="1 problem"):
            call_command("verify_evidence")
        err = capsys.readouterr().err
        assert "E-1" in err and "does not match its SHA-256" in err
        assert "E-2" not in err
        last = item.custody.order_by("-seq").first()
        assert last.action == CustodyAction.VERIFICATION_FAILED
        assert other.custody.order_by("-seq").first().action == CustodyAction.VERIFIED

    def test_a_missing_file_fails(self, attach, capsys):
        item = attach()
        item.file.storage.delete(item.file.name)
        with pytest.raises(CommandError):
            call_command("verify_evidence", incident=item.incident_id)
        assert "missing" in capsys.readouterr().err

    def test_an_altered_custody_chain_fails(self, attach, capsys):
        item = attach()
        if connection.vendor == "postgresql":
            pytest.skip("PostgreSQL refuses the alteration itself")
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE incidents_custodyevent SET actor_id = NULL WHERE item_id = %s", [item.pk]
            )
        with pytest.raises(CommandError):
            call_command("verify_evidence")
        assert "custody event #1 content does not match its hash" in capsys.readouterr().err

    def test_unknown_incident(self, db):
        with pytest.raises(CommandError, match="No incident"):
            call_command("verify_evidence", incident=999)
