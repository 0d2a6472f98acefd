"""The notifications page, the bell (refreshed live) and "mark all as read"."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from . import actions, selectors

PAGE_SIZE = 30


@login_required
@require_GET
def notifications(request):
    page = Paginator(selectors.notifications_of(request.user), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, "notifications/list.html", {"page": page})


@login_required
@require_GET
def bell(request):
    return render(request, "notifications/_bell.html")


@login_required
@require_POST
def notifications_read(request):
    actions.notifications_mark_read(user=request.user)
    return redirect("notifications")
