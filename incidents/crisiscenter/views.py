"""The room's crisis page panel, the lead's forms and the team's preview. Thin: read through
selectors, write through actions. The public files are served by serve.py."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from incidents.errors import DomainError
from incidents.shortcuts import done, incident_or_404, perform, refused
from incidents.text import parse_id
from statements.models import StatementStatus

from . import actions, promises, rules, selectors
from . import render as public
from .choices import PageState, Section
from .forms import NextUpdateForm, PrepareForm, PublishUpdateForm, TextForm


def room_panel_context(request, incident) -> dict:
    """The room's crisis page panel: `crisis` (state, links, texts, updates, actions)."""
    page = selectors.page_of(incident)
    context = {
        "page": page,
        "actions": rules.available_actions(request.user, incident, page),
    }
    if page is None:
        if rules.PREPARE in context["actions"]:
            context["prepare_form"] = PrepareForm(incident=incident)
        return {"crisis": context}
    texts = selectors.page_texts(page)
    _faq_moves(texts)
    shown = selectors.shown_texts(texts)
    context.update(
        texts=texts,
        drafts_to_submit=len(rules.drafts_to_submit(request.user, incident, texts)),
        shown=shown,
        # Without an approved summary "Switch live" is refused: say so before the click.
        live_ready=bool(selectors.complete_languages(page, texts, shown)),
        updates=selectors.updates_of(page),
        public_url=public.page_url(page.slug),
        subscribers=selectors.subscriber_count(page),
        next_update_form=NextUpdateForm(initial={"next_update_at": page.next_update_at}),
        text_form=TextForm(),
        promise=promises.current(page),
        promises=promises.listed(page),
    )
    if page.state == PageState.LIVE:
        suggested = promises.default_next(page)
        context["to_publish"] = [
            (
                statement,
                PublishUpdateForm(
                    initial={
                        "statement": statement.pk,
                        "next_update_at": timezone.localtime(suggested) if suggested else None,
                    },
                    auto_id=f"publish-{statement.pk}-%s",
                ),
            )
            for statement in promises.to_publish(page, request.user)
        ]
    return {"crisis": context}


def _faq_moves(texts) -> None:
    """Which way each FAQ entry can move among those of its language (the room's up and
    down buttons; the order is the page's, `texts` come in it)."""
    groups: dict[str, list] = {}
    for text in texts:
        text.can_move_up = text.can_move_down = False
        if text.section == Section.FAQ and text.statement.status != StatementStatus.WITHDRAWN:
            text.question = selectors.split_heading(text.statement.text)[0]
            groups.setdefault(text.statement.language, []).append(text)
    for group in groups.values():
        for position, text in enumerate(group):
            text.can_move_up = position > 0
            text.can_move_down = position < len(group) - 1


@login_required
@require_GET
def room_panel(request, pk):
    incident = incident_or_404(request, pk)
    context = {"incident": incident, **room_panel_context(request, incident)}
    return render(request, "crisiscenter/_room_panel.html", context)


@login_required
@require_POST
def prepare(request, pk):
    incident = incident_or_404(request, pk)
    form = PrepareForm(request.POST)
    if not form.is_valid():
        return refused(request, incident, _("Check the playbook, the address and the time."))
    playbook = form.cleaned_data.get("playbook")  # no field when no playbook has a template
    try:
        actions.page_prepare(
            incident=incident,
            actor=request.user,
            playbook=playbook,
            slug=form.cleaned_data["slug"],
            next_update_at=form.cleaned_data["next_update_at"],
        )
    except DomainError as exc:
        return refused(request, incident, exc.message)
    return done(
        request,
        incident,
        _("Crisis page prepared: dark until you switch it live."),
        notice=rules.prepare_warning(playbook),
        say=True,  # its drafts land in two panels: say what happened
    )


def _page(request, pk):
    incident = incident_or_404(request, pk)
    page = selectors.page_of(incident)
    if page is None:
        raise Http404(_("This incident has no crisis page."))
    return incident, page


@login_required
@require_POST
def switch(request, pk):
    incident, page = _page(request, pk)
    action = request.POST.get("action", "")
    message = (
        _("The crisis page is live.") if action == rules.GO_LIVE else _("Crisis page resolved.")
    )
    # Public now (or archived): said, not only seen in the panel's state chip.
    return perform(
        request, incident, message, actions.page_switch, page=page, action=action, say=True
    )


@login_required
@require_POST
def next_update(request, pk):
    incident, page = _page(request, pk)
    form = NextUpdateForm(request.POST)
    if not form.is_valid():
        return refused(request, incident, _("Give a date and time."))
    return perform(
        request,
        incident,
        _("Next update time saved."),
        actions.page_next_update_set,
        page=page,
        at=form.cleaned_data["next_update_at"],
    )


@login_required
@require_POST
def publish_update(request, pk):
    """Publish an approved update of the page with the next update time (one step)."""
    incident, _crisis_page = _page(request, pk)  # 404 without a page
    form = PublishUpdateForm(request.POST)
    if not form.is_valid():
        return refused(request, incident, _("Give a date and time."))
    statement = (
        incident.statements.filter(pk=form.cleaned_data["statement"])
        .select_related("policy")
        .first()
    )
    if statement is None:
        raise Http404
    return perform(
        request,
        incident,
        _("Update published on the crisis page."),
        actions.update_publish,
        statement=statement,
        next_update_at=form.cleaned_data["next_update_at"],
    )


@login_required
@require_POST
def write_text(request, pk):
    incident, page = _page(request, pk)
    form = TextForm(request.POST)
    if not form.is_valid():
        return refused(request, incident, _("Choose a section and a language, and write the text."))
    return perform(
        request,
        incident,
        _("Draft saved: submit it for approval from the statements panel."),
        actions.page_text_draft,
        page=page,
        **form.cleaned_data,
    )


def drafts_submitted_message(outcome: actions.DraftsSubmitted) -> str:
    """The room's message after "Submit all drafts for approval": how many went, and each
    one refused with its title and the reason."""
    n = len(outcome.submitted)
    parts = [
        ngettext("%(n)s draft submitted for approval.", "%(n)s drafts submitted for approval.", n)
        % {"n": n}
        if n or not outcome.refused
        else ""
    ]
    if outcome.refused:
        parts.append(
            ngettext(
                "Not submitted: %(list)s",
                "Not submitted (%(n)s): %(list)s",
                len(outcome.refused),
            )
            % {
                "n": len(outcome.refused),
                "list": "; ".join(
                    _("“%(title)s”: %(reason)s") % {"title": statement, "reason": reason}
                    for statement, reason in outcome.refused
                ),
            }
        )
    return " ".join(part for part in parts if part)


@login_required
@require_POST
def submit_drafts(request, pk):
    """Submit every draft text of the page this user may submit, at once."""
    incident, page = _page(request, pk)
    try:
        outcome = actions.page_drafts_submit(page=page, actor=request.user)
    except DomainError as exc:
        return refused(request, incident, exc.message)
    message = drafts_submitted_message(outcome)
    if request.htmx:  # the panels refresh; the room says the outcome
        return done(request, incident, message, notice=message)
    if outcome.refused:
        return refused(request, incident, message)  # an error line: some did not go
    return done(request, incident, message)


@login_required
@require_POST
def faq_move(request, pk):
    incident, page = _page(request, pk)
    statement_id = parse_id(request.POST.get("statement"))
    if statement_id is None:
        return refused(request, incident, _("Choose an FAQ entry to move."))
    return perform(
        request,
        incident,
        _("FAQ order saved."),
        actions.faq_move,
        page=page,
        statement_id=statement_id,
        direction=request.POST.get("direction", ""),
    )


@login_required
@require_GET
def preview(request, pk):
    """The page as the public would see it (or will, for a dark page): approved words only,
    with `noindex`. For whoever may see the incident."""
    incident, page = _page(request, pk)
    public_page = selectors.public_page(page)
    language = request.GET.get("lang") or public_page.default_language
    if language not in public_page.languages:
        response = render(
            request, "crisiscenter/preview_empty.html", {"incident": incident, "page": page}
        )
    else:
        html = public.page_html(public_page, language, preview=True, css_url=static(public.CSS))
        response = HttpResponse(html)
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Cache-Control"] = "private, no-store"
    return response
