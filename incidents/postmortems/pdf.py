"""The PDF export: the printable page (templates/postmortems/print.html, the same context)
laid out by WeasyPrint with its print rules. WeasyPrint needs Pango and fonts from the
system (docs/deployment.md, "Post-mortem PDF"). It never fetches anything from the network:
the page's own stylesheets are read from the static files, any other address is refused."""

from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import staticfiles_storage
from django.template.loader import render_to_string

BASE = "http://postmortem.invalid/"  # never contacted: the fetcher below serves it


def _static_path(url: str) -> str:
    prefix = BASE + settings.STATIC_URL.lstrip("/")
    if not url.startswith(prefix):
        raise ValueError(f"not fetched in a PDF: {url}")
    name = url[len(prefix) :].split("?")[0]
    # The finders know the source files; the collected (hashed) names are the storage's.
    return finders.find(name) or staticfiles_storage.path(name)


def _fetcher():
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class StaticOnly(URLFetcher):
        def fetch(self, url, headers=None):
            path = Path(_static_path(url))
            kind = "text/css" if path.suffix == ".css" else "application/octet-stream"
            return URLFetcherResponse(url, body=path.read_bytes(), headers={"Content-Type": kind})

    return StaticOnly()


def _refuse_truncated_images_again() -> None:
    """Importing WeasyPrint makes Pillow accept truncated images in the whole process
    (`ImageFile.LOAD_TRUNCATED_IMAGES = True`): the evidence locker's upload check, which
    refuses them, would pass a cut JPEG in any worker that had printed a post-mortem. Our
    PDFs embed no image but our own static files: Pillow's default is put back."""
    from PIL import ImageFile

    ImageFile.LOAD_TRUNCATED_IMAGES = False


class Unavailable(RuntimeError):
    """WeasyPrint or the system libraries it loads (Pango) are missing on this server."""


def render(request, context: dict) -> bytes:
    """The post-mortem as PDF bytes; Unavailable when this server cannot lay out PDFs."""
    try:
        from weasyprint import HTML
    except (ImportError, OSError) as error:  # OSError: Pango's shared library not found
        raise Unavailable(str(error)) from error
    finally:
        _refuse_truncated_images_again()

    html = render_to_string("postmortems/print.html", context, request=request)
    return HTML(string=html, base_url=BASE, url_fetcher=_fetcher()).write_pdf()
