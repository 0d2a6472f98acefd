"""Where markup hidden in an image could be interpreted, and only there.

Compressed image data (PNG IDAT, JPEG scans, GIF LZW, WebP bitstreams) is noise to a
browser or a viewer; strings such as `<svg` occur in it by chance (about 1 in 100 five-
megabyte photos), so it is never searched. What is searched:

- the first bytes, which a browser sniffs to guess a type;
- the metadata a viewer may show or parse: PNG text and other ancillary chunks, JPEG APPn
  and comment segments, GIF comment, plain-text and application extensions, WebP EXIF, XMP
  and unknown chunks, and what Pillow decodes of them (compressed PNG text included);
- whatever rides after the image's end.

Each walker reads the container's own structure (lengths, markers) and returns the spans of
metadata and the offset where the image ends; a structure it cannot follow is left to the
decoder, which refuses truncated or corrupt files.
"""

import struct
from collections.abc import Iterator

ACTIVE_MARKERS = (
    b"<script",
    b"<html",
    b"<!doctype",
    b"<svg",
    b"<iframe",
    b"<body",
    b"<object",
    b"<embed",
    b"javascript:",
)
SNIFF_WINDOW = 1024  # what browsers look at when they sniff a type
PNG_IMAGE_CHUNKS = {b"IDAT", b"fdAT"}
WEBP_IMAGE_CHUNKS = {b"VP8 ", b"VP8L", b"ALPH", b"ANMF", b"ANIM"}


def has_markup(data: bytes) -> bool:
    lowered = data.lower()
    return any(marker in lowered for marker in ACTIVE_MARKERS)


def interpretable_parts(data: bytes, content_type: str, decoded_metadata=()) -> Iterator[bytes]:
    """The parts of an image file that something could read as text or markup."""
    yield data[:SNIFF_WINDOW]
    walk = {
        "image/png": _png,
        "image/jpeg": _jpeg,
        "image/gif": _gif,
        "image/webp": _webp,
    }[content_type]
    spans, end = walk(data)
    for start, stop in spans:
        yield data[start:stop]
    if end is not None:
        yield data[end:]
    for value in decoded_metadata:
        yield value if isinstance(value, bytes) else str(value).encode("utf-8", "replace")


def _png(data: bytes):
    spans, position = [], 8
    while position + 8 <= len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        body = position + 8
        if kind not in PNG_IMAGE_CHUNKS:
            spans.append((body, min(body + length, len(data))))
        position = body + length + 4  # data, then the CRC
        if kind == b"IEND":
            return spans, position
    return spans, None


def _jpeg(data: bytes, depth: int = 0):
    spans, position, size = [], 2, len(data)
    while position + 1 < size:
        if data[position] != 0xFF:
            return spans, None  # lost in the structure: the decoder judges
        marker = data[position + 1]
        if marker == 0xFF:  # fill byte
            position += 1
            continue
        if marker == 0xD9:  # end of image
            end = position + 2
            rest = data[end:]
            if rest.startswith(b"\xff\xd8") and depth < 4:
                # Phones append more pictures (MPF): walk them the same way.
                more, more_end = _jpeg(rest, depth + 1)
                spans += [(end + a, end + b) for a, b in more]
                return spans, None if more_end is None else end + more_end
            return spans, end
        if marker in (0x01, *range(0xD0, 0xD8)):  # markers without a length
            position += 2
            continue
        if position + 4 > size:
            return spans, None
        (length,) = struct.unpack(">H", data[position + 2 : position + 4])
        body, following = position + 4, position + 2 + length
        if 0xE0 <= marker <= 0xEF or marker == 0xFE:  # APPn (EXIF, XMP...), comment
            spans.append((body, min(following, size)))
        position = following
        if marker == 0xDA:  # start of scan: entropy-coded data runs to the next marker
            while position + 1 < size and not (
                data[position] == 0xFF and data[position + 1] not in (0x00, *range(0xD0, 0xD8))
            ):
                position += 1
    return spans, None


def _gif(data: bytes):
    spans, size = [], len(data)
    if size < 13:
        return spans, None
    flags = data[10]
    position = 13 + (3 * 2 ** ((flags & 7) + 1) if flags & 0x80 else 0)
    while position < size:
        block = data[position]
        if block == 0x3B:  # trailer
            return spans, position + 1
        if block == 0x21 and position + 1 < size:  # extension
            label = data[position + 1]
            start = position + 2
            position = _skip_sub_blocks(data, start)
            if label in (0xFE, 0x01, 0xFF):  # comment, plain text, application
                spans.append((start, position))
        elif block == 0x2C and position + 10 <= size:  # image: descriptor, table, LZW data
            local = data[position + 9]
            position += 10 + (3 * 2 ** ((local & 7) + 1) if local & 0x80 else 0)
            position = _skip_sub_blocks(data, position + 1)  # after the LZW code size
        else:
            return spans, None
    return spans, None


def _skip_sub_blocks(data: bytes, position: int) -> int:
    while position < len(data) and data[position] != 0:
        position += data[position] + 1
    return position + 1


def _webp(data: bytes):
    spans = []
    if len(data) < 12:
        return spans, None
    (riff_size,) = struct.unpack("<I", data[4:8])
    end = min(8 + riff_size + (riff_size & 1), len(data))
    position = 12
    while position + 8 <= end:
        kind = data[position : position + 4]
        (length,) = struct.unpack("<I", data[position + 4 : position + 8])
        body = position + 8
        if kind not in WEBP_IMAGE_CHUNKS:
            spans.append((body, min(body + length, end)))
        position = body + length + (length & 1)
    return spans, 8 + riff_size + (riff_size & 1)
