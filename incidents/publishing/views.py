"""The statement page's "Publish on <account>" box (through statements.outlets) and its
confirmation step. Thin: the rules, actions and selectors decide."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from incidents.errors import DomainError
from statements import rules as statement_rules
from statements import selectors as statement_selectors
from statements.choices import StatementStatus
from statements.models import Revision, Statement

from . import actions, rules, selectors
from .choices import PublicationStatus
from .forms import PublishViaForm
from .models import BrandAccount


def statement_section(request, statement, available_actions) -> str:
    """The box on the statement page: each publication's state, and "Publish on <account>"
    for the accounts that fit an approved statement the viewer may publish. Two queries."""
    if statement.channel not in rules.API_CHANNELS:
        return ""
    publications = selectors.publications_of(statement)
    may_publish = (
        statement_rules.PUBLISH in available_actions
        and statement.status == StatementStatus.APPROVED
    )
    busy = {p.account_id for p in publications if p.status != PublicationStatus.FAILED}
    accounts = (
        [a for a in rules.accounts_for(statement) if a.pk not in busy]
        if may_publish and not busy
        else []
    )
    if not publications and not accounts:
        return ""
    rows = [
        {
            "publication": p,
            "retrying": selectors.retrying(p),
            "next_attempt_at": selectors.next_attempt_at(p),
            "may_retry": may_publish
            and p.status == PublicationStatus.FAILED
            and p.revision == statement.revision
            and p.account.active
            and not busy,
        }
        for p in publications
    ]
    return render_to_string(
        "publishing/_statement_box.html",
        {"statement": statement, "rows": rows, "accounts": accounts},
        request=request,
    )


def _statement(request, pk) -> Statement:
    try:
        return statement_selectors.statement_visible_to(request.user, pk)
    except Statement.DoesNotExist:
        raise Http404(_("No statement here, or you are not in its crisis cell.")) from None


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def publish_via(request, pk, account_pk):
    """GET: the confirmation (the exact text, the account, the post answered); POST: queue
    the post, back to the statement's page."""
    statement = _statement(request, pk)
    try:
        account = BrandAccount.objects.get(pk=account_pk)
    except BrandAccount.DoesNotExist:
        raise Http404 from None
    if request.method == "POST":
        form = PublishViaForm(request.POST)
        if form.is_valid():
            try:
                publication = actions.statement_publish_via(
                    statement=statement,
                    account=account,
                    actor=request.user,
                    in_reply_to=form.cleaned_data["in_reply_to"],
                    revision=form.cleaned_data["revision"],
                )
            except DomainError as error:
                messages.error(request, error.message)
            else:
                # Read after the commit: an inline outbox (embedded mode) has already sent it.
                publication.refresh_from_db()
                where = {"account": account.label}
                if publication.status == PublicationStatus.SENT:
                    messages.success(request, _("Posted on %(account)s.") % where)
                elif publication.status == PublicationStatus.FAILED:
                    messages.error(
                        request,
                        _("Not posted on %(account)s: %(error)s")
                        % {**where, "error": publication.error},
                    )
                else:
                    messages.success(request, _("Queued for %(account)s.") % where)
        else:
            messages.error(request, " ".join(e for errs in form.errors.values() for e in errs))
        return redirect("statement-detail", pk=statement.pk)
    try:
        statement_rules.check(statement_rules.PUBLISH, request.user, statement)
        rules.check_account(account, statement)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("statement-detail", pk=statement.pk)
    text = Revision.objects.get(statement=statement, number=statement.revision).text
    reply_to = statement.reply_to_url if statement.kind == "reply" else ""
    form = PublishViaForm(initial={"revision": statement.revision, "in_reply_to": reply_to})
    return render(
        request,
        "publishing/confirm.html",
        {
            "statement": statement,
            "incident": statement.incident,
            "account": account,
            "text": text,
            "form": form,
        },
    )
