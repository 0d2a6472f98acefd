"""Every class of bad file is refused by content, with a reason, and nothing is stored."""

import pytest

from incidents.evidence.models import EvidenceItem
from incidents.models import TimelineEntry
from tests.evidence.conftest import (
    PDF,
    gif_bytes,
    jpeg_bytes,
    noisy_png_bytes,
    png_bytes,
    png_header_only,
    upload,
    webp_bytes,
)
from tests.helpers import assert_error

pytestmark = pytest.mark.django_db


def post(api, user, incident, *files, **fields):
    return api.as_user(user).post(
        f"/api/incidents/{incident.pk}/evidence/",
        {"file": list(files), "kind": "post", **fields},
        format="multipart",
    )


def refused(api, drafter, incident, data, name, content_type="image/png"):
    entries = TimelineEntry.objects.filter(incident=incident).count()
    response = post(api, drafter, incident, upload(data, name, content_type))
    detail = assert_error(response, 400)
    assert not EvidenceItem.objects.filter(incident=incident).exists()
    assert TimelineEntry.objects.filter(incident=incident).count() == entries
    return detail


@pytest.mark.parametrize(
    ("data", "name", "content_type", "width"),
    [
        (png_bytes(), "post.png", "image/png", 40),
        (jpeg_bytes(), "post.jpg", "image/jpeg", 40),
        (webp_bytes(), "post.webp", "image/webp", 16),
        (gif_bytes(), "post.gif", "image/gif", 16),
        (PDF, "article.pdf", "application/pdf", None),
        (png_bytes(), "image", "image/png", 40),  # a pasted file may have no extension
    ],
)
def test_each_accepted_type_is_detected_from_content(
    api, incident, drafter, data, name, content_type, width
):
    response = post(api, drafter, incident, upload(data, name, "application/octet-stream"))
    assert response.status_code == 201, response.content
    item = response.json()[0]
    assert item["content_type"] == content_type
    assert item["width"] == width
    assert item["size"] == len(data)


def test_svg_with_script_is_refused(api, incident, drafter):
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.cookie)</script></svg>'
    detail = refused(api, drafter, incident, svg, "logo.svg", "image/svg+xml")
    assert "PNG, JPEG" in detail


def test_html_renamed_png_is_refused(api, incident, drafter):
    html = b"<!DOCTYPE html><html><body><script>fetch('/api/')</script></body></html>"
    detail = refused(api, drafter, incident, html, "screenshot.png")
    assert "not a PNG, JPEG" in detail


def test_png_with_html_appended_is_refused(api, incident, drafter):
    polyglot = png_bytes() + b"<html><script>alert(1)</script></html>"
    detail = refused(api, drafter, incident, polyglot, "screenshot.png")
    assert "web page code" in detail


def test_png_with_bytes_after_its_end_is_refused(api, incident, drafter):
    detail = refused(api, drafter, incident, png_bytes() + b"PK\x03\x04zip-riding-along", "a.png")
    assert "after its end" in detail


def test_png_hiding_markup_in_a_text_chunk_is_refused(api, incident, drafter):
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "<script>alert(1)</script>")
    detail = refused(api, drafter, incident, png_bytes(pnginfo=info), "a.png")
    assert "web page code" in detail


def test_name_claiming_another_type_is_refused(api, incident, drafter):
    detail = refused(api, drafter, incident, jpeg_bytes(), "screenshot.png")
    assert "named as PNG but its content is JPEG" in detail


def test_image_over_the_pixel_limit_is_refused_before_decoding(api, incident, drafter):
    detail = refused(api, drafter, incident, png_header_only(30000, 30000), "huge.png")
    assert "30000 × 30000" in detail  # noqa: RUF001


def test_pixel_limit_is_a_setting(api, incident, drafter, settings):
    settings.EVIDENCE_MAX_PIXELS = 1000
    detail = refused(api, drafter, incident, png_bytes(40, 30), "a.png")
    assert "40 × 30" in detail  # noqa: RUF001


def test_truncated_jpeg_is_refused(api, incident, drafter):
    data = jpeg_bytes(400, 300)
    detail = refused(api, drafter, incident, data[: len(data) // 2], "cut.jpg", "image/jpeg")
    assert "corrupt or truncated" in detail


def test_truncated_png_is_refused(api, incident, drafter):
    data = png_bytes(400, 300)
    detail = refused(api, drafter, incident, data[:-30], "cut.png")
    assert "corrupt or truncated" in detail


def test_truncated_pdf_is_refused(api, incident, drafter):
    detail = refused(api, drafter, incident, PDF[:-8], "cut.pdf", "application/pdf")
    assert "truncated" in detail


def test_pdf_with_javascript_is_refused(api, incident, drafter):
    pdf = PDF.replace(
        b"/Type/Catalog", b"/Type/Catalog/OpenAction<</S/JavaScript/JS(app.alert(1))>>"
    )
    detail = refused(api, drafter, incident, pdf, "doc.pdf", "application/pdf")
    assert "active content" in detail


def test_pdf_javascript_written_with_escapes_or_compressed_is_refused(api, incident, drafter):
    """A reader decodes "#53" in a name and inflates object streams: the check does too."""
    import zlib

    escaped = PDF.replace(
        b"/Type/Catalog", b"/Type/Catalog/OpenAction<</S/Java#53cript/J#53 (app.alert(1))>>"
    )
    hidden = zlib.compress(b"4 0 obj<</S/JavaScript/JS(app.alert(1))>>endobj")
    packed = PDF.replace(
        b"%PDF-1.4\n",
        b"%PDF-1.5\n5 0 obj<</Type/ObjStm/N 1/First 4/Filter/FlateDecode/Length "
        + str(len(hidden)).encode()
        + b">>stream\n"
        + hidden
        + b"\nendstream endobj\n",
        1,
    )
    for name, pdf in (("escaped.pdf", escaped), ("packed.pdf", packed)):
        detail = refused(api, drafter, incident, pdf, name, "application/pdf")
        assert "active content" in detail, name


def test_oversize_file_is_refused(api, incident, drafter, settings):
    settings.EVIDENCE_MAX_UPLOAD_BYTES = 1024
    detail = refused(api, drafter, incident, noisy_png_bytes(), "big.png")
    assert "the limit is 1.0\xa0KB" in detail


def test_default_size_limit_is_twenty_megabytes(settings):
    assert settings.EVIDENCE_MAX_UPLOAD_BYTES == 20 * 1024 * 1024


def test_empty_file_is_refused(api, incident, drafter):
    assert "empty" in refused(api, drafter, incident, b"", "empty.png")


def test_101_files_in_one_request_are_refused(api, incident, drafter):
    files = [upload(png_bytes(), f"shot-{n}.png") for n in range(101)]
    detail = assert_error(post(api, drafter, incident, *files), 400)
    assert "At most 100 files" in detail
    assert not EvidenceItem.objects.exists()


def test_one_bad_file_refuses_the_whole_batch_and_names_it(api, incident, drafter):
    good = upload(png_bytes(), "good.png")
    bad = upload(b"MZ\x90\x00 an executable", "setup.png")
    detail = assert_error(post(api, drafter, incident, good, bad), 400)
    assert detail.startswith("setup.png:")
    assert not EvidenceItem.objects.exists()


def test_no_file_is_a_clear_error(api, incident, drafter):
    response = api.as_user(drafter).post(
        f"/api/incidents/{incident.pk}/evidence/", {"kind": "post"}, format="multipart"
    )
    assert "at least one file" in assert_error(response, 400)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("source_url", "javascript:alert(1)", "not a valid http(s) address"),
        ("author_profile_url", "ftp://example.com/x", "not a valid http(s) address"),
        ("kind", "meme", "meme"),
        ("platform", "myspace", "myspace"),
        ("author_followers", "-3", "author_followers"),
        ("published_at", "2999-01-01T00:00:00Z", "future"),
    ],
)
def test_bad_details_are_refused(api, incident, drafter, field, value, message):
    response = post(api, drafter, incident, upload(png_bytes()), **{field: value})
    assert message in assert_error(response, 400)
    assert not EvidenceItem.objects.exists()


def test_far_too_many_files_get_a_readable_json_error(api, incident, drafter, browser_client):
    files = [upload(png_bytes(), f"shot-{n}.png") for n in range(200)]
    detail = assert_error(post(api, drafter, incident, *files), 400)
    assert "at most 100 at a time" in detail
    files = [upload(png_bytes(), f"shot-{n}.png") for n in range(200)]
    page = browser_client.as_user(drafter).post(
        f"/incidents/{incident.pk}/evidence/upload/", {"file": files, "kind": "post"}
    )
    assert page.status_code == 400
    assert "at most 100 at a time" in page.content.decode()
