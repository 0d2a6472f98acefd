"""Markup is looked for where it could be read (first bytes, metadata, after the end of the
image), never inside compressed image data: genuine pictures are never refused by chance,
and markup hidden in any metadata of any accepted format still is."""

import io
import random
import struct
import zlib

import pytest
from PIL import Image, PngImagePlugin

from incidents.errors import InvalidInput
from incidents.evidence.files import inspect_upload
from tests.evidence.conftest import upload

SCRIPT = "<script>alert(document.cookie)</script>"


def inspect(data: bytes, name: str):
    return inspect_upload(upload(data, name), name=name)


def encode(image, fmt: str, **options) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def test_markup_bytes_inside_the_image_data_are_just_pixels():
    """Grey pixels whose values spell `<svg onload=...>`, stored (deflate level 0, no
    filter) in IDAT past the bytes browsers sniff: a genuine image, accepted (it was
    refused when the whole file was searched)."""
    row = b"<svg onload=alert(1)><script>" * 4
    rows = [bytes(len(row))] * 20 + [row] * 20  # the first rows keep the sniffed bytes clean
    raw = b"".join(b"\x00" + r for r in rows)  # filter type 0: the bytes as they are
    header = struct.pack(">IIBBBBB", len(row), len(rows), 8, 0, 0, 0, 0)
    data = (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(raw, 0))
        + _png_chunk(b"IEND", b"")
    )
    assert b"<svg onload" in data[1024:]
    assert inspect(data, "pixels.png").content_type == "image/png"


def test_thousands_of_random_genuine_images_are_all_accepted():
    rng = random.Random(20261130)  # seeded: the same images on every run
    formats = [("PNG", "png", {}), ("JPEG", "jpg", {"quality": 90}), ("WEBP", "webp", {})]
    formats.append(("GIF", "gif", {}))
    checked = 0
    for n in range(2000):
        fmt, extension, options = formats[n % len(formats)]
        size = (rng.randint(8, 96), rng.randint(8, 96))
        image = Image.frombytes("RGB", size, rng.randbytes(size[0] * size[1] * 3))
        if fmt == "GIF":
            image = image.convert("P")
        inspect(encode(image, fmt, **options), f"photo.{extension}")
        checked += 1
    assert checked == 2000


def _png_with(text_key: str, value: str, *, compressed: bool = False, itxt: bool = False):
    info = PngImagePlugin.PngInfo()
    if itxt:
        info.add_itxt(text_key, value, zip=compressed)
    else:
        info.add_text(text_key, value, zip=compressed)
    return encode(Image.new("RGB", (20, 20), "red"), "PNG", pnginfo=info)


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (_png_with("Comment", SCRIPT), "a.png"),
        (_png_with("Comment", SCRIPT, compressed=True), "a.png"),  # zTXt: deflated
        (_png_with("Comment", SCRIPT, itxt=True, compressed=True), "a.png"),  # iTXt
        (encode(Image.new("RGB", (20, 20)), "JPEG", comment=SCRIPT.encode()), "a.jpg"),
        (
            encode(Image.new("RGB", (20, 20)), "JPEG", exif=b"Exif\x00\x00" + SCRIPT.encode()),
            "a.jpg",
        ),
        (encode(Image.new("RGB", (20, 20)), "JPEG") + b"<html>" + SCRIPT.encode(), "a.jpg"),
        (encode(Image.new("P", (20, 20)), "GIF", comment=SCRIPT.encode()), "a.gif"),
        (encode(Image.new("P", (20, 20)), "GIF") + SCRIPT.encode(), "a.gif"),
        (encode(Image.new("RGB", (20, 20)), "WEBP", xmp=SCRIPT.encode()), "a.webp"),
        (encode(Image.new("RGB", (20, 20)), "WEBP", exif=SCRIPT.encode()), "a.webp"),
    ],
    ids=[
        "png-tEXt",
        "png-zTXt",
        "png-iTXt",
        "jpeg-comment",
        "jpeg-exif",
        "jpeg-after-end",
        "gif-comment",
        "gif-after-end",
        "webp-xmp",
        "webp-exif",
    ],
)
def test_markup_in_metadata_or_after_the_end_is_refused(data, name):
    with pytest.raises(InvalidInput, match="web page code"):
        inspect(data, name)
