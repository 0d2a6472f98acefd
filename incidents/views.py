"""Browser pages of the committee. Thin: read through selectors, write through actions.

Mutations answer htmx with an empty 200 and an `incident-changed` trigger: every panel of
the room listens for it and refreshes itself (the live WebSocket will fire the same event).
A refused action answers 422 with its message, which the form shows in place. Without
JavaScript the same forms post normally and redirect back with a message.
"""

import re

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import trigger_client_event

from . import actions, events, extensions, panels, permissions, rules, selectors
from .choices import Category
from .errors import DomainError
from .forms import (
    HandOverForm,
    IncidentDetailsForm,
    MemberAddForm,
    RoleForm,
    TimelineEntryForm,
    TimelineFilterForm,
)
from .models import Severity, Status
from .people import display_name
from .shortcuts import CHANGED, incident_or_404, perform, refused

User = get_user_model()
TIMELINE_PAGE = 50
RESYNC_PAGE = 200  # entries per catch-up page of a live client
MORE_HEADER = "X-Timeline-More"


def _form_error_text(form) -> str:
    return " ".join(str(e) for errors in form.errors.values() for e in errors)


def _run(request, incident, action, success_message, *, say=False, **kwargs):
    return perform(request, incident, success_message, action, incident=incident, say=say, **kwargs)


@login_required
@require_GET
def dashboard(request):
    show_closed = request.GET.get("show") == "all"
    incidents = selectors.incidents_for_list(request.user, open_only=not show_closed)
    # One category only (the room's "Has this happened before?" links here for the rest).
    category = request.GET.get("category", "")
    if category not in Category.values:
        category = ""
    if category:
        incidents = incidents.filter(category=category)
    page = Paginator(incidents, 25).get_page(request.GET.get("page"))
    return render(
        request,
        "incidents/dashboard.html",
        {
            "page": page,
            "show_closed": show_closed,
            "category": category,
            "category_label": Category(category).label if category else "",
            "can_view_metrics": permissions.can_view_metrics(request.user),
        },
    )


@login_required
def edit(request, pk):
    incident = incident_or_404(request, pk, require=rules.requirement(rules.EDIT_DETAILS))
    fields = ("title", "summary", "category", "origin", "platforms", "detected_at")
    initial = {f: getattr(incident, f) for f in fields}
    form = IncidentDetailsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        changes = {k: v for k, v in form.cleaned_data.items() if k != "detected_at" or v}
        try:
            actions.incident_update(incident=incident, actor=request.user, **changes)
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Details saved."))
            return redirect("incident-room", pk=incident.pk)
    return render(request, "incidents/edit.html", {"form": form, "incident": incident})


def _room_context(request, incident) -> dict:
    """What the room shows and which controls it offers: `available_actions` (the rule in
    `rules.py`), never a role or status test in the templates."""
    user = request.user
    members = incident.active_memberships
    available = rules.available_actions(user, incident)
    return {
        "incident": incident,
        "my_role": permissions.active_role(user, incident),
        "my_function": next((m.function for m in members if m.user_id == user.pk), ""),
        "available_actions": available,
        # The header holds controls to refresh when the incident changes.
        "header_controls": bool(set(available) & set(rules.HEADER_ACTIONS)),
        "transitions": rules.transition_controls(user, incident),
        "manageable": {m.user_id for m in members if rules.manageable(user, incident, m)},
        "lead": selectors.lead_of(incident),
        "members": members,
        "statuses": Status,
        "severities": Severity.choices,
    }


def _members_context(request, incident) -> dict:
    context = _room_context(request, incident)
    if rules.MANAGE_CELL in context["available_actions"]:
        context["add_form"] = MemberAddForm()
        context["role_form"] = RoleForm()
    if rules.HAND_OVER in context["available_actions"]:
        context["handover_form"] = HandOverForm(members=incident.active_memberships)
    context["history"] = [
        m for m in selectors.membership_history(incident) if m.left_at is not None
    ][:20]
    warnings = extensions.member_warnings(incident)
    for member in context["members"]:
        member.warnings = warnings.get(member.user_id, [])
    return context


def _timeline_context(request, incident) -> dict:
    authors = selectors.timeline_authors(incident)
    filters = TimelineFilterForm(request.GET or None, authors=authors, auto_id="filter_%s")
    cleaned = filters.cleaned_data if filters.is_valid() else {}
    entries = selectors.timeline_for(
        incident,
        kind=cleaned.get("kind") or None,
        key_events_only=cleaned.get("key_events") or False,
        actor_id=cleaned.get("actor"),
    ).order_by("-seq")
    before = request.GET.get("before", "")
    if re.fullmatch(r"[0-9]{1,9}", before):
        entries = entries.filter(seq__lt=int(before))
    entries = list(entries[: TIMELINE_PAGE + 1])
    has_more = len(entries) > TIMELINE_PAGE
    entries = entries[:TIMELINE_PAGE]
    query = request.GET.copy()
    query.pop("before", None)
    return {
        "incident": incident,
        "entries": entries,
        "has_more": has_more,
        "older_than": entries[-1].seq if entries else None,
        "filter_query": query.urlencode(),
        "filters": filters,
        "filtered": bool(cleaned and any(cleaned.values())),
    }


@login_required
@require_GET
def room(request, pk):
    incident = incident_or_404(request, pk)
    context = {
        **_members_context(request, incident),
        **_timeline_context(request, incident),
        **extensions.room_panels_context(request, incident),
        "entry_form": TimelineEntryForm(),
        "last_seq": selectors.last_seq(incident),
    }
    return render(request, "incidents/room.html", context)


@login_required
@require_GET
def header_panel(request, pk):
    incident = incident_or_404(request, pk)
    return render(request, "incidents/_header.html", _room_context(request, incident))


@login_required
@require_GET
def members_panel(request, pk):
    incident = incident_or_404(request, pk)
    return render(request, "incidents/_members.html", _members_context(request, incident))


@login_required
@require_GET
def timeline_panel(request, pk):
    incident = incident_or_404(request, pk)
    after = request.GET.get("after", "")
    if re.fullmatch(r"[0-9]{1,9}", after):
        # A live client catching up after a reconnect or a gap: the entries it missed, a
        # bounded page at a time (it asks again while X-Timeline-More says so), and the
        # panels their live events would have refreshed.
        entries, more = selectors.entries_after(incident, int(after), RESYNC_PAGE)
        # The live events' own fragments (rendered once per entry and language, cached):
        # a resync storm of many pages costs one render per entry, not one per page.
        html = events.entries_html(entries, translation.get_language())
        response = HttpResponse(html)
        response[panels.RESYNC_HEADER] = ", ".join(panels.panels_for(e.kind for e in entries))
        response[MORE_HEADER] = "true" if more else "false"
        return response
    context = _timeline_context(request, incident)
    template = "incidents/_timeline_entries.html" if "before" in request.GET else None
    return render(request, template or "incidents/_timeline_list.html", context)


@login_required
@require_POST
def change_status(request, pk):
    """Move the incident to `status`. Resolving or closing (rules.ENDING) is asked first:
    the answer names what is still open (selectors.loose_ends) and holds the button that
    confirms (`confirmed_status`)."""
    incident = incident_or_404(request, pk)
    confirmed = request.POST.get("confirmed_status", "")
    status = confirmed or request.POST.get("status", "")
    if status in rules.ENDING and not confirmed:
        try:
            if rules.require_transition(request.user, incident, status):
                return _confirm_status(request, incident, status)
        except DomainError as exc:
            return refused(request, incident, exc.message)
    return _run(
        request,
        incident,
        actions.incident_transition,
        lambda moved: _("Status: %(status)s.") % {"status": moved.get_status_display()},
        say=True,  # the status shows in the header, far from the form
        status=status,
        note=request.POST.get("note", ""),
    )


def _confirm_status(request, incident, status):
    context = {
        "incident": incident,
        "status": status,
        "loose_ends": selectors.loose_ends(incident),
    }
    if request.htmx:  # into the status form's slot: its button submits that form
        return render(request, "incidents/_status_confirm.html", context)
    return render(request, "incidents/status_confirm.html", context)


@login_required
@require_POST
def change_severity(request, pk):
    incident = incident_or_404(request, pk)
    try:
        severity = int(request.POST.get("severity", ""))
    except ValueError:
        return refused(request, incident, _("Choose a severity."))
    return _run(
        request, incident, actions.incident_set_severity, _("Severity changed."), severity=severity
    )


@login_required
@require_POST
def promotion_freeze(request, pk):
    """Set or lift the promotion freeze (the lead; `frozen` is "1" or "0")."""
    incident = incident_or_404(request, pk)
    frozen = request.POST.get("frozen", "")
    if frozen not in ("0", "1"):
        return refused(request, incident, _("Say whether to set or lift the freeze."))
    return _run(
        request,
        incident,
        actions.incident_set_promotion_freeze,
        _("Promotion freeze set.")
        if frozen == "1"
        else _("Freeze lifted: normal posting resumes."),
        frozen=frozen == "1",
        note=request.POST.get("note", ""),
    )


@login_required
@require_GET
def freeze_banner(request):
    """The promotion freeze banner alone, refreshed live on every page (panel
    `promotion-freeze`)."""
    return render(request, "incidents/_freeze_banner.html")


@login_required
@require_POST
def add_entry(request, pk):
    incident = incident_or_404(request, pk)
    form = TimelineEntryForm(request.POST)
    if not form.is_valid():
        response = refused(request, incident, _form_error_text(form))
        if request.htmx and form.has_error("occurred_at", "ambiguous"):
            # The time happened twice (the night the clocks went back): show the choice of
            # its two occurrences in place, with what was typed kept.
            context = {"entry_form": form, "oob": True}
            field = render_to_string("incidents/_occurred_at_field.html", context, request)
            response.content += field.encode()
        return response
    return _run(
        request,
        incident,
        actions.timeline_add_entry,
        _("Added to the timeline."),
        **form.cleaned_data,
    )


def _add_form_response(request, incident, form, *, status=200, added=""):
    """The add-member form, for htmx to put in place of the one posted: with its errors
    and what was typed (422), or emptied, focused and saying who was just added (200)."""
    picked = getattr(form, "cleaned_data", {}).get("user")
    context = {
        "incident": incident,
        "add_form": form,
        "added": added,
        "autofocus": bool(added),
        # A person picked in the list stays picked while the rest of the form is fixed.
        "picked": [(picked, None)] if picked and not added else [],
    }
    return render(request, "incidents/_member_add.html", context, status=status)


@login_required
@require_POST
def add_member(request, pk):
    """Add someone to the cell. With htmx the answer is the form again (emptied with a
    success line, or with its errors), so the lead adds several people in a row; without
    JavaScript, a redirect to the room with the message."""
    incident = incident_or_404(request, pk)
    try:
        rules.require(request.user, incident, rules.MANAGE_CELL)
    except DomainError as exc:
        return refused(request, incident, exc.message)
    form = MemberAddForm(request.POST)
    if form.is_valid():
        try:
            membership = actions.member_add(
                incident=incident,
                actor=request.user,
                user=form.cleaned_data["user"],
                role=form.cleaned_data["role"],
                function=form.cleaned_data["function"],
            )
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            added = _("Added %(name)s as %(role)s.") % {
                "name": display_name(membership.user),
                "role": membership.role_display,
            }
            if not request.htmx:
                messages.success(request, added)
                return redirect("incident-room", pk=incident.pk)
            response = _add_form_response(request, incident, MemberAddForm(), added=added)
            return trigger_client_event(response, CHANGED)
    if not request.htmx:
        return refused(request, incident, _form_error_text(form))
    return _add_form_response(request, incident, form, status=422)


@login_required
@require_GET
def member_candidates(request, pk):
    """The add-member picker's search (`?q=`, also read from `person`): at most
    CANDIDATES_MAX people who may join, as choices of the form; with no query, the
    playbook roster's people not yet in the cell. For the lead only (403 for the rest of
    the cell, 404 outside it)."""
    incident = incident_or_404(request, pk, require=rules.requirement(rules.MANAGE_CELL))
    query = request.GET.get("q", request.GET.get("person", ""))[: selectors.CANDIDATE_QUERY_MAX]
    query = query.strip()
    entries = {}  # person id -> their roster entry (suggested role and function)
    if query:
        found = selectors.member_candidates(incident, query, limit=selectors.CANDIDATES_MAX + 1)
        people = found[: selectors.CANDIDATES_MAX]
    else:
        found = people = _roster_candidates(incident, entries)
    context = {
        "incident": incident,
        "candidates": [(person, entries.get(person.pk)) for person in people],
        "more": len(found) > len(people),
        "query": query,
        "roster": not query,
    }
    return render(request, "incidents/_member_candidates.html", context)


def _roster_candidates(incident, roster: dict) -> list:
    """The roster's people with an active account and no place in the cell yet; fills
    `roster` with each one's entry (its suggested role and function)."""
    in_cell = {m.user_id for m in incident.active_memberships}
    people = []
    for entry in extensions.roster_of(incident):
        user = entry.user
        if user is None or not user.is_active or user.pk in in_cell or user.pk in roster:
            continue
        roster[user.pk] = entry
        people.append(user)
    return people[: selectors.CANDIDATES_MAX]


def _cell_member(incident, user_id):
    member = next((m for m in incident.active_memberships if m.user_id == user_id), None)
    if member is None:
        raise Http404(_("This person is not in the cell."))
    return member.user


@login_required
@require_POST
def change_role(request, pk, user_id):
    incident = incident_or_404(request, pk)
    user = _cell_member(incident, user_id)
    form = RoleForm(request.POST)
    if not form.is_valid():
        return refused(request, incident, _form_error_text(form))
    return _run(
        request,
        incident,
        actions.member_change_role,
        _("Role changed."),
        user=user,
        role=form.cleaned_data["role"][0],
        function=form.cleaned_data["role"][1],
    )


@login_required
@require_POST
def remove_member(request, pk, user_id):
    incident = incident_or_404(request, pk)
    user = _cell_member(incident, user_id)
    return _run(request, incident, actions.member_remove, _("Removed from the cell."), user=user)


@login_required
@require_POST
def hand_over(request, pk):
    incident = incident_or_404(request, pk)
    form = HandOverForm(request.POST, members=incident.active_memberships)
    if not form.is_valid():
        return refused(request, incident, _form_error_text(form))
    to_user = get_object_or_404(User, pk=form.cleaned_data["to_user"])
    return _run(
        request,
        incident,
        actions.lead_hand_over,
        _("Leadership handed over."),
        to_user=to_user,
        former_lead_role=form.cleaned_data["former_lead_role"],
    )
