"""Evidence fixtures: real files built with Pillow, stored in a temporary MEDIA_ROOT, and
Celery run inline so display copies and captures happen within the test."""

import io
import os
import struct
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from crisiscell.celery import app as celery_app
from incidents.evidence import actions


@pytest.fixture(autouse=True)
def _evidence_storage(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = eager


def png_bytes(width=40, height=30, color=(200, 30, 30), **save_options) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, "PNG", **save_options)
    return out.getvalue()


def noisy_png_bytes(width=300, height=300) -> bytes:
    """A PNG that does not compress: its size grows with its pixels."""
    out = io.BytesIO()
    Image.frombytes("RGB", (width, height), os.urandom(width * height * 3)).save(out, "PNG")
    return out.getvalue()


def jpeg_bytes(width=40, height=30, *, gps=False) -> bytes:
    image = Image.new("RGB", (width, height), (20, 120, 200))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0131] = "SecretCam 1.0"  # Software
    if gps:
        # GPSInfo IFD: latitude 48°51' N, longitude 2°21' E.
        exif[0x8825] = {1: "N", 2: (48.0, 51.0, 0.0), 3: "E", 4: (2.0, 21.0, 0.0)}
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def gif_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("P", (16, 16)).save(out, "GIF")
    return out.getvalue()


def webp_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (16, 16), (0, 200, 0)).save(out, "WEBP")
    return out.getvalue()


PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims a size; the pixel data is a token (never decoded)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)

    def chunk(kind, data):
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


def upload(data: bytes, name: str = "screenshot.png", content_type="image/png"):
    return SimpleUploadedFile(name, data, content_type=content_type)


@pytest.fixture
def attach(incident, drafter):
    """Store files as evidence through the action: attach(data, name=..., actor=..., **facts)."""

    def attach(data=None, name="screenshot.png", actor=None, **metadata):
        files = [upload(data if data is not None else png_bytes(), name)]
        metadata.setdefault("kind", "post")
        items = actions.evidence_attach(
            incident=incident, actor=actor or drafter, files=files, metadata=metadata
        )
        return items[0]

    return attach


@pytest.fixture
def export_bundle(django_capture_on_commit_callbacks):
    """Ask for an export through the action and let the (eager) worker build it after
    commit: export_bundle(incident, actor, item_ids=None) -> the EvidenceExport, reloaded."""

    def export_bundle(incident, actor, item_ids=None):
        with django_capture_on_commit_callbacks(execute=True):
            export = actions.evidence_export_request(
                incident=incident, actor=actor, item_ids=item_ids
            )
        export.refresh_from_db()
        return export

    return export_bundle


def bundle_bytes(export) -> bytes:
    with export.file.open("rb") as stored:
        return stored.read()
