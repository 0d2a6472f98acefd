from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone

from . import rules, selectors
from .choices import Channel, Status

FAILURES_PER_PAGE = 50


def outbox_status(request):
    """Staff only (404 for anyone else), like /integrity/: queue depth per status and
    channel, the oldest pending message's age, and the failed messages, paginated."""
    if not rules.can_watch_outbox(request.user):
        raise Http404
    state = selectors.queue_state()
    page = Paginator(selectors.last_failures(), FAILURES_PER_PAGE).get_page(request.GET.get("page"))
    rows = [
        {
            "status": label,
            "counts": [state.depth[status][channel] for channel in Channel.values],
            "total": state.total(status),
        }
        for status, label in Status.choices
    ]
    return render(
        request,
        "outbox/status.html",
        {
            "channels": Channel.labels,
            "rows": rows,
            "oldest_pending": state.oldest_pending,
            "oldest_age": state.oldest_pending_age(timezone.now()),
            "page": page,
        },
    )
