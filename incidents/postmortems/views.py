"""The post-mortem's pages: the page of an incident's post-mortem (/incidents/<id>/postmortem/),
its POST forms (plain forms, POST-redirect-GET with a message: they work without
JavaScript), the printable page and the Markdown export. Thin: read through selectors and
figures, write through actions."""

import csv
from functools import partial

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from incidents.choices import Category
from incidents.crisiscenter import rules as crisis_page_rules
from incidents.errors import DomainError, InvalidInput, StaleRevision
from incidents.shortcuts import incident_or_404
from statements.choices import Language

from . import (
    actions,
    chart,
    export,
    figures,
    metrics,
    metrics_charts,
    metrics_export,
    rules,
    selectors,
)
from . import pdf as pdf_export
from .choices import ItemStatus, Part, PostmortemStatus
from .forms import ItemAddForm, ItemStatusForm, MetricsFilterForm, PartsForm, ReviewForm
from .models import ActionItem


def room_panel_context(request, incident) -> dict:
    """The room links to the post-mortem (no query) and shows "Has this happened before?":
    the ended incidents of its category the viewer may see, with their lessons and action
    items (selectors.precedents, two queries)."""
    return {
        "postmortem_url": reverse("postmortem", args=[incident.pk]),
        "precedents": selectors.precedents(request.user, incident),
    }


def _context(request, incident, *, parts_form=None, item_form=None) -> dict:
    state = selectors.state_of(incident)
    pm = state.postmortem
    context = {
        "incident": incident,
        "state": state,
        "postmortem": pm,
        "actions": state.actions_for(request.user, incident),
        "can_write": rules.can_write(request.user, incident),
        "ready": incident.status in ("resolved", "closed"),
    }
    if pm is None:
        return context
    report = figures.report(incident)
    context.update(
        report=report,
        chart=chart.build(report),
        parts=[(value, label, getattr(pm, value)) for value, label in Part.choices],
        parts_form=parts_form
        or PartsForm(
            initial={"base_version": pm.text_version, **{p: getattr(pm, p) for p in Part.values}}
        ),
        item_form=(item_form or ItemAddForm(owners=selectors.owners(incident)))
        if context["can_write"]
        else None,
        items=[(item, rules.can_close_item(request.user, incident, item)) for item in state.items],
        item_statuses=ItemStatus.choices,
        today=timezone.localdate(),
        signed_off=pm.status == PostmortemStatus.SIGNED_OFF,
        lessons_languages=[
            (code, label) for code, label in Language.choices if code in actions.lessons_languages()
        ],
        current_language=get_language(),
        sign_note=_sign_note(request.user, incident, state, context["actions"]),
        # The lessons go to the crisis page: said before the draft is started.
        share_note=crisis_page_rules.no_page_to_publish_on(incident.pk)
        if rules.SHARE in context["actions"]
        else "",
    )
    return context


def _sign_note(user, incident, state, available) -> str:
    """Beside "Ask for changes" for an approver who cannot sign now: why (their step comes
    later, or they signed this revision already)."""
    pm = state.postmortem
    if pm.status != PostmortemStatus.IN_REVIEW or rules.APPROVE in available:
        return ""
    if rules.REQUEST_CHANGES not in available or state.progress is None:
        return ""
    if any(a.reviewer_id == user.pk for a in state.current_approvals):
        return _("You signed off this revision.")
    return rules.not_yours_now(rules.approver_function(user, incident), state.progress)


@login_required
@require_GET
def page(request, pk):
    incident = incident_or_404(request, pk)
    return render(request, "postmortems/page.html", _context(request, incident))


def _back(incident, anchor=""):
    return redirect(reverse("postmortem", args=[incident.pk]) + anchor)


def _run(request, incident, run, success: str, anchor=""):
    try:
        run()
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, success)
    return _back(incident, anchor)


def _form_error(form) -> str:
    for name, errors in form.errors.items():
        field = form.fields.get(name)
        return f"{field.label}: {errors[0]}" if field and field.label else errors[0]
    return _("Invalid input.")


def _postmortem(incident):
    pm = selectors.postmortem_of(incident)
    if pm is None:
        raise Http404(_("This incident has no post-mortem yet."))
    return pm


@login_required
@require_POST
def create(request, pk):
    incident = incident_or_404(request, pk)
    return _run(
        request,
        incident,
        lambda: actions.postmortem_create(incident=incident, actor=request.user),
        _("Post-mortem started: phases and metrics are filled in from the records."),
    )


@login_required
@require_POST
def write(request, pk):
    incident = incident_or_404(request, pk)
    pm = _postmortem(incident)
    form = PartsForm(request.POST)
    if not form.is_valid():
        messages.error(request, _form_error(form))
        return _back(incident, "#written")
    data = form.cleaned_data
    try:
        actions.postmortem_write(
            postmortem=pm,
            actor=request.user,
            base_version=data["base_version"],
            **{p: data[p] for p in Part.values},
        )
    except StaleRevision as exc:
        # Show what they typed, beside the message: nothing is lost.
        messages.error(request, exc.message)
        context = _context(request, incident, parts_form=form)
        return render(request, "postmortems/page.html", context, status=409)
    except DomainError as exc:
        messages.error(request, exc.message)
        return _back(incident, "#written")
    messages.success(request, _("Saved."))
    return _back(incident, "#written")


def _form_action(request, incident, form, run, success: str, anchor: str):
    """A plain form posted to an action: invalid input or a refusal is shown as a message,
    success too; back to the page at `anchor` either way."""
    if not form.is_valid():
        messages.error(request, _form_error(form))
        return _back(incident, anchor)
    return _run(request, incident, lambda: run(**form.cleaned_data), success, anchor)


@login_required
@require_POST
def item_add(request, pk):
    incident = incident_or_404(request, pk)
    pm = _postmortem(incident)
    form = ItemAddForm(request.POST, owners=selectors.owners(incident))
    status = 400
    if form.is_valid():
        try:
            actions.item_add(postmortem=pm, actor=request.user, **form.cleaned_data)
        except DomainError as exc:
            if not isinstance(exc, InvalidInput):  # not theirs to add: nothing to keep
                messages.error(request, exc.message)
                return _back(incident, "#items")
            _add_action_error(form, exc)
            status = exc.status_code
        else:
            messages.success(request, _("Action item added."))
            return _back(incident, "#items")
    # Refused: the page again with what they typed, each error beside its field.
    messages.error(request, _("The action item was not added: see the form below."))
    context = _context(request, incident, item_form=form)
    return render(request, "postmortems/page.html", context, status=status)


def _add_action_error(form, error: DomainError) -> None:
    """Show an action's refusal beside the field it names (InvalidInput's `errors`), else
    above the form."""
    named = error.extra.get("errors") or {None: [error.message]}
    for field, texts in named.items():
        for text in texts:
            form.add_error(field if field in form.fields else None, text)


@login_required
@require_POST
def item_status(request, pk, item_pk):
    incident = incident_or_404(request, pk)
    item = get_object_or_404(ActionItem, pk=item_pk, postmortem=_postmortem(incident))
    run = partial(actions.item_update, item=item, actor=request.user)
    form = ItemStatusForm(request.POST)
    return _form_action(request, incident, form, run, _("Action item updated."), "#items")


@login_required
@require_POST
def submit(request, pk):
    incident = incident_or_404(request, pk)
    pm = _postmortem(incident)
    return _run(
        request,
        incident,
        lambda: actions.postmortem_submit(postmortem=pm, actor=request.user),
        _("Submitted for sign-off."),
        "#signoff",
    )


@login_required
@require_POST
def review(request, pk):
    incident = incident_or_404(request, pk)
    pm = _postmortem(incident)
    run = partial(actions.postmortem_review, postmortem=pm, actor=request.user)
    form = ReviewForm(request.POST)
    return _form_action(request, incident, form, run, _("Your decision is recorded."), "#signoff")


@login_required
@require_POST
def share(request, pk):
    """Start the "what we learned" statement (or find the one started): to its page."""
    incident = incident_or_404(request, pk)
    pm = _postmortem(incident)
    try:
        link, created = actions.lessons_statement_start(
            postmortem=pm, actor=request.user, language=request.POST.get("language", "")
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        return _back(incident, "#share")
    if created:
        messages.success(
            request,
            _(
                "A draft update for the crisis page is started from the signed-off lessons: "
                "edit it, then submit it for approval."
            ),
        )
    else:
        messages.info(
            request, _("This statement was already started: here it is, nothing was duplicated.")
        )
    return redirect("statement-detail", pk=link.statement_id)


# The printable page and the PDF summarise: the first key events (their text cut at 280
# characters), the count of the rest; the Markdown export lists every one the report holds.
PRINTED_KEY_EVENTS = 100


def _export_context(request, incident) -> dict:
    state = selectors.state_of(incident)
    if state.postmortem is None:
        raise Http404(_("This incident has no post-mortem yet."))
    report = figures.report(incident)
    return {
        "incident": incident,
        "state": state,
        "postmortem": state.postmortem,
        "report": report,
        "chart": chart.build(report),
        "printed_key_events": report.key_events[:PRINTED_KEY_EVENTS],
        "parts": [(v, label, getattr(state.postmortem, v)) for v, label in Part.choices],
        "generated_at": timezone.now(),
    }


@login_required
@require_GET
def printable(request, pk):
    incident = incident_or_404(request, pk)
    return render(request, "postmortems/print.html", _export_context(request, incident))


@login_required
@require_GET
def markdown(request, pk):
    incident = incident_or_404(request, pk)
    text = export.markdown(_export_context(request, incident))
    response = HttpResponse(text, content_type="text/markdown; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="postmortem-{incident.pk}.md"'
    return response


@login_required
@require_GET
def pdf(request, pk):
    incident = incident_or_404(request, pk)
    try:
        content = pdf_export.render(request, _export_context(request, incident))
    except pdf_export.Unavailable:
        messages.error(
            request,
            _(
                "This server cannot make PDFs (WeasyPrint needs Pango and fonts: see the "
                "deployment guide). Open the printable page and print it to PDF instead."
            ),
        )
        return redirect("postmortem", pk=incident.pk)
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="postmortem-{incident.pk}.pdf"'
    return response


# --- Metrics across incidents (metrics.py) -------------------------------------------------


def _metrics_report(request):
    """The filters from the query string and the report, or (form, None) when invalid."""
    if not metrics.can_view(request.user):
        raise PermissionDenied(_("The metrics are for the leads of crisis cells and staff."))
    form = MetricsFilterForm(request.GET or None)
    if request.GET and not form.is_valid():
        return form, None
    filters = form.filters() if request.GET else metrics.Filters.default()
    if not request.GET:
        form = MetricsFilterForm(
            initial={"since": f"{filters.first:%Y-%m}", "until": f"{filters.last:%Y-%m}"}
        )
    return form, metrics.report(request.user, filters)


@login_required
@require_GET
def metrics_page(request):
    form, report = _metrics_report(request)
    context = {"form": form, "report": report}
    if report is not None:
        context.update(
            charts=metrics_charts.build(report),
            # The table: the months with incidents, newest first (the charts show them all).
            months=[m for m in reversed(report.months) if m.incidents],
            csv_query=request.GET.urlencode(),
            categories=dict(Category.choices),
        )
    return render(
        request, "postmortems/metrics.html", context, status=400 if report is None else 200
    )


@login_required
@require_GET
def metrics_csv(request):
    form, report = _metrics_report(request)
    if report is None:
        return HttpResponse(
            " ".join(str(e) for errors in form.errors.values() for e in errors),
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    f = report.filters
    response["Content-Disposition"] = (
        f'attachment; filename="metrics-{f.first:%Y-%m}-{f.last:%Y-%m}.csv"'
    )
    writer = csv.writer(response)
    for row in metrics_export.csv_rows(report):
        writer.writerow(row)
    return response
