"""Serving evidence files: only to people who may see the incident (the callers check),
and never in a way a browser could run: originals as attachments, everything with nosniff
and a CSP that forbids scripts, frames and plugins."""

from django.http import FileResponse, Http404

from . import actions
from .models import CustodyAction, EvidenceItem

# Even an image opened directly in a tab runs in a sandbox with nothing allowed.
FILE_CSP = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"


def _harden(response: FileResponse, *, cache: str = "private, no-store") -> FileResponse:
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = FILE_CSP
    response["Cache-Control"] = cache
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    return response


def download_original(request, item: EvidenceItem) -> FileResponse:
    """The original for the page and the API alike; the download is logged in custody."""
    actions.evidence_record_access(
        item=item, actor=request.user, action=CustodyAction.DOWNLOADED, ip=client_ip(request)
    )
    return original_response(item)


def original_response(item: EvidenceItem) -> FileResponse:
    try:
        handle = item.file.open("rb")
    except FileNotFoundError:
        raise Http404("The stored original is missing; run verify_evidence.") from None
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=item.download_name,
        content_type=item.content_type,
    )
    return _harden(response)


def display_response(item: EvidenceItem, which: str) -> FileResponse:
    """The thumbnail or the preview (JPEG, metadata stripped), shown inline."""
    copy = item.thumbnail if which == "thumbnail" else item.preview
    if not copy:
        raise Http404("No display copy for this item.")
    try:
        handle = copy.open("rb")
    except FileNotFoundError:
        raise Http404("No display copy for this item.") from None
    # A display copy never changes once made: the viewer's browser may keep it.
    return _harden(FileResponse(handle, content_type="image/jpeg"), cache="private, max-age=86400")


def export_response(export) -> FileResponse:
    """A ready export's bundle, as an attachment (the callers check who may have it)."""
    try:
        handle = export.file.open("rb")
    except FileNotFoundError:
        raise Http404("The bundle is missing from storage; ask for the export again.") from None
    response = FileResponse(
        handle, as_attachment=True, filename=export.download_name, content_type="application/zip"
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


def client_ip(request) -> str:
    return request.META.get("REMOTE_ADDR", "")
