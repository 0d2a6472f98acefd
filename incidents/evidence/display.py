"""Display copies of an image: what the room shows, never what counsel receives.

They are re-encoded from the pixels only, so EXIF (GPS position, device, author) and text
chunks of the original never reach a screen; the original stays bit-exact for download.
"""

import io
from dataclasses import dataclass

from PIL import Image, ImageOps

THUMBNAIL_BOX = (480, 360)
PREVIEW_WIDTH = 1280
PREVIEW_MAX_HEIGHT = 12000  # a very long full-page capture is cut; the original is whole


@dataclass(frozen=True)
class DisplayCopies:
    thumbnail: bytes
    preview: bytes


def make_display_copies(file) -> DisplayCopies:
    """JPEG thumbnail (top of the image: screenshots read from the top) and preview."""
    with Image.open(file) as image:
        image.seek(0)  # first frame of an animation
        pixels = ImageOps.exif_transpose(image).convert("RGBA")
        flat = Image.new("RGB", pixels.size, "white")
        flat.paste(pixels, mask=pixels.getchannel("A"))

    preview = _fit_width(flat, PREVIEW_WIDTH)
    if preview.height > PREVIEW_MAX_HEIGHT:
        preview = preview.crop((0, 0, preview.width, PREVIEW_MAX_HEIGHT))

    box_w, box_h = THUMBNAIL_BOX
    thumb = _fit_width(flat, box_w)
    if thumb.height > box_h:
        thumb = thumb.crop((0, 0, thumb.width, box_h))
    return DisplayCopies(thumbnail=_jpeg(thumb), preview=_jpeg(preview))


def _fit_width(image: Image.Image, width: int) -> Image.Image:
    if image.width <= width:
        return image.copy()
    height = max(1, round(image.height * width / image.width))
    return image.resize((width, height), Image.Resampling.LANCZOS)


def _jpeg(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85, optimize=True)  # no exif= given: none written
    return out.getvalue()
