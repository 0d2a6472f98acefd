"""The reply queue's pages: the queue of an incident (/incidents/<id>/replies/), its
POST forms (plain forms, POST-redirect-GET with a message: they work without JavaScript),
and the room's coverage panel. Thin: read through selectors, write through actions."""

from urllib.parse import urlsplit

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.core.paginator import Paginator
from django.http import QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from incidents import permissions as incident_permissions
from incidents.errors import DomainError
from incidents.listening.models import Mention
from incidents.models import Platform
from incidents.publishing import selectors as publishing
from incidents.shortcuts import incident_or_404
from statements import actions as statement_actions
from statements import permissions as statement_permissions
from statements import preapproval
from statements import rules as statement_rules
from statements import selectors as statement_selectors
from statements.choices import Channel, StatementKind, StatementStatus

from . import actions, rules, selectors
from .choices import (
    DECISIONS,
    KIN_TYPE,
    AuthorType,
    CaptureTarget,
    NeedsAnswer,
    QueueView,
    ReviewDecision,
)
from .forms import (
    DecideForm,
    PreapprovedRepliesForm,
    PreapproveForm,
    QueueFilters,
    ReplyForm,
    ReviewForm,
    ThankForm,
    TriageForm,
    WithdrawPreapprovalForm,
)
from .models import Reply


def room_panel_context(request, incident) -> dict:
    """The room's reply panel: `replies_coverage` (selectors.Coverage). Four queries."""
    return {"replies_coverage": selectors.coverage(incident)}


@login_required
@require_GET
def room_panel(request, pk):
    incident = incident_or_404(request, pk)
    context = {"incident": incident, **room_panel_context(request, incident)}
    # `?whole=1`: the room's placeholder (no mention attached when it was drawn) asks for
    # the whole section once an event says mentions were attached.
    template = "_room_section.html" if request.GET.get("whole") else "_room_panel.html"
    return render(request, f"replies/{template}", context)


# The queue's filters: with any of them the page counts its own items.
FILTERS = ("author_type", "platform", "language", "author")


@login_required
@require_GET
def queue_page(request, pk):
    incident = incident_or_404(request, pk)
    filters = QueueFilters(request.GET)
    values = filters.values()
    counts = selectors.view_counts(incident)
    qs = selectors.queue(
        incident,
        view=values["view"],
        author_type=values["author_type"],
        platform=values["platform"],
        language=values["language"],
        author=values["author"],
    )
    paginator = Paginator(qs, selectors.PAGE_SIZE)
    if not any(values[name] for name in FILTERS):
        paginator.count = counts[values["view"]]  # the tab's own count: no COUNT query
    page = paginator.get_page(values["page"])
    items = selectors.page_items(incident, page.object_list)
    for index, item in enumerate(items):
        # Where to land if acting on it takes it off this tab: the next item (the one
        # before, for the last).
        neighbour = items[index + 1] if index + 1 < len(items) else items[index - 1]
        item.neighbour_pk = neighbour.mention.pk if neighbour is not item else None
    now = timezone.now()
    for item in items:
        item.held_by = item.author_held(request.user)
        item.actions = rules.available_actions(
            request.user,
            incident,
            item.triage,
            now,
            reply=item.reply,
            author_held=item.held_by,
            author_pending=item.author_pending,
        )
        item.needs_channel = actions.reply_channel(item.mention) is None
    # "Start from a template": the incident's reply templates with their advance approval,
    # read once for the page (four queries; one without templates) when someone on it can
    # be answered.
    replyable = [item for item in items if "reply" in item.actions]
    templates = reply_template_choices(incident) if replyable else []
    for item in items:
        item.templates, item.other_templates = templates_for(
            item.mention, templates, item.author_type
        )
        # Said only when one offered is: the hint promised "approved in advance" over a
        # list of templates that each "goes through review".
        item.any_preapproved = any(
            state.preapproved and state.enabled
            for state in (*item.templates, *item.other_templates)
        )
    # Evidence captured from the queue (its post, its author's profile): one query.
    captures = selectors.captures_of(incident, [item.mention.pk for item in items])
    for item in items:
        item.captures = captures.get(item.mention.pk)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "replies/queue.html",
        {
            "incident": incident,
            "items": items,
            "page": page,
            "query": query.urlencode(),
            "filters": filters,
            "values": values,
            "views": [(v, label, counts[v]) for v, label in QueueView.choices],
            "coverage": selectors.coverage(incident, counts=counts),
            "can_work": rules.can_work(request.user, incident),
            "author_types": AuthorType.choices,
            "needs_choices": NeedsAnswer.choices,
            "decisions": [(o.value, o.label) for o in DECISIONS],
            "platforms": Platform.choices,
            "claim_minutes": rules.CLAIM_MINUTES,
            "channels": Channel.choices,
            "can_review": rules.can_review(request.user, incident),
            "can_capture": rules.can_capture(request.user, incident),
        },
    )


def reply_template_choices(incident) -> list:
    """The incident's reply templates with their advance approval, those approved in
    advance first (then the playbook's order)."""
    states = preapproval.template_states(incident)
    return sorted(states, key=lambda s: not (s.preapproved and s.enabled))


def templates_for(mention, states, author_type="") -> tuple[list, list]:
    """The templates to offer for answering `mention`, in its reply language, split into
    those that suit the person and those written for other people (offered apart, last:
    a hater's reply is no answer to an unhappy customer, nor a customer's, approved in
    advance, to a hater). Suited: written for its author's type (`author_type`, confirmed
    or suggested), then for a kindred type (KIN_TYPE), then for anyone; in each, those
    written for its platform first (a template written for Facebook's tone and length is
    a lesser fit on Mastodon; on a forum, where statements are not published, every
    platform is as good). Without a type, every template suits, those for anyone first."""
    language = actions.reply_language(mention)
    channel = actions.reply_channel(mention)
    order = {"": 2}
    if author_type:
        order.update({KIN_TYPE.get(author_type, author_type): 1, author_type: 0})

    def fit(state) -> int:
        return order.get(state.template.author_type, 3 if author_type else 2)

    def key(state) -> tuple[int, bool]:
        return fit(state), channel is not None and state.template.channel != channel

    mine = sorted((s for s in states if s.template.language == language), key=key)
    return [s for s in mine if fit(s) < 3], [s for s in mine if fit(s) == 3]


def _back(request, incident, mention):
    """Back to the queue page the form was on (`back`, a local path of this queue), at the
    item; at its neighbour on that page (`neighbour`) when the item left that tab (triaged
    in "To triage"), not at the top of the page. One query."""
    queue = reverse("reply-queue", args=[incident.pk])
    back = urlsplit(request.POST.get("back", ""))
    try:  # the queue page itself, any of its tabs and filters, nothing else
        query = QueryDict(back.query) if back.path == queue and not back.netloc else None
    except (TooManyFieldsSent, RequestDataTooBig):
        query = None
    if query is None:
        back, query = urlsplit(queue), QueryDict()
    back = f"{queue}?{back.query}" if back.query else queue
    values = QueueFilters(query).values()
    values.pop("page")
    anchor = mention.pk
    if not selectors.queue(incident, **values).filter(pk=mention.pk).exists():
        neighbour = request.POST.get("neighbour", "")
        ok = neighbour.isascii() and neighbour.isdigit() and len(neighbour) < 19
        anchor = int(neighbour) if ok else None
    return redirect(f"{back}#mention-{anchor}" if anchor else back)


def _form_error(form) -> str:
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        return f"{label}: {errors[0]}" if label else errors[0]
    return _("Invalid input.")


def _post(request, pk, mention_pk, form_class, run, success):
    incident = incident_or_404(request, pk)
    mention = get_object_or_404(Mention, pk=mention_pk, incident=incident)
    form = form_class(request.POST) if form_class else None
    if form is not None and not form.is_valid():
        messages.error(request, _form_error(form))
        return _back(request, incident, mention)
    try:
        changed = run(incident, mention, form.cleaned_data if form else {})
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        if changed is not False:
            messages.success(request, success)
    return _back(request, incident, mention)


@login_required
@require_POST
def triage(request, pk, mention_pk):
    return _post(
        request,
        pk,
        mention_pk,
        TriageForm,
        lambda incident, mention, data: actions.triage_set(
            incident=incident, mention=mention, actor=request.user, **data
        ),
        _("Triage saved."),
    )


@login_required
@require_POST
def claim(request, pk, mention_pk):
    return _post(
        request,
        pk,
        mention_pk,
        None,
        lambda incident, mention, data: actions.claim(
            incident=incident, mention=mention, actor=request.user
        ),
        _("You are answering this person: the others see it."),
    )


@login_required
@require_POST
def release(request, pk, mention_pk):
    return _post(
        request,
        pk,
        mention_pk,
        None,
        lambda incident, mention, data: actions.release(
            incident=incident, mention=mention, actor=request.user
        ),
        _("Released: someone else may take it."),
    )


@login_required
@require_POST
def decide(request, pk, mention_pk):
    return _post(
        request,
        pk,
        mention_pk,
        DecideForm,
        lambda incident, mention, data: actions.decide(
            incident=incident, mention=mention, actor=request.user, **data
        ),
        _("Decision recorded."),
    )


@login_required
@require_POST
def thank(request, pk, mention_pk):
    return _post(
        request,
        pk,
        mention_pk,
        ThankForm,
        lambda incident, mention, data: actions.thank(
            incident=incident, mention=mention, actor=request.user, **data
        ),
        _("Recorded as thanked."),
    )


@login_required
@require_POST
def write_reply(request, pk, mention_pk):
    """ "Write a reply": the draft statement bound to the mention, then its page (where it
    is edited and submitted); back to the queue with the reason when refused."""
    incident = incident_or_404(request, pk)
    mention = get_object_or_404(Mention, pk=mention_pk, incident=incident)
    form = ReplyForm(request.POST)
    if not form.is_valid():
        messages.error(request, _form_error(form))
        return _back(request, incident, mention)
    try:
        statement = actions.reply_write(
            incident=incident, mention=mention, actor=request.user, **form.cleaned_data
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        return _back(request, incident, mention)
    check = preapproval.check_reply(statement)
    if check is not None and check.applies:
        messages.success(
            request,
            _(
                "Reply drafted from a template approved in advance: submit it as it is and it "
                "is approved at once; any other change sends it through review."
            ),
        )
    else:
        messages.success(request, _("Reply drafted: check it, then submit it for approval."))
    return redirect("statement-detail", statement.pk)


# --- Reply templates approved in advance ----------------------------------------------------


@login_required
@require_GET
def templates_page(request, pk):
    """The incident's reply templates: their exact text, who approved it in advance, and
    for approvers the button to do it (statements.preapproval decides who may); for the
    lead, whether pre-approved replies skip review in this incident."""
    incident = incident_or_404(request, pk)
    approval_policy, enabled = preapproval.incident_settings(incident)
    states = preapproval.template_states(incident, approval_policy=approval_policy, enabled=enabled)
    for state in states:
        state.actions = preapproval.available_actions(request.user, incident, state)
        state.refusal = preapproval.preapprove_refusal(request.user, incident, state)
        state.awaited = (
            statement_rules.joined_functions(
                [r.function for r in state.progress.missing], state.progress.mode
            )
            if state.progress and not state.progress.complete
            else ""
        )
    return render(
        request,
        "replies/templates.html",
        {
            "incident": incident,
            "states": states,
            "approval_policy": approval_policy,
            "enabled": enabled,
            "can_lead": incident_permissions.can_lead(request.user, incident),
            "is_approver": statement_permissions.approver_function(request.user, incident)
            is not None,
            "placeholder_example": "{{ author.handle }}",
        },
    )


def _templates_back(incident, template_pk=None):
    url = reverse("reply-templates", args=[incident.pk])
    return redirect(f"{url}#template-{template_pk}" if template_pk else url)


def _template_post(request, pk, template_pk, form_class, run, success):
    incident = incident_or_404(request, pk)
    form = form_class(request.POST)
    if not form.is_valid():
        messages.error(request, _form_error(form))
        return _templates_back(incident, template_pk)
    try:
        changed = run(incident, form.cleaned_data)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        if changed:
            messages.success(request, success)
    return _templates_back(incident, template_pk)


def _template_action(form_class, action, success):
    """A POST view on one template: validate, run statements' `action`, back to the page."""

    @login_required
    @require_POST
    def view(request, pk, template_pk):
        return _template_post(
            request,
            pk,
            template_pk,
            form_class,
            lambda incident, data: action(
                incident=incident, template_id=template_pk, actor=request.user, **data
            ),
            str(success),
        )

    return view


preapprove = _template_action(
    PreapproveForm,
    statement_actions.template_preapprove,
    gettext_lazy("Template approved in advance (your signature on its exact text)."),
)
withdraw_preapproval = _template_action(
    WithdrawPreapprovalForm,
    statement_actions.template_preapproval_withdraw,
    gettext_lazy("Your advance approval is withdrawn: replies made from it now go through review."),
)


@login_required
@require_POST
def preapproved_replies(request, pk):
    enabled = request.POST.get("enabled") == "on"
    return _template_post(
        request,
        pk,
        None,
        PreapprovedRepliesForm,
        lambda incident, data: statement_actions.preapproved_replies_set(
            incident=incident, actor=request.user, enabled=enabled
        ),
        _("Replies made from templates approved in advance now skip review.")
        if enabled
        else _("Every reply now goes through review, templates approved in advance included."),
    )


def statement_binding(request, statement, available_actions) -> str:
    """The statement page's "In reply to" (statements.bindings): the mention a reply
    answers (author, text, link) and, once approved for a platform where the brand has no
    active account in publishing, the exact text to copy and the post to open. No query
    for other kinds; one for a reply, two once it is approved."""
    if statement.kind != StatementKind.REPLY:
        return ""
    reply = (
        Reply.objects.select_related("triage__mention").filter(statement_id=statement.pk).first()
    )
    if reply is None:
        return ""
    mention = reply.triage.mention
    return render_to_string(
        "replies/_statement_binding.html",
        {
            "statement": statement,
            "mention": mention,
            "triage": reply.triage,
            "copy_and_open": statement.status == StatementStatus.APPROVED
            and not publishing.can_post_on(mention.platform),
        },
        request=request,
    )


def _review_rows(request, incident) -> list:
    """The replies in review with what the user may do on each (statements' rules)."""
    replies = selectors.replies_in_review(incident)
    statements = statement_selectors.with_progress([r.statement for r in replies], incident)
    for reply, statement in zip(replies, statements, strict=True):
        reply.statement = statement
        available = statement_rules.available_actions(request.user, statement)
        # Who approved this revision already is done here: it waits on someone else now
        # (they can still send it back from the reply's own page).
        reply.approved_by_me = any(a.reviewer_id == request.user.pk for a in statement.approvals)
        reply.may_review = not reply.approved_by_me and (
            statement_rules.APPROVE in available or statement_rules.REQUEST_CHANGES in available
        )
        awaited = statement.progress.awaited
        reply.awaits = (
            statement_rules.joined_functions([r.function for r in awaited], statement.progress.mode)
            if awaited
            else ""
        )
    return replies


@login_required
@require_http_methods(["GET", "POST"])
def review_page(request, pk):
    """ "Review replies": the incident's replies in review, checkboxes, approve or return
    the chosen ones at once (actions.review_batch: each its own approval, bound to the
    revision shown), then a report per reply."""
    incident = incident_or_404(request, pk)
    if request.method == "POST":
        form = ReviewForm(request.POST)
        if not form.is_valid():
            messages.error(request, _form_error(form))
            return redirect("reply-review", incident.pk)
        data = form.cleaned_data
        items = [
            {
                "statement": statement_id,
                "revision": request.POST.get(f"revision-{statement_id}"),
                "decision": data["decision"],
                "comment": data["comment"],
            }
            for statement_id in data["pick"]
        ]
        try:
            results = actions.review_batch(incident=incident, actor=request.user, items=items)
        except DomainError as exc:
            messages.error(request, exc.message)
            return redirect("reply-review", incident.pk)
        done = [r for r in results if r["ok"]]
        if done:
            messages.success(
                request,
                ngettext("%(n)s reply reviewed.", "%(n)s replies reviewed.", len(done))
                % {"n": len(done)},
            )
        for result in results:
            if not result["ok"]:
                messages.error(
                    request,
                    _("Reply %(id)s: %(error)s")
                    % {"id": result["statement"], "error": result["error"]},
                )
        return redirect("reply-review", incident.pk)
    rows = _review_rows(request, incident)
    return render(
        request,
        "replies/review.html",
        {
            "incident": incident,
            "rows": rows,
            "reviewable": any(r.may_review for r in rows),
            "can_review": rules.can_review(request.user, incident),
            "decisions": ReviewDecision.choices,
            "limit": selectors.REVIEW_LIMIT,
        },
    )


def _captured_message(result) -> str:
    pages = [CaptureTarget(c.target).label for c in result.queued]
    if pages:
        message = _("Capture asked for: %(pages)s. It takes a few seconds.") % {
            "pages": ", ".join(str(p) for p in pages)
        }
    else:
        message = _("Already captured or being captured: nothing new asked for.")
    for target, reason in result.skipped:
        message += " " + _("%(page)s: %(reason)s") % {
            "page": CaptureTarget(target).label,
            "reason": reason,
        }
    return message


@login_required
@require_POST
def capture(request, pk, mention_pk):
    """Capture the post and the author's profile as evidence (`again=1`: a fresh copy of
    pages already captured)."""
    incident = incident_or_404(request, pk)
    mention = get_object_or_404(Mention, pk=mention_pk, incident=incident)
    try:
        result = actions.mention_capture(
            incident=incident,
            mention=mention,
            actor=request.user,
            again=request.POST.get("again") == "1",
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _captured_message(result))
    return _back(request, incident, mention)
