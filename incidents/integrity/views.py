from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render

from incidents.models import Incident

from .checks import verify

FINDINGS_PER_PAGE = 50


def may_check(user) -> bool:
    return user.is_authenticated and user.is_active and user.is_staff


def integrity(request):
    """Staff only (404 for anyone else): every integrity finding, paginated. Re-hashing
    every original is on request (`files=1`): without it, each is checked for presence and
    size, and the page stays quick on a large locker."""
    if not may_check(request.user):
        raise Http404
    incident = None
    if (pk := request.GET.get("incident", "").strip()).isdigit() and len(pk) <= 18:
        incident = Incident.objects.filter(pk=int(pk)).first()
        if incident is None:
            raise Http404
    files = request.GET.get("files") == "1"
    findings = verify(incident=incident, files=files)
    page = Paginator(findings, FINDINGS_PER_PAGE).get_page(request.GET.get("page"))
    query = "&".join(
        part
        for part in (f"incident={incident.pk}" if incident else "", "files=1" if files else "")
        if part
    )
    return render(
        request,
        "integrity/integrity.html",
        {
            "page": page,
            "count": len(findings),
            "incident": incident,
            "files": files,
            "query": query,
        },
    )
