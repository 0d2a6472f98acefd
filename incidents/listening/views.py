"""The listening pages: the Listening page (watches and their sparklines, open signals, the
mention stream, a watch's week), the room's mentions panel and a signal's page (the browser
import is import_views.py). Thin: reads through selectors, writes through actions.py.

Every panel is one template fed by one context function, rendered in the page and again
alone when the panel refreshes itself (live updates, htmx), with a constant number of
queries whatever the number of mentions.
"""

from datetime import UTC, datetime, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.formats import number_format
from django.utils.html import conditional_escape, format_html
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import reswap, retarget

from crisiscell.contacts import admins_to_ask
from incidents import permissions as incident_permissions
from incidents import rules as incident_rules
from incidents.errors import DomainError
from incidents.localtime import shown
from incidents.models import OPEN_STATUSES, Incident, Membership
from incidents.shortcuts import done, incident_or_404, perform

from . import actions, charts, curves, figures, rules, selectors
from .choices import Sentiment
from .forms import (
    AttachSelectedForm,
    DeclareFromSignalForm,
    ExpectedBurstForm,
    LinkSignalForm,
    StreamFilters,
    WatchForm,
)
from .matching import MAX_SEARCH_TERMS, TextSearch, search_refused
from .models import ExpectedBurst, Mention, Signal, Watch

STREAM_PAGE = 25
ROOM_PAGE = 10
SPARK_HOURS = 24
CHART_DAYS = 7
MAX_ATTACH_TARGETS = 20


def require_reader(request) -> None:
    if not rules.can_view_listening(request.user):
        raise PermissionDenied(
            rules.refusal(_("Listening data is shown to the people given access to it."))
        )


def attach_targets(user) -> list[Incident]:
    """The open incidents where `user` may attach mentions (the cell except observers)."""
    mine = Membership.objects.active().filter(
        incident=OuterRef("pk"), user=user, role__in=incident_permissions.WRITER_ROLES
    )
    qs = Incident.objects.filter(Exists(mine), status__in=OPEN_STATUSES).order_by("-declared_at")
    return list(qs.only("pk", "title")[:MAX_ATTACH_TARGETS])


# The Listening page


def _watches_context(watches) -> dict:
    now = timezone.now()
    volumes = selectors.hourly_volumes(
        [w.pk for w in watches], now - timedelta(hours=SPARK_HOURS - 1), SPARK_HOURS
    )
    learning = selectors.learning(watches, now)
    campaigns = selectors.running_campaigns([w.pk for w in watches], now)
    rows = [
        (w, charts.sparkline(volumes[w.pk]), learning.get(w.pk), campaigns.get(w.pk))
        for w in watches
    ]
    return {"watch_rows": rows}


def _mark_visible(user, signals) -> None:
    """`incident_visible` on each signal: whether `user` may open its incident (one query
    at most): the lists link it only then."""
    visible = selectors.visible_incident_ids(user, [s.incident_id for s in signals])
    for signal in signals:
        signal.incident_visible = signal.incident_id in visible


def _mark_opening(signals) -> None:
    """`opening` on each signal: its reason when it opened (selectors.known_opening: no
    query), None where only its latest peak's is known."""
    for signal in signals:
        signal.opening = selectors.known_opening(signal)


def source_notice_context(problems, url: str, *, room: bool = False) -> dict:
    """The notice of posts that may be missing (listening/_source_notice.html, above the
    stream and in the room's mentions panel): the platforms of the sources that are not
    working (`problems`, selectors.source_problems: "other sources" for a feed whose
    platform is not valid) and since when (stopped or failed: the signals panel's verb for
    that source), nothing of the sources themselves (the signals panel names them, to
    listening readers); `url` asks for it again every minute ("": never, a closed
    incident's)."""
    return {
        "missing_posts": problems.missing_on(),
        "missing_since": problems.missing_since,
        "missing_stopped": problems.missing_stopped,
        "source_notice_url": url,
        "source_notice_room": room,
    }


def _signals_context(request, problems) -> dict:
    """The open signals and the recently closed ones (RECENT_SIGNAL_DAYS, at most
    MAX_RECENT_SIGNALS_SHOWN, then a link to every signal), and what keeps them from being
    trusted (`problems`, selectors.source_problems: detection not running, a collector
    failing; the recorded error shown to those who may read collector states): two
    queries at most, and source_problems' own."""
    now = timezone.now()
    signals = list(selectors.open_signals()[: selectors.MAX_OPEN_SIGNALS_SHOWN])
    since = now - timedelta(days=selectors.RECENT_SIGNAL_DAYS)
    recent = list(selectors.recent_signals(since)[: selectors.MAX_RECENT_SIGNALS_SHOWN + 1])
    _mark_visible(request.user, signals + recent)
    _mark_opening(signals)
    return {
        "signals": signals,
        "recent_signals": recent[: selectors.MAX_RECENT_SIGNALS_SHOWN],
        "recent_more": len(recent) > selectors.MAX_RECENT_SIGNALS_SHOWN,
        "recent_days": selectors.RECENT_SIGNAL_DAYS,
        "source_problems": problems,
        "detection_late": any(problem.late for problem in problems),
        # A collector failing or stopped: "nothing abnormal" would hide that its posts miss.
        "sources_missing": bool(problems.platforms_missing),  # past the lines shown too
        # The recorded error holds addresses (a feed's query) that the admin shows only to
        # those who may read collector states.
        "source_errors_shown": request.user.has_perm("listening.view_collectorstate"),
    }


def _stream_context(request, watches, problems) -> dict:
    """The stream's page of mentions under its filters, and the posts that may be missing
    from it (`problems`, selectors.source_problems: said above it, and in its empty state
    when a platform it can show is concerned)."""
    form = StreamFilters(request.GET or None, watches=watches)
    filters, search = form.selectors_filters(), form.search()
    qs, before = selectors.mentions(**filters), selectors.parse_key(request.GET.get("before"))
    found = selectors.stream_page(qs, search=search, before=before, size=STREAM_PAGE)
    page, next_before, searched_to = found.mentions, found.next_before, found.searched_to
    ids = [m.pk for m in page]
    names = {w.pk: w.name for w in watches}
    matched = selectors.watch_ids_by_mention(ids) if ids else {}
    titles = selectors.visible_incident_titles(request.user, [m.incident_id for m in page])
    for mention in page:
        mention.watch_names = [names[w] for w in matched.get(mention.pk, []) if w in names]
        mention.visible_incident = mention.incident_id in titles
        mention.incident_title = titles.get(mention.incident_id, "")
    query = request.GET.copy()
    query.pop("before", None)
    newest_query = query.urlencode()
    older_query = None
    if next_before:
        query["before"] = selectors.key_text(*next_before)
        older_query = query.urlencode()
    return {
        "filters": form,
        "mentions": page,
        "older_query": older_query,
        "newest_query": newest_query,
        "searched_to": searched_to,
        "search_found": found,
        "text_search": search,  # the words found are marked in each post
        "search_scan": number_format(selectors.SEARCH_SCAN, force_grouping=True),
        "filtered": bool(filters or search or form.errors or form.search_ignored()),
        "search_ignored": form.search_ignored(),
        "search_truncated": bool(search and search.truncated),
        "search_terms_max": MAX_SEARCH_TERMS,
        "paged": bool(request.GET.get("before")),
        # The attach bar and forms only when a shown mention can still be attached.
        "attach_targets": attach_targets(request.user)
        if any(not m.incident_id for m in page)
        else [],
        "stream_query": request.GET.urlencode(),
        **source_notice_context(problems, reverse("listening-panel", args=["sources"])),
        "stream_missing": problems.missing_on(form.platforms()),
    }


def _chart_context(request, watches) -> dict:
    if not watches:
        return {}
    wanted = request.GET.get("chart") or request.GET.get("watch")
    chosen = next((w for w in watches if str(w.pk) == wanted), watches[0])
    end = timezone.now()
    width = timedelta(hours=1)
    start = (
        (end - timedelta(days=CHART_DAYS))
        .astimezone(UTC)
        .replace(minute=0, second=0, microsecond=0)
    )
    buckets = selectors.watch_series(chosen.pk, start, end, width)
    # Behind the volume, its normal range and the alert threshold (flat at zero before any
    # history); the hour in progress a bar of its mentions so far.
    baseline = charts.baseline(selectors.baseline_band(chosen, start, end, width), chosen)
    return {
        "chart_watch": chosen,
        "chart": charts.chart(buckets, width, baseline=baseline, end=end),
    }


def _watches(request):
    return list(selectors.watch_lines()[: selectors.MAX_WATCHES_SHOWN])


@login_required
@require_GET
def page(request):
    require_reader(request)
    watches = _watches(request)
    problems = selectors.source_problems(timezone.now())  # read once, said in two panels
    context = {
        **_watches_context(watches),
        **_signals_context(request, problems),
        **_stream_context(request, watches, problems),
        **_chart_context(request, watches),
        "can_import_files": rules.can_import_files(request.user),
        "can_edit_watches": rules.can_edit_watches(request.user),
    }
    return render(request, "listening/page.html", context)


@login_required
@require_GET
def panel(request, name):
    """One panel of the page, alone: its live refresh (htmx, panels.SIGNAL_PANELS); and
    the stream's notice of missing posts ("sources"), which asks again every minute as
    the signals panel does (a collector that stops sends no live event)."""
    require_reader(request)
    if name == "sources":
        problems = selectors.source_problems(timezone.now())
        url = reverse("listening-panel", args=["sources"])
        return render(
            request, "listening/_source_notice.html", source_notice_context(problems, url)
        )
    watches = _watches(request)
    if name == "watches":
        context = {**_watches_context(watches), **_chart_context(request, watches)}
        context["can_edit_watches"] = rules.can_edit_watches(request.user)
    elif name == "signals":
        context = _signals_context(request, selectors.source_problems(timezone.now()))
    elif name == "stream":
        context = _stream_context(request, watches, selectors.source_problems(timezone.now()))
    else:
        raise Http404()
    return render(request, f"listening/_{name}.html", context)


@login_required
@require_POST
def mention_attach(request, pk):
    """The stream's "Attach to incident…": the chosen incident among the person's own; and
    the room panel's Undo of a detach (with htmx), which whoever detached the mention may
    use without listening access for rules.UNDO_DETACH (rules.may_attach). A refused Undo
    says why (rules.attach_refusal: which mention, and which incident took it since, to
    whoever may see it, linked to its room) in place of its form, so it is offered no more
    (_undo_refused). Without htmx, back to `next` (the page the form was on), else to the
    Listening page, or to the incident's room for someone who may not read it; a refusal
    there is said beside the room's mentions panel (_panel_refused)."""
    reader = rules.can_view_listening(request.user)
    if not reader and not request.POST.get("incident"):
        require_reader(request)
    try:
        incident = incident_or_404(request, int(request.POST.get("incident", "")))
    except ValueError:
        raise Http404() from None
    # Asked before the mention is looked up: whether an id exists is listening data.
    if not rules.may_attach(request.user, incident, [pk]):
        # Named without JavaScript only: with htmx the panel's "Detached:" line stays above.
        refusal = rules.attach_refusal(request.user, incident, [pk], named=not request.htmx)
        if request.htmx:
            return _undo_refused(refusal)
        return _panel_refused(request, incident, refusal)
    mention = get_object_or_404(Mention, pk=pk)
    panel = reverse("incident-room", args=[incident.pk]) + f"#{PANEL_MESSAGES}"
    back = _back(request, None if reader else panel)
    try:
        attached = actions.mention_attach(mention=mention, incident=incident, actor=request.user)
    except DomainError as error:
        if request.htmx:
            return _undo_refused(error.message)
        messages.error(request, conditional_escape(error.message), extra_tags=PANEL_MESSAGES)
        return redirect(back)
    if request.htmx:
        return done(request, incident, _("Mention attached again."))
    if attached:
        # Said at the room's mentions panel when back there (other pages say every message).
        said = _("Attached to “%(t)s”.") % {"t": incident.title}
        messages.success(request, said, extra_tags=PANEL_MESSAGES)
    return redirect(back)


# The room's mentions panel: its anchor, and the tag of the messages the room shows at its
# top rather than at the top of the page (templates/listening/_room_section.html; any
# other page shows them with the others).
PANEL_MESSAGES = "mentions-panel"


def _panel_refused(request, incident, message: str):
    """A refusal of the panel's Detach or Undo without JavaScript: back at the panel in the
    room, the message said there (a page opened at an anchor is scrolled away from the
    messages at its top). A message stores text: conditional_escape keeps the links of a
    sentence that has them (rules.Linked)."""
    messages.error(request, conditional_escape(message), extra_tags=PANEL_MESSAGES)
    return redirect(reverse("incident-room", args=[incident.pk]) + f"#{PANEL_MESSAGES}")


def _undo_refused(message: str):
    """A refused Undo with htmx (422): the refusal replaces the Undo's form (the button
    goes at once: the server said no), beside the mention it names; the panel's next
    refresh drops the line."""
    response = HttpResponse(
        format_html('<p class="form-error" role="alert">{}</p>', message), status=422
    )
    return reswap(retarget(response, "this"), "outerHTML")


def _back(request, fallback: str | None = None) -> str:
    """The page to return to (`next`, a path on this site), else `fallback`, else the
    Listening page."""
    back = request.POST.get("next") or ""
    # Django's own check: `/\evil.example` and `/\t/evil.example` are other sites to a
    # browser (a backslash is a slash, a tab is dropped), though they start with one "/".
    local = back.startswith("/") and url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return back if local and len(back) <= 2000 else fallback or reverse("listening")


# Mentions the confirmation names, by group; the rest are counted.
CONFIRM_LISTED = 50


@login_required
@require_POST
def mentions_attach(request):
    """The stream's "Attach selected to incident…" (AttachSelectedForm), in two steps.
    Without `confirm`: a page naming the incident and what will happen to each selected
    mention (attached, already attached to it, left on another incident), and a button that
    sends the same selection with `confirm`. With it: actions.mentions_attach once (one
    timeline entry), then back to `next` with how many were attached and which were left
    on another incident. A refused selection (none, over MAX_ATTACH, unknown ids, an
    incident the person may not attach to) is said on that page (422 or 403)."""
    require_reader(request)
    back = _back(request)
    form = AttachSelectedForm(request.POST)
    context = {"form": form, "back": back}
    if not form.is_valid():
        return render(request, "listening/attach_selected.html", context, status=422)
    incident = incident_or_404(request, form.cleaned_data["incident"])
    ids = form.cleaned_data["mentions"]
    if request.POST.get("confirm"):
        try:
            result = actions.mentions_attach(mention_ids=ids, incident=incident, actor=request.user)
        except DomainError as error:
            context.update(incident=incident, refused=error.message)
            status = 422 if error.status_code == 400 else error.status_code
            return render(request, "listening/attach_selected.html", context, status=status)
        _report_attached(request, incident, result)
        return redirect(back)
    context["incident"] = incident
    try:  # the action's own rules, checked now so that nobody confirms in vain
        incident_rules.require(request.user, incident, incident_rules.WRITE_TIMELINE)
        actions.require_not_closed(incident, "attach")
    except DomainError as error:
        context["refused"] = error.message
        return render(request, "listening/attach_selected.html", context, status=error.status_code)
    mentions = list(Mention.objects.filter(pk__in=ids).order_by("-posted_at", "-pk"))
    if len(mentions) != len(ids):
        context["refused"] = _("Some of these mentions do not exist.")
        return render(request, "listening/attach_selected.html", context, status=422)
    fresh = [m for m in mentions if m.incident_id is None]
    already = [m for m in mentions if m.incident_id == incident.pk]
    elsewhere = [m for m in mentions if m.incident_id not in (None, incident.pk)]
    visible = selectors.visible_incident_ids(request.user, [m.incident_id for m in elsewhere])
    titles = dict(
        Incident.objects.filter(pk__in=visible).values_list("pk", "title")[:CONFIRM_LISTED]
    )
    for mention in elsewhere:
        mention.elsewhere_title = titles.get(mention.incident_id, "")
    context.update(
        ids=[m.pk for m in mentions],
        fresh=fresh[:CONFIRM_LISTED],
        fresh_count=len(fresh),
        fresh_not_listed=max(0, len(fresh) - CONFIRM_LISTED),
        already_count=len(already),
        elsewhere=elsewhere[:CONFIRM_LISTED],
        elsewhere_count=len(elsewhere),
        elsewhere_not_listed=max(0, len(elsewhere) - CONFIRM_LISTED),
    )
    return render(request, "listening/attach_selected.html", context)


def _report_attached(request, incident, result) -> None:
    n = len(result.attached)
    if n:
        message = ngettext(
            "%(n)s mention attached to “%(t)s”.", "%(n)s mentions attached to “%(t)s”.", n
        )
        messages.success(request, message % {"n": n, "t": incident.title})
    elif result.already and not result.elsewhere:
        messages.info(
            request, _("These mentions were already attached to “%(t)s”.") % {"t": incident.title}
        )
    if result.elsewhere:
        handles = [
            m.author_handle_shown
            for m in Mention.objects.filter(pk__in=result.elsewhere[:5]).only(
                "author_handle", "platform"
            )
        ]
        message = ngettext(
            "%(n)s mention was left where it was: already attached to another incident (%(who)s).",
            "%(n)s mentions were left where they were: already attached to another incident "
            "(%(who)s).",
            len(result.elsewhere),
        )
        who = ", ".join(h or "?" for h in handles)
        if len(result.elsewhere) > 5:
            who += ", …"
        messages.warning(request, message % {"n": len(result.elsewhere), "who": who})


# A watch's page: new and edit (docs/user-guide.md, "Listening")


def _require_editor(request) -> None:
    require_reader(request)
    if not rules.can_edit_watches(request.user):
        raise PermissionDenied(
            rules.refusal(_("Only people allowed to change watches can do this."))
        )


def _watch_saved(request, watch, message, *, stream=False, level=messages.SUCCESS):
    """Back to the Listening page with `message` (its "%(name)s" the watch's name) and the
    watch highlighted with its chart; with `stream`, the stream shows only its mentions."""
    messages.add_message(request, level, message % {"name": watch.name})
    # No #anchor, which would scroll the message away.
    query = f"chart={watch.pk}&watch={watch.pk}" if stream else f"chart={watch.pk}"
    return redirect(f"{reverse('listening')}?{query}")


@login_required
@require_http_methods(["GET", "POST"])
def watch_new(request):
    """Create a watch (rules.can_edit_watches, else 403) through actions.watch_create; a
    refused value is shown beside its field (422), nothing saved."""
    _require_editor(request)
    form = WatchForm(request.POST or None, creator=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            watch = actions.watch_create(actor=request.user, **form.watch_values())
        except DomainError as error:
            form.add_action_error(error)
        else:
            days = form.cleaned_data.get("apply_since")
            if not watch.is_active:
                message = _("Watch “%(name)s” saved.")  # created stopped: it collects nothing
            elif days:
                message = _("Watch “%(name)s” created: it collects new posts from now on.")
                return _sort_again_then_saved(request, watch, message, days, new=True)
            else:
                message = _(
                    "Watch “%(name)s” created: it collects from now on, and alerts once it "
                    "knows an hour of its usual volume (see its line below); sort the posts "
                    "already collected into it (Edit) or import older posts to give it that "
                    "history now."
                )
            return _watch_saved(request, watch, message)
    status = 422 if form.is_bound else 200
    return render(
        request, "listening/watch_form.html", {"form": form, "watch": None}, status=status
    )


@login_required
@require_http_methods(["GET", "POST"])
def watch_edit(request, pk):
    """Change a watch through actions.watch_update, with only the fields that differ from
    the watch as the page showed it (WatchForm.watch_values): someone else's save meanwhile
    stays, and for one field the last save wins. Unticking "Active" stops the watch (no
    delete: watches are never deleted)."""
    _require_editor(request)
    watches = selectors.with_upcoming_campaigns(Watch.objects.all(), timezone.now())
    watch = get_object_or_404(watches.prefetch_related("subscribers"), pk=pk)
    was_active = watch.is_active
    form = WatchForm(request.POST or None, watch=watch)
    if request.method == "POST" and form.is_valid():
        try:
            watch = actions.watch_update(watch=watch, actor=request.user, **form.watch_values())
        except DomainError as error:
            form.add_action_error(error)
        else:
            if was_active and not watch.is_active:
                message = _(
                    "Watch “%(name)s” stopped: it no longer collects mentions nor alerts anyone."
                )
            elif watch.is_active and not was_active:
                message = _("Watch “%(name)s” resumed: it collects from now on.")
            else:
                message = _("Watch “%(name)s” saved.")
            days = form.cleaned_data["apply_since"]
            if not days:
                return _watch_saved(request, watch, message)
            return _sort_again_then_saved(request, watch, message, days)
    status = 422 if form.is_bound else 200
    context = {"form": form, "watch": watch, "upcoming_campaigns": watch.upcoming_campaigns}
    return render(request, "listening/watch_form.html", context, status=status)


def _sort_again_then_saved(request, watch, message, days, *, new=False):
    """The watch just saved (`new`: created) sorts the posts of the last `days` days
    (actions.watch_rematch), then back to the Listening page on its mentions, the message
    saying what it did."""
    level = messages.SUCCESS
    try:
        result = actions.watch_rematch(watch=watch, actor=request.user, days=days)
    except DomainError as error:  # stopped in this same save, or changed meanwhile
        sorted_again, level = str(error), messages.WARNING
    else:
        sorted_again = _first_sort_message(result) if new else rematch_message(result)
    # "%" of the result's words kept as is by the name's formatting.
    message = f"{message} {sorted_again.replace('%', '%%')}"
    # The stream on the watch's mentions, where those that joined now are.
    return _watch_saved(request, watch, message, stream=True, level=level)


def _first_sort_message(result) -> str:
    """What sorting the posts already collected into a new watch did (nothing can leave)."""
    since = shown(result.since, zone=True)
    if not result.read:
        return _("No post was collected since %(since)s: none to sort into it.") % {"since": since}
    read = number_format(result.read, force_grouping=True)
    if not result.added:
        message = _(
            "None of the posts collected since %(since)s (%(read)s read) matches it yet."
        ) % {"since": since, "read": read}
    else:
        message = ngettext(
            "%(n)s post of those collected since %(since)s (%(read)s read) matches it: it "
            "joined the watch.",
            "%(n)s posts of those collected since %(since)s (%(read)s read) match it: they "
            "joined the watch.",
            result.added,
        ) % {"read": read, "since": since, "n": number_format(result.added, force_grouping=True)}
    if result.capped:
        message += " " + _("Only the newest were read.")
    return message


def rematch_message(result) -> str:
    """What sorting again did, in a sentence (actions.RematchResult)."""
    since = shown(result.since, zone=True)
    if not result.read:
        return _("No post was published since %(since)s: nothing to sort again.") % {"since": since}
    joined = ngettext("%(n)s joined the watch", "%(n)s joined the watch", result.added) % {
        "n": number_format(result.added, force_grouping=True)
    }
    left = ngettext(
        "%(n)s left it (still stored)", "%(n)s left it (still stored)", result.removed
    ) % {"n": number_format(result.removed, force_grouping=True)}
    message = ngettext(
        "Sorted again: %(read)s post published since %(since)s; %(joined)s, %(left)s.",
        "Sorted again: %(read)s posts published since %(since)s; %(joined)s, %(left)s.",
        result.read,
    ) % {
        "read": number_format(result.read, force_grouping=True),
        "since": since,
        "joined": joined,
        "left": left,
    }
    if result.capped:
        message += " " + _("Only the newest were read: older ones keep their watches.")
    if result.signals_closed:
        message += " " + ngettext(
            "%(n)s open signal held only posts the watch no longer matches: it is closed.",
            "%(n)s open signals held only posts the watch no longer matches: they are closed.",
            result.signals_closed,
        ) % {"n": result.signals_closed}
    return message


# A watch's planned campaigns (expected bursts): listed, added, changed and deleted by
# whoever may change watches (docs/user-guide.md, "Planned campaigns").


def _campaigns_url(watch) -> str:
    return reverse("listening-watch-campaigns", kwargs={"pk": watch.pk})


def _campaigns_page(request, watch, form, *, status=200):
    now = timezone.now()
    can_edit_watches = rules.can_edit_watches(request.user)
    freezes = _campaign_freezes(request, planner=can_edit_watches)
    context = {
        "watch": watch,
        "form": form,
        "campaigns": selectors.planned_campaigns(watch, now, freezes),
        "upcoming_shown": selectors.UPCOMING_BURSTS_SHOWN,
        "past_shown": selectors.PAST_BURSTS_SHOWN,
        "max_days": actions.MAX_BURST_LENGTH.days,
        "now": now,
        "can_edit_watches": can_edit_watches,
        "freezes": freezes,
        "admins": admins_to_ask(),  # whom to ask of a freeze it may not name
    }
    return render(request, "listening/campaigns.html", context, status=status)


def _campaign_freezes(request, *, planner: bool) -> selectors.CampaignFreezes:
    return selectors.campaign_freezes(request.user, planner=planner)


def _campaign_saved(request, burst) -> None:
    """Say a campaign was saved, and warn when a promotion freeze concerns it (whoever
    saves may change watches: told of a freeze they may not see too, unnamed)."""
    message = _("Planned campaign saved: %(window)s.") % {"window": burst.window_shown()}
    messages.success(request, message)
    if _campaign_freezes(request, planner=True).concerns(burst, timezone.now()):
        messages.warning(request, selectors.DURING_FREEZE_WARNING)


@login_required
@require_GET
def campaign_freeze(request):
    """The campaigns pages' promotion freeze notice alone: its live refresh (panel
    `promotion-freeze`, for the frozen incidents' cells; every minute for the others,
    whom no event reaches: panels.SIGNAL_PANELS)."""
    require_reader(request)
    freezes = _campaign_freezes(request, planner=rules.can_edit_watches(request.user))
    context = {"freezes": freezes, "admins": admins_to_ask()}
    return render(request, "listening/_campaign_freeze.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def watch_campaigns(request, pk):
    """The watch's planned campaigns (running and upcoming, then the recent past ones),
    read by every listening reader (why a watch's alerts are quiet); for those who may
    change watches, the form adding one through actions.expected_burst_save (a refused
    value is shown beside its field, 422, as typed)."""
    if request.method == "POST":
        _require_editor(request)
    require_reader(request)
    watch = get_object_or_404(Watch, pk=pk)
    form = ExpectedBurstForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            burst = actions.expected_burst_save(
                burst=form.burst(ExpectedBurst(watch=watch)), actor=request.user
            )
        except DomainError as error:
            form.add_action_error(error)
        else:
            _campaign_saved(request, burst)
            return redirect(_campaigns_url(watch))
    return _campaigns_page(request, watch, form, status=422 if form.is_bound else 200)


def _campaign(request, pk, burst_pk) -> ExpectedBurst:
    _require_editor(request)
    return get_object_or_404(ExpectedBurst.objects.select_related("watch"), pk=burst_pk, watch=pk)


@login_required
@require_http_methods(["GET", "POST"])
def campaign_edit(request, pk, burst_pk):
    """Change a planned campaign that has not ended (an ended one is kept as it was:
    rules.burst_is_open; its link is not shown, and opening it says so)."""
    burst = _campaign(request, pk, burst_pk)
    if request.method == "GET" and not rules.burst_is_open(burst, timezone.now()):
        messages.info(request, _("This planned campaign has ended: it is kept as it was."))
        return redirect(_campaigns_url(burst.watch))
    form = ExpectedBurstForm(request.POST or None, burst=burst)
    status = 422 if form.is_bound else 200
    if request.method == "POST" and form.is_valid():
        try:
            changed = form.changed_fields(burst)  # before form.burst() types into it
            burst = actions.expected_burst_save(
                burst=form.burst(burst), actor=request.user, fields=changed
            )
        except DomainError as error:
            form.add_action_error(error)
            status = 409 if error.status_code == 409 else status
        else:
            _campaign_saved(request, burst)
            return redirect(_campaigns_url(burst.watch))
    context = {
        "watch": burst.watch,
        "burst": burst,
        "form": form,
        "max_days": actions.MAX_BURST_LENGTH.days,
        "freezes": _campaign_freezes(request, planner=True),  # an editor's page
        "admins": admins_to_ask(),
    }
    return render(request, "listening/campaign_form.html", context, status=status)


@login_required
@require_POST
def campaign_delete(request, pk, burst_pk):
    """Delete a planned campaign that has not started, or end a running one now (the
    page's button asks first)."""
    burst = _campaign(request, pk, burst_pk)
    window = burst.window_shown()
    try:
        done = actions.expected_burst_delete(burst=burst, actor=request.user)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        message = _("Planned campaign deleted: %(window)s.")
        if done == "ended":
            message = _("Planned campaign ended now, and kept: %(window)s.")
        messages.success(request, message % {"window": window})
    return redirect(_campaigns_url(burst.watch))


# The room's mentions panel

ROOM_SENTIMENT = "mentions_sentiment"
ROOM_SEARCH = "mentions_q"
ROOM_BEFORE = "mentions_before"
ROOM_BUCKETS = 48


ROOM_BEFORE_MIN, ROOM_BEFORE_MAX = timedelta(hours=1), timedelta(hours=6)
ROOM_BUCKET_MINUTES = 10


def room_chart_span(declared_at, first_posted_at, end) -> tuple[datetime, timedelta]:
    """(start, bucket width) of the room's mentions chart: an hour before the declaration,
    or before the first mention attached when it came later (a wave hours after a
    declaration by hand is not a sliver at the end of hours of zeros), from the earliest
    mention when it came before, at most six hours before the declaration, to `end`; in
    buckets of 10 minutes while that makes at most ROOM_BUCKETS (a wave of twenty minutes
    is two bars, not a sliver of one hourly bar), else of whole hours (grouped by hour in
    the database), the start on a bucket's boundary."""
    start = declared_at - ROOM_BEFORE_MIN
    if first_posted_at is not None:
        start = max(declared_at, first_posted_at) - ROOM_BEFORE_MIN
        start = max(min(start, first_posted_at), declared_at - ROOM_BEFORE_MAX)
    minutes = max(1, -(-int((end - start).total_seconds()) // 60))
    per_bucket = ROOM_BUCKET_MINUTES * -(-minutes // (ROOM_BUCKET_MINUTES * ROOM_BUCKETS))
    if per_bucket > ROOM_BUCKET_MINUTES:
        per_bucket = 60 * -(-per_bucket // 60)
    width = timedelta(minutes=per_bucket)
    epoch = datetime(2000, 1, 1, tzinfo=UTC)
    return start - (start - epoch) % width, width


def room_panel_context(request, incident) -> dict:
    """The room's mentions panel: `mentions` (a page, newest first, filtered by
    ?mentions_sentiment= and searched by ?mentions_q=, as the stream's search), the query
    string that keeps both (`mentions_query`) and each sentiment chip's (in
    `mention_counts`: under a search, the posts it matches, as "All" in `chips_total`),
    `mention_chart` (volume and negative share over room_chart_span, ending now while it
    is open), `incident_signals` (the signals it was declared from or linked to, to
    listening readers), `can_detach` with `detach_confirm` (what it does, said to this
    viewer), `undo_detached` (the mentions this viewer just detached: "Undo"), and while
    it is open the platforms whose posts may be missing (`room_source_notice`).
    Nine queries at most; a search reads its posts in at most five
    more (selectors.search_page) and counts its matches by sentiment in as many
    (selectors.search_tally)."""
    reader = rules.can_view_listening(request.user)
    sentiment = request.GET.get(ROOM_SENTIMENT, "")
    if sentiment not in Sentiment.values:
        sentiment = ""
    typed = request.GET.get(ROOM_SEARCH, "")
    refused = search_refused(typed)
    if refused:
        typed = ""
    search = TextSearch(typed) or None
    qs = selectors.mentions(incident=incident, sentiment=sentiment or None)
    before = selectors.parse_key(request.GET.get(ROOM_BEFORE))
    found = selectors.stream_page(qs, search=search, before=before, size=ROOM_PAGE)
    page, next_before, searched_to = found.mentions, found.next_before, found.searched_to
    ignored = bool(typed.strip()) and not search
    typed = typed.strip() if search else ""
    # Open (actions.require_not_closed), and the viewer writes its timeline.
    can_detach = incident.is_open and incident_permissions.can_write_timeline(
        request.user, incident
    )

    def query(sentiment):
        return urlencode({ROOM_SENTIMENT: sentiment, **({ROOM_SEARCH: typed} if typed else {})})

    tally = selectors.incident_tally(incident)
    total = sum(tally.counts.values())
    # The chips count what the list shows: under a search, the posts it matches (of every
    # sentiment, read as its pages read them), else every mention attached.
    searched = (
        selectors.search_tally(selectors.mentions(incident=incident), search=search)
        if search and total
        else None
    )
    counts = searched.counts if searched else tally.counts
    end = incident.closed_at or timezone.now()
    start, width = room_chart_span(incident.declared_at, tally.first_posted_at, end)
    # The last bucket may still be filling; the chart stops at `end` (now while the
    # incident is open) and says the last one is incomplete, never a future hour drawn as
    # zeros.
    chart = (
        charts.chart(selectors.incident_series(incident, start, end, width), width, end=end)
        if total
        else None
    )
    return {
        "mentions": page,
        "mentions_older": selectors.key_text(*next_before) if next_before else "",
        "mentions_paged": bool(request.GET.get(ROOM_BEFORE)),
        "searched_to": searched_to,
        "search_found": found,
        "text_search": search,  # the words found are marked in each post
        "search_scan": number_format(selectors.SEARCH_SCAN, force_grouping=True),
        # A chip shows its sentiment, or every one again when it is the current one.
        "mention_counts": [
            (value, label, counts[value], query("" if value == sentiment else value))
            for value, label in Sentiment.choices
        ],
        "mentions_total": total,
        "chips_total": sum(counts.values()),
        "chips_counted_all": searched.counted_all if searched else True,
        "mentions_sentiment": sentiment,
        "mentions_q": typed,
        "search_ignored": ignored,
        "search_refused": refused,
        "search_truncated": bool(search and search.truncated),
        "search_terms_max": MAX_SEARCH_TERMS,
        # The page shown, which the panel's live refresh asks for again.
        "mentions_before": selectors.key_text(*before) if before else "",
        "mentions_query": query(sentiment),
        "mention_chart": chart,
        "can_detach": can_detach,
        "detach_confirm": _detach_confirm(reader) if can_detach else "",
        # Just detached by this viewer: offered again ("Undo"), to listening readers or not.
        "undo_detached": (
            selectors.undoable_detaches(incident, request.user, timezone.now())
            if can_detach
            else []
        ),
        **room_source_notice(incident),
        "can_view_listening": reader,
        "incident_signals": (
            list(selectors.incident_signals(incident)[: selectors.MAX_INCIDENT_SIGNALS_SHOWN])
            if reader
            else []
        ),
    }


def room_source_notice(incident) -> dict:
    """The room's notice of missing posts (source_notice_context), to every member who sees
    the panel: only the platforms and since when. While the incident is open (two queries
    at most); a closed one's mentions are a record, not the current buzz."""
    if not incident.is_open:
        return source_notice_context(selectors.SourceProblems(), "", room=True)
    url = reverse("incident-mentions-sources", args=[incident.pk])
    return source_notice_context(selectors.source_problems(timezone.now()), url, room=True)


def _detach_confirm(reader: bool) -> str:
    """What a detach does, as the viewer will live it: a listening reader still finds the
    mention in the stream; anyone else can only Undo it for rules.UNDO_DETACH."""
    if reader:
        return _(
            "Detach this mention from the incident? It stays in the listening stream, and the "
            "timeline records it."
        )
    minutes = rules.undo_minutes()
    return ngettext(
        "Detach this mention from the incident? The timeline records it. You can attach it "
        "again (Undo) for %(minutes)s minute; after that, only people with access to "
        "listening data can.",
        "Detach this mention from the incident? The timeline records it. You can attach it "
        "again (Undo) for %(minutes)s minutes; after that, only people with access to "
        "listening data can.",
        minutes,
    ) % {"minutes": minutes}


@login_required
@require_GET
def room_panel(request, pk):
    incident = incident_or_404(request, pk)
    context = {"incident": incident, **room_panel_context(request, incident)}
    # `?whole=1`: the placeholder of a room that had nothing to show asks for the whole
    # section (it replaces itself) once an event says mentions were attached.
    template = "_room_section.html" if request.GET.get("whole") else "_room_panel.html"
    return render(request, f"listening/{template}", context)


@login_required
@require_GET
def room_sources(request, pk):
    """The room's notice of missing posts alone: it asks again every minute."""
    incident = incident_or_404(request, pk)
    context = {
        **room_source_notice(incident),
        "can_view_listening": rules.can_view_listening(request.user),
    }
    return render(request, "listening/_source_notice.html", context)


@login_required
@require_POST
def mention_detach(request, pk, mention_pk):
    """The room panel's Detach (answered as the room's actions are; without htmx, done, back
    at the panel, where its Undo is offered, or refused, said there)."""
    incident = incident_or_404(request, pk)
    mention = get_object_or_404(Mention, pk=mention_pk, incident=incident)
    if request.htmx:
        return perform(
            request,
            incident,
            _("Mention detached."),
            actions.mention_detach,
            mention=mention,
            incident=incident,
        )
    try:
        actions.mention_detach(mention=mention, incident=incident, actor=request.user)
    except DomainError as error:
        return _panel_refused(request, incident, error.message)
    messages.success(request, _("Mention detached."), extra_tags=PANEL_MESSAGES)
    return redirect(reverse("incident-room", args=[incident.pk]) + f"#{PANEL_MESSAGES}")


# A signal's own page: its curve against the baseline band, what it is made of, and
# "Declare an incident" (the alert's link, the Listening page's signal lists).

SIGNALS_PAGE = 25


def _opened_text(signal, opening) -> str:
    """The "signal opened" mark's label: its time and the figure it opened on."""
    when = formats.time_format(timezone.localtime(signal.opened_at), "TIME_FORMAT")
    if not opening:
        return _("signal opened %(time)s") % {"time": when}
    if opening.get("kind") == "tone":
        return _("signal opened %(time)s: %(negative)s%% negative") % {
            "time": when,
            "negative": opening["negative"],
        }
    return _("signal opened %(time)s: %(mentions)s in %(minutes)s min") % {
        "time": when,
        "mentions": opening["mentions"],
        "minutes": opening["minutes"],
    }


def _signal_chart(signal, opening=None):
    """The curve (curves.signal_curve: the API's buckets, on fixed clock boundaries) with
    the signal's marks, its normal range and alert threshold, and the window it opened on
    (`opening`, selectors.known_opening) shaded, its figure at the "opened" mark."""
    curve = curves.signal_curve(signal)
    marks = [
        ("started", signal.started_at),
        ("opened", signal.opened_at),
        ("closed", signal.closed_at),
    ]
    trigger = None
    if opening and opening.get("minutes"):
        trigger = (signal.opened_at - timedelta(minutes=opening["minutes"]), signal.opened_at)
    return charts.chart(
        curve.buckets,
        curve.width,
        baseline=charts.baseline(curve.band, signal.watch),
        end=curve.end,
        marks=marks,
        mark_texts={"opened": _opened_text(signal, opening)},
        trigger=trigger,
    )


@login_required
@require_http_methods(["GET", "POST"])
def signal_page(request, pk):
    require_reader(request)
    signal = get_object_or_404(
        Signal.objects.select_related("watch", "first_mention", "incident"), pk=pk
    )
    defaults = actions.signal_declare_defaults(signal)
    linking = request.POST.get("step") == "link"
    form = DeclareFromSignalForm(None if linking else request.POST or None, initial=defaults)
    link_form = LinkSignalForm(request.POST if linking else None, user=request.user)
    elsewhere = []
    if signal.incident_id is None:
        elsewhere = selectors.signal_incidents_elsewhere(signal, request.user, timezone.now())
        # Suggested only where this person may link it (an open incident of theirs).
        offered = set(
            link_form.fields["incident"]
            .queryset.filter(pk__in=[pk for pk, _n in elsewhere])
            .values_list("pk", flat=True)
        )
        elsewhere = [(pk, n) for pk, n in elsewhere if pk in offered]
        if elsewhere:
            link_form.initial = {"incident": elsewhere[0][0]}
    status = 200
    if linking:
        if link_form.is_valid():
            incident = link_form.cleaned_data["incident"]
            try:
                attached = actions.signal_link(signal=signal, incident=incident, actor=request.user)
            except DomainError as error:
                messages.error(request, error.message)
                return redirect("listening-signal", pk=signal.pk)
            messages.success(
                request,
                ngettext(
                    "Signal linked to “%(title)s”; %(n)s of its mentions attached.",
                    "Signal linked to “%(title)s”; %(n)s of its mentions attached.",
                    attached,
                )
                % {"title": incident.title, "n": attached},
            )
            return redirect("incident-room", pk=incident.pk)
        # One field: its refusal as a message above the page, which may offer no form.
        messages.error(request, " ".join(link_form.errors.get("incident", [])))
        return redirect("listening-signal", pk=signal.pk)
    elif request.method == "POST":
        if form.is_valid():
            try:
                incident = actions.signal_declare(
                    signal=signal, actor=request.user, **form.cleaned_data
                )
            except DomainError as error:
                messages.error(request, error.message)
                return redirect("listening-signal", pk=signal.pk)
            attached = Mention.objects.filter(incident=incident).count()
            if attached:
                done = ngettext(
                    "Incident declared; %(n)s of the signal's mentions attached.",
                    "Incident declared; %(n)s of the signal's mentions attached.",
                    attached,
                ) % {"n": attached}
            else:
                done = _(
                    "Incident declared; none of the signal's mentions was attached: they are "
                    "in another incident already."
                )
            messages.success(request, done)
            return redirect("incident-room", pk=incident.pk)
        status = 422
    summary = signal.summary or {}
    samples = list(Mention.objects.filter(pk__in=summary.get("samples", [])[:10]))
    visible = selectors.visible_incident_ids(request.user, [signal.incident_id])
    opening = selectors.known_opening(signal)
    latest = summary.get("trigger")
    chart = _signal_chart(signal, opening)
    context = {
        "signal": signal,
        "chart": chart,
        "chart_label": _("Mentions %(per)s against their normal range and alert threshold")
        % {"per": chart.per},
        # Why it opened, fixed; the latest peak's window beside it when it says otherwise.
        "opening": opening,
        "latest_trigger": latest if latest and latest != opening else None,
        "expected_shown": figures.expected(signal.expected),
        "expected_n": figures.expected_count(signal.expected),
        "terms": selectors.telling_terms(summary.get("terms", []), signal.watch),
        "authors": figures.authors(summary),
        "split": summary.get("sentiment", {}),
        "samples": samples,
        "incident_visible": signal.incident_id in visible,
        "nobody_alerted": not selectors.alerted(signal.watch).exists(),
        "can_edit_watches": rules.can_edit_watches(request.user),
        "declare_form": form,
        "link_form": link_form,
        "elsewhere": [(Incident.objects.only("title").get(pk=pk), n) for pk, n in elsewhere[:1]],
    }
    return render(request, "listening/signal.html", context, status=status)


@login_required
@require_GET
def signal_list(request):
    """Every signal, newest first, SIGNALS_PAGE at a time ("Older" links: keyset cursor)."""
    require_reader(request)
    page, older = selectors.signals_page(
        before=selectors.parse_key(request.GET.get("before")), size=SIGNALS_PAGE
    )
    _mark_visible(request.user, page)
    context = {
        "signals": page,
        "older": selectors.key_text(page[-1].opened_at, page[-1].pk) if older else "",
        "paged": bool(request.GET.get("before")),
    }
    return render(request, "listening/signals.html", context)
