"""Statement pages: thin, reading through selectors and writing through actions.

Forms post normally and redirect back (post/redirect/get), with the action's message when it
refuses. The one exception is a stale edit: the page comes back with both texts so the
editor can merge instead of losing either.
"""

import re

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from incidents.errors import DomainError, StaleRevision
from incidents.people import display_name
from incidents.shortcuts import incident_or_404 as visible_incident

from . import actions, limits, outlets, permissions, preapproval, rules, selectors
from .bindings import page_bindings
from .diff import word_diff
from .drafting import blanks_to_fill, draft_from_template, templates_of
from .forms import (
    ApproveForm,
    PublishForm,
    RequestChangesForm,
    StatementCreateForm,
    StatementEditForm,
    WithdrawForm,
)
from .limits import is_threadable, over_limit, split_thread
from .models import CHANNEL_LIMITS, FINAL_STATUSES, MAX_TEXT, Channel, Statement, StatementStatus


def _statement(request, pk) -> Statement:
    try:
        return selectors.statement_visible_to(request.user, pk)
    except Statement.DoesNotExist:
        raise Http404(_("No statement here, or you are not in its crisis cell.")) from None


def _detail_context(request, statement, **overrides) -> dict:
    """The page offers exactly the statement's `available_actions` (rules.py): templates
    test `"approve" in available_actions`, never a role or a status."""
    user = request.user
    revisions = list(selectors.revisions_of(statement))
    available = rules.available_actions(user, statement)
    reviewing = rules.APPROVE in available or rules.REQUEST_CHANGES in available
    in_review = statement.status == StatementStatus.IN_REVIEW
    excess = over_limit(statement.text, statement.channel)
    voids_approval = rules.edit_voids_approval(statement)
    approved_unshown = statement.status == StatementStatus.APPROVED and not (
        outlets.shown_on_approval(statement)
    )
    context = {
        "statement": statement,
        "incident": statement.incident,
        "revisions": revisions,
        "available_actions": available,
        # What the apps above bind it to (bindings.py): "In reply to" a mention...
        "bindings": page_bindings(request, statement, available),
        # An approver sees the text to judge, and everyone an approved text as it will go
        # out (the spokesperson copies it from there): the editor is folded away.
        "reviewing": reviewing,
        "fold_editor": reviewing or statement.status == StatementStatus.APPROVED,
        "voids_approval": voids_approval,
        "approve_refusal": _approve_refusal(user, statement)
        if reviewing and rules.APPROVE not in available and in_review
        else None,
        # An approver who wrote it (a drafter read "another approver must review it").
        "four_eyes_note": in_review
        and permissions.wrote(user, statement)
        and permissions.approver_function(user, statement.incident) is not None,
        "blanks": blanks_to_fill(statement),
        # Approved: why nobody may publish it now (a crisis page that is not live), or
        # whom it waits for, said to those who cannot publish it themselves (not for a
        # text an app shows once approved: a crisis page's section).
        "publish_refusal": outlets.publish_refusal(statement) if approved_unshown else None,
        "publishers": [display_name(u) for u in rules.publishers(statement)]
        if approved_unshown
        and rules.PUBLISH not in available
        and not outlets.publish_refusal(statement)
        else None,
        # Made from a reply template: approved at once when submitted unchanged, or why not.
        "preapproval": preapproval.check_reply(statement)
        if statement.status in (StatementStatus.DRAFT, StatementStatus.CHANGES_REQUESTED)
        else None,
        # Why the statement waits, or would wait once submitted, on nobody (rules.py).
        "stall": rules.approval_stall(statement, viewer=user),
        "awaited": rules.joined_functions(
            [r.function for r in statement.progress.awaited], statement.progress.mode
        )
        if statement.progress.awaited
        else "",
        "edit_form": StatementEditForm(
            initial={"text": statement.text, "revision": statement.revision}
        ),
        "approve_form": ApproveForm(initial={"revision": statement.revision}),
        "changes_form": RequestChangesForm(),
        "publish_form": PublishForm(initial={"revision": statement.revision}),
        # Published here, it goes on the incident's crisis page: nothing to copy or to
        # give the address of (the spokesperson was asked for the post's URL).
        "on_crisis_page": statement.channel == Channel.CRISIS_CENTER,
        "withdraw_form": WithdrawForm(),
        "excess": excess,
        "text_length": limits.length(statement.text, statement.channel),
        "thread": split_thread(statement.text, statement.limit, statement.channel)
        if excess and is_threadable(statement.channel)
        else None,
        "diff": word_diff(revisions[-2].text, revisions[-1].text) if len(revisions) > 1 else None,
        "diff_from": revisions[-2].number if len(revisions) > 1 else None,
        "diff_to": revisions[-1].number,
        # What the apps above add (outlets.py): "Publish on <brand account>"...
        "outlet_sections": outlets.page_sections(request, statement, available),
    }
    # An approver done with this one goes on to the next that waits for them (ten texts of
    # a crisis page each wait for legal, then communications).
    if (
        rules.APPROVE not in available
        and permissions.approver_function(user, statement.incident) is not None
    ):
        waiting = [s for s in selectors.approvals_inbox(user) if s.pk != statement.pk]
        context.update(next_to_approve=waiting[0] if waiting else None, waiting_for_me=len(waiting))
    context.update(overrides)
    # Also on the form kept from a refused post (overrides): the retry needs it most.
    context["publish_form"].ask_for_address(statement.channel)
    return context


def _approve_refusal(user, statement) -> str:
    """What the approver is told when their approval is not (or no longer) the awaited one."""
    try:
        if not rules.check(rules.APPROVE, user, statement):
            return _("You approved this revision.")
    except DomainError as exc:
        return exc.message
    return ""


@login_required
@require_GET
def detail(request, pk):
    statement = _statement(request, pk)
    context = _detail_context(request, statement, **_typed_forms(request, statement))
    return render(request, "statements/detail.html", context)


@login_required
def create(request, pk):
    incident = visible_incident(request, pk, require=permissions.require_drafter)
    # "Write a correction" on a published statement arrives with ?corrects=<id>.
    initial = {}
    corrects = request.GET.get("corrects", "")
    if re.fullmatch(r"[0-9]{1,18}", corrects):
        initial = {"kind": "correction", "corrects": int(corrects)}
    template = request.GET.get("template", "")
    if re.fullmatch(r"[0-9]{1,18}", template):
        initial = draft_from_template(incident, int(template)) or initial
    form = StatementCreateForm(request.POST or None, incident=incident, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            statement = actions.statement_create(
                incident=incident, actor=request.user, **form.cleaned_data
            )
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            if request.POST.get("then") != "submit":
                messages.success(request, _("Draft saved as revision 1."))
                return redirect("statement-detail", pk=statement.pk)
            # "Save and submit": one step for the drafter. A refused submission (nobody
            # in the cell can approve it yet) keeps the saved draft and says why.
            return _act(
                request,
                statement,
                actions.statement_submit,
                _("Draft saved as revision 1 and submitted for approval."),
            )
    context = {
        "form": form,
        "incident": incident,
        "templates": templates_of(incident),
    }
    return render(request, "statements/create.html", context)


def _act(request, statement, action, success, *, refused=None, **kwargs):
    """Run `action`; `success` is the message, or a function of the statement it returned;
    `refused()` runs when the action refuses."""
    try:
        result = action(statement=statement, actor=request.user, **kwargs)
    except DomainError as exc:
        messages.error(request, exc.message)
        if refused is not None:
            refused()
    else:
        messages.success(request, success(result) if callable(success) else str(success))
    return redirect("statement-detail", pk=statement.pk)


def _submitted(statement) -> str:
    """A reply approved in advance is approved by its submission (statements.preapproval)."""
    if statement.status == StatementStatus.APPROVED:
        return _("Submitted and approved in advance: ready to publish.")
    return _("Submitted for approval.")


def _invalid(request, statement, form):
    messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
    return redirect("statement-detail", pk=statement.pk)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def edit(request, pk):
    statement = _statement(request, pk)
    if request.method != "POST":
        # Signing in again after the session expired mid-edit comes back here with GET:
        # the statement's page, where static/js/keep.js restores the text kept in the browser.
        return redirect("statement-detail", pk=statement.pk)
    form = StatementEditForm(request.POST)
    if not form.is_valid():
        return _invalid(request, statement, form)
    try:
        actions.statement_edit(
            statement=statement,
            actor=request.user,
            text=form.cleaned_data["text"],
            base_revision=form.cleaned_data["revision"],
        )
    except StaleRevision as exc:
        statement = _statement(request, pk)
        # Keep the editor's text; base it on the current revision so saving again is an
        # explicit, informed overwrite of the other person's text.
        mine = StatementEditForm(
            initial={"text": form.cleaned_data["text"], "revision": exc.extra["current_revision"]}
        )
        context = _detail_context(
            request, statement, edit_form=mine, conflict=exc.message, theirs=exc.extra
        )
        return render(request, "statements/detail.html", context, status=409)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Saved."))
    return redirect("statement-detail", pk=statement.pk)


def _form_action(form_class, action, success):
    """A POST view: validate `form_class` (if any), run `action`, redirect with a message.
    A refused form's typed values come back in the page's form (_keep_typed)."""

    @login_required
    @require_POST
    def view(request, pk):
        statement = _statement(request, pk)
        form = form_class(request.POST) if form_class else None
        if form is not None and not form.is_valid():
            _keep_typed(request, statement, form_class)
            return _invalid(request, statement, form)
        fields = form.cleaned_data if form is not None else {}
        refused = (lambda: _keep_typed(request, statement, form_class)) if form_class else None
        return _act(request, statement, action, success, refused=refused, **fields)

    return view


# A refused form's typed values, kept in the session for the page the refusal redirects to
# (one form of one statement, read once): a spokesperson whose publication time was
# refused had to paste the post's address again. Never the revision: the form takes the
# statement's current one.
_TYPED = "statement-typed"
_TYPED_FORMS = {
    "approve_form": ApproveForm,
    "changes_form": RequestChangesForm,
    "publish_form": PublishForm,
}


def _keep_typed(request, statement, form_class) -> None:
    key = next((k for k, cls in _TYPED_FORMS.items() if cls is form_class), None)
    if key is None:
        return
    values = {
        name: request.POST.get(name, "")[: getattr(field, "max_length", None) or 200]
        for name, field in form_class.base_fields.items()
        if name != "revision"
    }
    request.session[_TYPED] = {"statement": statement.pk, "form": key, "values": values}


def _typed_forms(request, statement) -> dict:
    """The page's forms holding what a refused post typed (see _keep_typed), by context key."""
    kept = request.session.pop(_TYPED, None)
    if not isinstance(kept, dict) or kept.get("statement") != statement.pk:
        return {}
    form_class = _TYPED_FORMS.get(kept.get("form"))
    if form_class is None:
        return {}
    return {kept["form"]: form_class(initial={**kept["values"], "revision": statement.revision})}


def _approved(statement) -> str:
    """Approved once the policy is met; otherwise the approver is told whose sign-off is
    still awaited (a lone "Approved." read as done while the text waited for more)."""
    progress = statement.progress
    if statement.status == StatementStatus.APPROVED or not progress.awaited:
        return _("Approved.")
    return _("Your approval is recorded. Still awaited: %(what)s.") % {
        "what": rules.joined_functions([r.function for r in progress.awaited], progress.mode)
    }


submit = _form_action(None, actions.statement_submit, _submitted)
approve = _form_action(ApproveForm, actions.statement_approve, _approved)
request_changes = _form_action(
    RequestChangesForm,
    actions.statement_request_changes,
    gettext_lazy("Sent back to the author with your comment."),
)
publish = _form_action(PublishForm, actions.statement_publish, gettext_lazy("Marked as published."))
withdraw = _form_action(WithdrawForm, actions.statement_withdraw, gettext_lazy("Withdrawn."))


@login_required
@require_GET
def diff(request, pk):
    statement = _statement(request, pk)
    revisions = {r.number: r for r in selectors.revisions_of(statement)}
    try:
        old = revisions[int(request.GET.get("from", ""))]
        new = revisions[int(request.GET.get("to", ""))]
    except (KeyError, ValueError):
        raise Http404(_("No such revision.")) from None
    return render(
        request,
        "statements/_diff.html",
        {"diff": word_diff(old.text, new.text), "diff_from": old.number, "diff_to": new.number},
    )


@login_required
@require_GET
def incident_panel(request, pk):
    incident = visible_incident(request, pk)
    return render(request, "statements/_panel.html", panel_context(request, incident))


# The room's statements panel: a page at a time, those waiting on someone first; the page
# is `?statements_page=` on the room (links work without JavaScript) and on the panel's
# re-fetch (htmx, and the live refresh, which keeps the page the person is on).
PANEL_PAGE = 10
PANEL_PAGE_PARAM = "statements_page"


def panel_context(request, incident) -> dict:
    """The statements panel: `statements` (one page, by attention: selectors.
    statements_by_attention), `statements_page` (a Django Page), `statements_total` and
    `statements_open` (not published nor withdrawn, listed first), `statements_shown` (the
    crisis page's texts, left to their panel), `can_draft`. A constant number of queries
    whatever the incident's statements."""
    shown = outlets.shown_on_approval_filter()
    totals = Statement.objects.filter(incident=incident).aggregate(
        total=Count("id", filter=~shown),
        open=Count("id", filter=~shown & ~Q(status__in=FINAL_STATUSES)),
        shown=Count("id", filter=shown),
    )
    paginator = Paginator(selectors.statements_by_attention(incident), PANEL_PAGE)
    paginator.count = totals["total"]  # counted above, with the open ones, in one query
    page = paginator.get_page(request.GET.get(PANEL_PAGE_PARAM))
    statements = selectors.with_progress(page.object_list, incident)
    for statement in statements:
        # The room warns beforehand, from the same rule the submission obeys.
        statement.stall = rules.approval_stall(statement, viewer=request.user)
    return {
        "incident": incident,
        "statements": statements,
        "statements_page": page,
        "statements_total": totals["total"],
        "statements_open": totals["open"],
        "statements_shown": totals["shown"],
        "statements_after": totals["total"] - page.end_index() if statements else 0,
        "can_draft": permissions.can_draft(request.user, incident),
    }


@login_required
@require_GET
def inbox(request):
    context = {
        # The spokesperson's part: what is approved and waits for them to publish it.
        "to_publish": selectors.to_publish(request.user),
        "statements": selectors.approvals_inbox(request.user),
        # And what the apps above have waiting for this person's sign-off (a post-mortem).
        "others": outlets.awaiting_approval(request.user),
    }
    return render(request, "statements/inbox.html", context)


@login_required
@require_POST
def text_length(request):
    """The editors' live counter: the text's length as `channel` counts it, from the same
    rule as the actions (statements/limits.py). JSON {"length", "limit", "over"}."""
    text, channel = request.POST.get("text", ""), request.POST.get("channel", "")
    if channel not in Channel.values:
        return JsonResponse({"detail": _("Unknown channel.")}, status=400)
    if len(text) > 2 * MAX_TEXT:  # before normalization; the action refuses past MAX_TEXT
        return JsonResponse({"detail": _("The text is too long.")}, status=400)
    size, limit = limits.length(text, channel), CHANNEL_LIMITS[channel]
    return JsonResponse(
        {"length": size, "limit": limit, "over": max(0, size - limit) if limit else 0}
    )
