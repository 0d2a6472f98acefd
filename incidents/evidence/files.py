"""What an uploaded file really is, decided from its bytes, never from its name.

Accepted: PNG, JPEG, WebP, GIF and PDF. Everything else is refused with a reason a person
can act on, and so is anything that could turn into active content if a browser or a
viewer ever second-guessed its type: markup hidden in an image, bytes after an image's end,
a name that claims one type for the bytes of another, script in a PDF.
"""

import hashlib
import re
import struct
import warnings
import zlib
from dataclasses import dataclass
from functools import partial
from pathlib import PurePath

from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from PIL import Image

from incidents.errors import InvalidInput

from .markup import ACTIVE_MARKERS, SNIFF_WINDOW, has_markup, interpretable_parts

SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"%PDF-", "application/pdf"),
)
PILLOW_FORMATS = {
    "PNG": "image/png",
    "JPEG": "image/jpeg",
    "GIF": "image/gif",
    "WEBP": "image/webp",
}
TYPE_NAMES = {
    "image/png": "PNG",
    "image/jpeg": "JPEG",
    "image/gif": "GIF",
    "image/webp": "WebP",
    "application/pdf": "PDF",
}
# What a file's name claims; a claim that disagrees with the bytes is refused.
CLAIMED_BY_EXTENSION = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".jpe": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".pdf": "application/pdf",
}
PDF_ACTIVE_MARKERS = (b"/javascript", b"/js ", b"/js(", b"/js<", b"/launch", b"/embeddedfile")


@dataclass(frozen=True)
class Inspected:
    content_type: str
    size: int
    sha256: str
    width: int | None = None
    height: int | None = None


def detect_type(head: bytes) -> str | None:
    for signature, content_type in SIGNATURES:
        if head.startswith(signature):
            return content_type
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


def sha256_of(file) -> str:
    digest = hashlib.sha256()
    file.seek(0)
    for chunk in iter(lambda: file.read(1024 * 1024), b""):
        digest.update(chunk)
    file.seek(0)
    return digest.hexdigest()


def inspect_upload(file, *, name: str = "") -> Inspected:
    """Check an uploaded file and describe it, or raise InvalidInput saying why not."""
    size = file.size
    if size == 0:
        raise InvalidInput(_("This file is empty."))
    limit = settings.EVIDENCE_MAX_UPLOAD_BYTES
    if size > limit:
        raise InvalidInput(
            _("This file is %(size)s; the limit is %(limit)s.")
            % {"size": filesizeformat(size), "limit": filesizeformat(limit)}
        )
    file.seek(0)
    data = file.read()
    file.seek(0)
    content_type = detect_type(data[:16])
    if content_type is None:
        raise InvalidInput(
            _(
                "This file is not a PNG, JPEG, WebP or GIF image nor a PDF (judging by its "
                "content, not its name). Take a screenshot or save the page as PDF."
            )
        )
    claimed = CLAIMED_BY_EXTENSION.get(PurePath(name).suffix.lower())
    if claimed and claimed != content_type:
        raise InvalidInput(
            _("This file is named as %(claimed)s but its content is %(actual)s.")
            % {"claimed": TYPE_NAMES[claimed], "actual": TYPE_NAMES[content_type]}
        )
    if content_type == "application/pdf":
        _check_pdf(data)
        width = height = None
    else:
        width, height, metadata = _check_image(file, content_type, data)
        _check_no_markup(data, content_type, metadata)
        if content_type == "image/png":
            _check_png_end(data)
    return Inspected(
        content_type=content_type,
        size=size,
        sha256=hashlib.sha256(data).hexdigest(),
        width=width,
        height=height,
    )


def _check_no_markup(data: bytes, content_type: str, metadata: list) -> None:
    """Markup where it could be read (first bytes, metadata, after the end), never inside
    the compressed image data, where such strings occur by chance (markup.py)."""
    if any(has_markup(part) for part in interpretable_parts(data, content_type, metadata)):
        raise InvalidInput(
            _("This image also contains web page code (HTML or script): it is refused.")
        )


def _check_pdf(data: bytes) -> None:
    if b"%%EOF" not in data[-1024:]:
        raise InvalidInput(_("This PDF is truncated or damaged (no end marker)."))
    head = data[:SNIFF_WINDOW].lower()
    if any(marker in head for marker in ACTIVE_MARKERS):
        raise InvalidInput(_("This PDF starts with web page code (HTML or script): it is refused."))
    if any(marker in text.lower() for text in _pdf_readings(data) for marker in PDF_ACTIVE_MARKERS):
        raise InvalidInput(
            _("This PDF contains active content (JavaScript, launch actions or attachments).")
        )


_PDF_NAME_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")
_PDF_STREAM = re.compile(rb"stream\r?\n(.*?)endstream", re.S)
# What the compressed streams may inflate to, in all, while looking for active content.
PDF_INFLATE_BUDGET = 64 * 1024 * 1024


def _pdf_readings(data: bytes):
    """The PDF's bytes as a reader meets its names: with "#xx" escapes decoded
    ("/Java#53cript" is /JavaScript), then each compressed stream inflated (objects hidden
    in an object stream), within PDF_INFLATE_BUDGET."""
    unescape = partial(_PDF_NAME_ESCAPE.sub, lambda m: bytes([int(m.group(1), 16)]))
    yield unescape(data)
    budget = PDF_INFLATE_BUDGET
    for match in _PDF_STREAM.finditer(data):
        if budget <= 0:
            return
        try:
            inflated = zlib.decompressobj().decompress(match.group(1), budget)
        except zlib.error:
            continue  # not a deflated stream (an image, say)
        budget -= len(inflated)
        yield unescape(inflated)


def _check_image(file, content_type: str, data: bytes) -> tuple[int, int, list]:
    """Decode the image to the end; its size and the metadata Pillow decoded from it
    (text chunks, comments, EXIF, XMP, APPn segments)."""
    max_pixels = settings.EVIDENCE_MAX_PIXELS
    try:
        with warnings.catch_warnings():
            # Our own limit applies below; Pillow's bomb check must not merely warn.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(file) as image:
                width, height = image.size  # read from the header: nothing decoded yet
                if width * height > max_pixels:
                    raise _too_many_pixels(width, height, max_pixels)
                if PILLOW_FORMATS.get(image.format) != content_type:
                    raise InvalidInput(_("This image's content does not match its format."))
                image.load()  # decodes: a truncated or corrupt image fails here
                metadata = _decoded_metadata(image)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_many_pixels(*_header_size(data, content_type), max_pixels) from None
    except InvalidInput:
        raise
    except Exception:
        # Pillow raises many types (OSError, SyntaxError, ValueError...) for broken files.
        raise InvalidInput(
            _("This image is corrupt or truncated: it could not be read to the end.")
        ) from None
    finally:
        file.seek(0)
    return width, height, metadata


def _decoded_metadata(image) -> list:
    values = list(image.info.values())
    values += list(getattr(image, "text", {}).values())  # PNG text, compressed ones inflated
    values += [body for _marker, body in getattr(image, "applist", [])]  # JPEG APPn
    return [v for v in values if isinstance(v, str | bytes)]


def _too_many_pixels(width, height, max_pixels) -> InvalidInput:
    return InvalidInput(
        _("This image is %(w)s × %(h)s pixels; the limit is %(max)s million pixels.")  # noqa: RUF001
        % {"w": width, "h": height, "max": f"{max_pixels / 1_000_000:g}"}
    )


def _header_size(data: bytes, content_type: str) -> tuple[int, int]:
    """Dimensions straight from a PNG header, for the message when Pillow refuses to open."""
    if content_type == "image/png" and len(data) >= 24:
        return struct.unpack(">II", data[16:24])
    return (0, 0)


def _check_png_end(data: bytes) -> None:
    """Walk the chunks to IEND: bytes after it are something else riding along."""
    position = 8
    while position + 8 <= len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        chunk_type = data[position + 4 : position + 8]
        position += 12 + length
        if chunk_type == b"IEND":
            if data[position:].strip(b"\x00"):
                raise InvalidInput(_("This image carries extra data after its end: it is refused."))
            return
    raise InvalidInput(_("This image is corrupt or truncated: it could not be read to the end."))
