"""Evidence pages: the room's panel, the locker's page, an item's page and its files.

Uploads from the room go one file at a time through the API (per-file progress and
errors); the form below also posts without JavaScript, all files at once.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from incidents.errors import DomainError
from incidents.shortcuts import incident_or_404, perform, refused

from . import actions, rules, selectors, serve
from .forms import CaptureForm, EvidenceDetailsForm
from .models import CustodyAction, EvidenceExport, EvidenceItem, ExportStatus

PANEL_ITEMS = 12
PAGE_ITEMS = 48
LOCKER_EXPORTS = 10


def _item(request, pk) -> EvidenceItem:
    try:
        return selectors.item_visible_to(request.user, pk)
    except EvidenceItem.DoesNotExist:
        raise Http404(_("No evidence here, or you are not in its crisis cell.")) from None


def _exports(request, incident, limit) -> list:
    """The incident's last exports, each with `downloadable` for this viewer."""
    found = selectors.recent_exports(incident, limit)
    for export in found:
        export.downloadable = rules.can_download_export(request.user, export, incident=incident)
    return found


def panel_context(request, incident) -> dict:
    items = list(selectors.evidence_for(incident)[: PANEL_ITEMS + 1])
    return {
        "incident": incident,
        "exports": _exports(request, incident, selectors.RECENT_EXPORTS),
        "evidence": items[:PANEL_ITEMS],
        "evidence_more": len(items) > PANEL_ITEMS,
        "evidence_count": incident.evidence.count() if len(items) > PANEL_ITEMS else len(items),
        "captures": selectors.recent_captures(incident),
        "can_add_evidence": rules.can_add_evidence(request.user, incident),
        "evidence_form": EvidenceDetailsForm(auto_id="evidence_%s"),
        "capture_form": CaptureForm(auto_id="capture_%s"),
        "max_upload_bytes": settings.EVIDENCE_MAX_UPLOAD_BYTES,
    }


@login_required
@require_GET
def panel(request, pk):
    incident = incident_or_404(request, pk)
    return render(request, "incidents/evidence/_list.html", panel_context(request, incident))


@login_required
@require_GET
def locker(request, pk):
    """Every item of the incident, paginated, with the export form."""
    incident = incident_or_404(request, pk)
    page = Paginator(selectors.evidence_for(incident), PAGE_ITEMS).get_page(request.GET.get("page"))
    return render(
        request,
        "incidents/evidence/locker.html",
        {
            "incident": incident,
            "page": page,
            "can_export": rules.can_export(request.user, incident),
            "can_add_evidence": rules.can_add_evidence(request.user, incident),
            **_locker_exports(request, incident),
        },
    )


def _locker_exports(request, incident) -> dict:
    found = _exports(request, incident, LOCKER_EXPORTS)
    return {"exports": found, "exports_pending": any(not e.is_finished for e in found)}


@login_required
@require_GET
def exports(request, pk):
    """The locker's list of exports (it re-fetches itself while one is under way)."""
    incident = incident_or_404(request, pk)
    return render(
        request,
        "incidents/evidence/_exports.html",
        {"incident": incident, **_locker_exports(request, incident)},
    )


@login_required
@require_POST
def upload(request, pk):
    """The form's post without JavaScript: every chosen file with the same details."""
    incident = incident_or_404(request, pk)
    form = EvidenceDetailsForm(request.POST, auto_id="evidence_%s")
    if not form.is_valid():
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
        return redirect("incident-room", pk=incident.pk)
    try:
        items = actions.evidence_attach(
            incident=incident,
            actor=request.user,
            files=request.FILES.getlist("file"),
            metadata=form.cleaned_data,
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            ngettext(
                "%(n)s file preserved as evidence.",
                "%(n)s files preserved as evidence.",
                len(items),
            )
            % {"n": len(items)},
        )
    return redirect("incident-room", pk=incident.pk)


@login_required
@require_POST
def capture(request, pk):
    incident = incident_or_404(request, pk)
    form = CaptureForm(request.POST, auto_id="capture_%s")
    if not form.is_valid():
        return refused(request, incident, _("Type the address of the page to capture."))
    return perform(
        request,
        incident,
        _("The server is capturing the page."),
        actions.evidence_capture_request,
        incident=incident,
        **form.cleaned_data,
    )


@login_required
@require_POST
def export(request, pk):
    """Ask for the bundle; a worker builds it and the locker (and the room) show it."""
    incident = incident_or_404(request, pk)
    try:
        actions.evidence_export_request(
            incident=incident, actor=request.user, item_ids=request.POST.getlist("items")
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _(
                "The bundle is being prepared. It is listed below, with its download link "
                "once ready; the room's evidence panel shows it too."
            ),
        )
    return redirect("incident-evidence", pk=incident.pk)


@login_required
@require_GET
def export_file(request, pk):
    """A ready bundle, for the person who asked for it."""
    try:
        found = selectors.export_visible_to(request.user, pk)
    except EvidenceExport.DoesNotExist:
        raise Http404(_("No export here, or you are not in its crisis cell.")) from None
    if found.status != ExportStatus.READY:
        raise Http404(_("This export is not ready."))
    if not rules.can_download_export(request.user, found):
        raise PermissionDenied(_("Only the person who asked for this export may download it."))
    return serve.export_response(found)


@login_required
@require_GET
def detail(request, pk):
    """An item's page. Opening it is logged in its chain of custody."""
    item = _item(request, pk)
    actions.evidence_record_access(
        item=item, actor=request.user, action=CustodyAction.VIEWED, ip=serve.client_ip(request)
    )
    return render(
        request,
        "incidents/evidence/detail.html",
        {"item": item, "incident": item.incident, "custody": selectors.custody_of(item)},
    )


@login_required
@require_GET
def original(request, pk):
    return serve.download_original(request, _item(request, pk))


@login_required
@require_GET
def thumbnail(request, pk):
    return serve.display_response(_item(request, pk), "thumbnail")


@login_required
@require_GET
def preview(request, pk):
    return serve.display_response(_item(request, pk), "preview")
