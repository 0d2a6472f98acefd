"""Every write on the crisis page: check, lock the incident, write, record on the timeline;
after COMMIT the public files are rendered again (render.py), never under the lock."""

from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from incidents import permissions
from incidents.actions import lock_incident, timeline_record
from incidents.addresses import email_sendable
from incidents.errors import (
    Conflict,
    DomainError,
    InvalidInput,
    TransitionNotAllowed,
    require,
)
from incidents.models import EntryKind, Incident
from incidents.outbox import actions as outbox
from incidents.playbooks import templating
from incidents.playbooks.models import Playbook
from statements import actions as statement_actions
from statements import handoffs as statement_handoffs
from statements import outlets as statement_outlets
from statements.choices import Channel, Language, StatementKind, StatementStatus
from statements.models import Statement

from . import promises, render, rules, selectors, subscriptions
from .choices import PageState, Section
from .models import ADDRESS_MAX, CrisisPage, CrisisPageTemplate, PageText, Subscriber

SLUG_MAX = 80
# Addresses the public directory uses itself: the index in each language (<root>/<lang>/)
# and names kept for what sits beside the pages.
RESERVED_SLUGS = frozenset(Language.values) | {"index", "static", "api", "feeds", "assets"}
# The next promised update: to come, within a week.
NEXT_UPDATE_HORIZON = promises.HORIZON
FAQ_SEPARATOR = "---"


def _after_commit(page_id: int) -> None:
    transaction.on_commit(lambda: render.render_page(page_id))


def _clean_slug(slug: str, incident: Incident) -> str:
    slug = (slug or "").strip()
    if not slug:
        slug = f"{incident.declared_at:%Y-%m-%d}-{incident.pk}"
    if slug != slugify(slug) or len(slug) > SLUG_MAX:
        raise InvalidInput(
            _("The page's address may hold lower-case letters, digits and hyphens (%(n)s at most).")
            % {"n": SLUG_MAX}
        )
    if slug in RESERVED_SLUGS:
        raise InvalidInput(
            _("“%(slug)s” is kept for the index of crisis pages: choose another address.")
            % {"slug": slug}
        )
    return slug


def _clean_next_update(at):
    """The one rule for a promised update time (the room's forms, the API, preparing,
    publishing an update): aware, to come, within the coming week."""
    if at is None:
        return None
    if timezone.is_naive(at):
        raise InvalidInput(_("Give the next update's time with its time zone."))
    now = timezone.now()
    if at <= now:
        raise InvalidInput(
            _("That time has passed: the next update is promised within the coming week.")
        )
    if at > now + NEXT_UPDATE_HORIZON:
        raise InvalidInput(_("The next update is promised within the coming week."))
    return at


def faq_entries(skeleton: str) -> list[str]:
    """The entries of a template's FAQ skeleton (separated by a line holding only ---)."""
    entries, current = [], []
    for line in skeleton.splitlines():
        if line.strip() == FAQ_SEPARATOR:
            entries.append("\n".join(current).strip())
            current = []
        else:
            current.append(line)
    entries.append("\n".join(current).strip())
    return [entry for entry in entries if entry]


def _template_texts(template: CrisisPageTemplate) -> list[tuple[str, str]]:
    texts = [(Section.SUMMARY, template.summary), (Section.DOING, template.doing)]
    texts.append((Section.HELP, template.help))
    texts += [(Section.FAQ, entry) for entry in faq_entries(template.faq)]
    return [(section, text) for section, text in texts if text.strip()]


MISSING = {
    "next_update_at": _("set the time of the next update"),
    "brand": _("give the playbook its brand name"),
    "platforms": _("name the platforms concerned in the incident's details"),
}


def _render_template(template: CrisisPageTemplate, incident, brand: str, next_update_at):
    """The template's texts with their placeholders filled, or InvalidInput naming the first
    placeholder that has no value and what gives it one."""
    values = templating.values_for(
        incident, brand=brand, language=template.language, next_update_at=next_update_at
    )
    rendered = []
    for section, text in _template_texts(template):
        try:
            templating.check_template(text)
        except InvalidInput as error:
            raise InvalidInput(
                _("The crisis page template (%(language)s) cannot be used: %(error)s")
                % {"language": template.get_language_display(), "error": error.message}
            ) from None
        for name in templating.PLACEHOLDER.findall(text):
            if not values[name].strip():
                raise InvalidInput(
                    _(
                        "The crisis page template (%(language)s) uses {{ %(name)s }}, which "
                        "has no value for this incident: %(fix)s, then prepare the page again."
                    )
                    % {
                        "language": template.get_language_display(),
                        "name": name,
                        "fix": MISSING.get(name, _("fill it in")),
                    }
                )
        rendered.append((section, templating.render_template(text, values)))
    return rendered


@transaction.atomic
def page_prepare(
    *, incident: Incident, actor, playbook: Playbook | None = None, next_update_at=None, slug=""
) -> CrisisPage:
    """Prepare the incident's crisis page as a dark site: invisible to the public until the
    lead switches it live. With a playbook, its crisis page template (each language) becomes
    drafts of the page's texts, to approve through the usual workflow. All or nothing: a
    template whose placeholders lack a value refuses with a sentence saying which."""
    slug = _clean_slug(slug, incident)
    next_update_at = _clean_next_update(next_update_at)
    incident = lock_incident(incident)
    require(
        rules.PREPARE in rules.available_actions(actor, incident, None), str(rules.NOT_THE_LEAD)
    )
    if CrisisPage.objects.filter(incident=incident).exists():
        raise Conflict(_("This incident's crisis page is already prepared."))
    if CrisisPage.objects.filter(slug=slug).exists():
        raise Conflict(_("Another crisis page has the address “%(slug)s”.") % {"slug": slug})
    drafts: list[tuple[str, str, str]] = []
    if playbook is not None:
        templates = list(CrisisPageTemplate.objects.filter(playbook=playbook))
        if not templates:
            raise InvalidInput(
                _("The playbook “%(name)s” has no crisis page template.") % {"name": playbook}
            )
        for template in templates:
            for section, text in _render_template(
                template, incident, playbook.brand, next_update_at
            ):
                drafts.append((section, template.language, text))
    now = timezone.now()
    try:
        with transaction.atomic():
            page = CrisisPage.objects.create(
                incident=incident,
                slug=slug,
                prepared_at=now,
                prepared_by=actor,
                playbook_name=playbook.name if playbook else "",
                next_update_at=next_update_at,
            )
    except IntegrityError:
        raise Conflict(
            _("Another crisis page has the address “%(slug)s”.") % {"slug": slug}
        ) from None
    if next_update_at is not None:
        promises.make(page, due_at=next_update_at, actor=actor, now=now)
    for order, (section, language, text) in enumerate(drafts):
        _draft(
            page, incident, actor=actor, section=section, language=language, text=text, order=order
        )
    timeline_record(
        incident,
        kind=EntryKind.CRISIS_PAGE_PREPARED,
        actor=actor,
        data={"page": page.pk, "slug": slug, "playbook": page.playbook_name, "drafts": len(drafts)},
    )
    return page


def _draft(page, incident, *, actor, section, language, text, order) -> PageText:
    statement = statement_actions.statement_create(
        incident=incident,
        actor=actor,
        kind=StatementKind.FAQ if section == Section.FAQ else StatementKind.UPDATE,
        channel=Channel.CRISIS_CENTER,
        language=language,
        text=text,
        title=_("Crisis page: %(section)s (%(language)s)")
        % {"section": Section(section).label, "language": language},
    )
    return PageText.objects.create(page=page, section=section, order=order, statement=statement)


@transaction.atomic
def page_text_draft(*, page: CrisisPage, actor, section: str, language: str, text: str) -> PageText:
    """A new text for a section of the page (a new FAQ entry, or a text replacing the one
    shown once approved): a draft statement of the crisis center channel."""
    if section not in Section.values:
        raise InvalidInput(_("Unknown section: %(value)s") % {"value": section})
    language = _clean_language(language)
    incident = lock_incident(page.incident)
    page = CrisisPage.objects.get(pk=page.pk)
    require(
        rules.WRITE in rules.available_actions(actor, incident, page),
        _("Only writers of the cell add texts to a crisis page that is not resolved."),
    )
    texts = PageText.objects.filter(page=page)
    order = texts.count()
    if order >= selectors.MAX_PAGE_TEXTS:
        raise InvalidInput(
            _("A crisis page holds at most %(n)s texts.") % {"n": selectors.MAX_PAGE_TEXTS}
        )
    questions = texts.filter(section=Section.FAQ, statement__language=language).exclude(
        statement__status=StatementStatus.WITHDRAWN
    )
    if section == Section.FAQ and questions.count() >= selectors.MAX_FAQ:
        raise InvalidInput(
            _("The FAQ holds at most %(n)s questions per language: withdraw one first.")
            % {"n": selectors.MAX_FAQ}
        )
    return _draft(
        page, incident, actor=actor, section=section, language=language, text=text, order=order
    )


@dataclass
class DraftsSubmitted:
    """What "Submit all drafts for approval" did: the statements sent for approval, and
    each one refused with the reason its submit rule gave."""

    submitted: list[Statement] = field(default_factory=list)
    refused: list[tuple[Statement, str]] = field(default_factory=list)


@transaction.atomic
def page_drafts_submit(*, page: CrisisPage, actor) -> DraftsSubmitted:
    """Submit every draft text of the page this user may submit (rules.drafts_to_submit)
    for approval, in one request: each through statements.actions.statement_submit (its
    rule, its approval routing and notifications), in its own savepoint, so a draft it
    refuses (nobody to approve it, too long for its channel...) is reported with the reason
    and the others still go. Writers of the cell (403 otherwise); at most the page's text
    limit."""
    incident = lock_incident(page.incident)
    require(rules.may_submit_drafts(actor, incident), str(rules.NOT_A_SUBMITTER))
    outcome = DraftsSubmitted()
    for text in rules.drafts_to_submit(actor, incident, selectors.page_texts(page)):
        statement = text.statement
        statement.incident = incident
        try:  # statement_submit is atomic: nested here, a savepoint of its own
            outcome.submitted.append(
                statement_actions.statement_submit(statement=statement, actor=actor)
            )
        except DomainError as error:
            outcome.refused.append((statement, error.message))
    return outcome


def _clean_language(language: str) -> str:
    if language not in selectors.languages():
        raise InvalidInput(_("The crisis page is not written in that language."))
    return language


@transaction.atomic
def faq_order_set(*, page: CrisisPage, actor, language: str, statement_ids: list[int]) -> list[int]:
    """Put the page's FAQ entries in `language` in this order: `statement_ids` names each of
    them (every FAQ text of that language that is not withdrawn, drafts included) exactly
    once. No word changes, so no approval: writers of the cell, while the page is not
    resolved (rules.ORDER_FAQ). The live page is rendered again after COMMIT. Returns the
    order."""
    language = _clean_language(language)
    try:
        wanted = [int(pk) for pk in statement_ids]
    except (TypeError, ValueError):
        raise InvalidInput(_("Give the FAQ entries as a list of statement ids.")) from None
    incident = lock_incident(page.incident)
    page = CrisisPage.objects.get(pk=page.pk)
    require(
        rules.ORDER_FAQ in rules.available_actions(actor, incident, page), str(rules.NOT_A_WRITER)
    )
    texts = {
        text.statement_id: text
        for text in PageText.objects.filter(
            page=page, section=Section.FAQ, statement__language=language
        ).exclude(statement__status=StatementStatus.WITHDRAWN)
    }
    current = selectors.faq_order(page, language)
    if len(wanted) != len(set(wanted)) or set(wanted) != set(texts):
        raise InvalidInput(
            _(
                "Give every FAQ entry of the page in this language exactly once "
                "(%(n)s entries: %(ids)s); missing: %(missing)s; not one of them: %(unknown)s; "
                "given twice: %(twice)s."
            )
            % {
                "n": len(texts),
                "ids": ", ".join(map(str, current)) or "-",
                "missing": ", ".join(str(pk) for pk in current if pk not in wanted) or "-",
                "unknown": ", ".join(str(pk) for pk in wanted if pk not in texts) or "-",
                "twice": ", ".join(sorted({str(pk) for pk in wanted if wanted.count(pk) > 1}))
                or "-",
            }
        )
    if wanted == current:
        return current  # a double click
    for position, pk in enumerate(wanted):
        texts[pk].order = position
    PageText.objects.bulk_update(list(texts.values()), ["order"])
    timeline_record(
        incident,
        kind=EntryKind.CRISIS_PAGE_FAQ_ORDERED,
        actor=actor,
        data={"page": page.pk, "language": language, "order": wanted},
    )
    if page.is_public:
        _after_commit(page.pk)
    return wanted


UP, DOWN = "up", "down"


@transaction.atomic
def faq_move(*, page: CrisisPage, actor, statement_id: int, direction: str) -> list[int]:
    """The room's buttons: one FAQ entry a place up or down among those of its language
    (`faq_order_set` with that order). At the top or the bottom already: nothing."""
    if direction not in (UP, DOWN):
        raise InvalidInput(_("Unknown direction: %(value)s") % {"value": direction})
    text = (
        PageText.objects.filter(page=page, section=Section.FAQ, statement_id=statement_id)
        .select_related("statement")
        .first()
    )
    if text is None:
        raise InvalidInput(_("This text is not an FAQ entry of the page."))
    lock_incident(page.incident)  # read the order the move applies to under the lock
    order = selectors.faq_order(page, text.statement.language)
    if statement_id not in order:
        raise InvalidInput(_("This text is not an FAQ entry of the page."))
    at = order.index(statement_id)
    to = at - 1 if direction == UP else at + 1
    if 0 <= to < len(order):
        order[at], order[to] = order[to], order[at]
    return faq_order_set(
        page=page, actor=actor, language=text.statement.language, statement_ids=order
    )


@transaction.atomic
def page_switch(*, page: CrisisPage, actor, action: str) -> CrisisPage:
    """Dark -> live or live -> resolved, one step, by the lead. Going live needs an
    approved summary (the page's title) in at least one language."""
    if action not in rules.SWITCHES:
        raise InvalidInput(_("Unknown switch: %(value)s") % {"value": action})
    incident = lock_incident(page.incident)
    page = CrisisPage.objects.select_for_update().get(pk=page.pk)
    start, end = rules.SWITCHES[action]
    require(permissions.can_lead(actor, incident), str(rules.NOT_THE_LEAD))
    if page.state == end:
        return page  # a double click
    if page.state != start:
        raise TransitionNotAllowed(
            _("A %(state)s page cannot be switched that way.") % {"state": page.get_state_display()}
        )
    if end == PageState.LIVE and not selectors.public_page(page).languages:
        raise TransitionNotAllowed(
            _("The page has no approved summary yet: have its summary approved, then go live.")
        )
    now = timezone.now()
    page.state = end
    if end == PageState.LIVE:
        page.live_at = now
        kind = EntryKind.CRISIS_PAGE_LIVE
    else:
        page.resolved_at = now
        kind = EntryKind.CRISIS_PAGE_RESOLVED
    page.save(update_fields=["state", "live_at", "resolved_at"])
    if end == PageState.RESOLVED:
        promises.end(page, now=now)  # nothing is promised once resolved
    timeline_record(
        incident, kind=kind, actor=actor, key_event=True, data={"page": page.pk, "slug": page.slug}
    )
    if end == PageState.LIVE:
        # The updates approved while the page was dark may be published now: their
        # publishers were not told then (statements.handoffs.ready_to_publish). Read
        # together: each costs its notification's queries only.
        waiting = list(selectors.approved_updates(page)[:MAX_WAITING_UPDATES])
        for statement in waiting:
            statement.incident = incident  # one cell for all
        statement_outlets.note_for_rules(waiting)
        for statement in waiting:
            statement_handoffs.ready_to_publish(statement, actor=actor)
    _after_commit(page.pk)
    return page


# Approved updates whose publishers are told when the page goes live, at most (a page's
# languages each have one or two waiting, not more).
MAX_WAITING_UPDATES = 10


@transaction.atomic
def page_next_update_set(*, page: CrisisPage, actor, at) -> CrisisPage:
    """The time of the next promised update (None: no promise), shown on the live page:
    a new promise, which replaces the current one (promises.make: moved, withdrawn, or
    missed when its time passed)."""
    at = _clean_next_update(at)
    incident = lock_incident(page.incident)
    page = CrisisPage.objects.select_for_update().get(pk=page.pk)
    require(
        rules.NEXT_UPDATE in rules.available_actions(actor, incident, page),
        str(rules.NOT_THE_LEAD),
    )
    if page.next_update_at == at:
        return page
    promise = promises.make(page, due_at=at, actor=actor)
    timeline_record(
        incident,
        kind=EntryKind.CRISIS_PAGE_NEXT_UPDATE,
        actor=actor,
        data={
            "page": page.pk,
            "at": at.isoformat() if at else None,
            "promise": promise.pk if promise else None,
        },
    )
    if page.is_public:
        _after_commit(page.pk)
    return page


# The statement entries that may change what a public page shows.
_STATEMENT_KINDS = {
    EntryKind.STATEMENT_APPROVED,
    EntryKind.STATEMENT_PUBLISHED,
    EntryKind.STATEMENT_REVISED,
    EntryKind.STATEMENT_WITHDRAWN,
    EntryKind.STATEMENT_SUBMITTED,
    EntryKind.STATEMENT_CHANGES_REQUESTED,
}


def follow_statements(entry, incident) -> None:
    """Timeline follower: a statement of the crisis center channel was approved, published,
    edited or withdrawn: the incident's public page is rendered again after COMMIT (at once
    on the live page). One query, only for the crisis center's statements."""
    if entry.kind not in _STATEMENT_KINDS:
        return
    if (entry.data or {}).get("channel") != Channel.CRISIS_CENTER:
        return
    page = CrisisPage.objects.filter(incident=incident).exclude(state=PageState.DARK).first()
    if page is not None:
        _after_commit(page.pk)
        if entry.kind == EntryKind.STATEMENT_PUBLISHED and entry.data.get("statement"):
            statement_id = entry.data["statement"]
            if page.state == PageState.LIVE:  # an update keeps the promise (promises.py)
                statement = Statement.objects.get(pk=statement_id)
                promises.keep(page, statement, actor=entry.actor)
            transaction.on_commit(lambda: _queue_notification(statement_id))


@transaction.atomic
def update_publish(*, statement, actor, next_update_at=promises.DEFAULT) -> Statement:
    """Publish an approved crisis center update and say when the next one comes, in one
    step: `next_update_at` a time (the one rule of `_clean_next_update`), None (no new
    promise), or left out (the page's last interval, promises.default_next). The
    publication keeps the current promise (the follower, promises.keep). A time is refused
    when the publication could not announce it (rules.announcement_refused): never dropped."""
    incident = lock_incident(statement.incident)
    page = selectors.page_of(incident)
    if page is None or not selectors.is_update(statement, page):
        raise InvalidInput(
            _(
                "Only an update of the crisis page can be published here: a statement of the "
                "crisis center channel in one of the page's languages, not a page text, an FAQ "
                "answer, a reply or an internal briefing."
            )
        )
    if next_update_at is not promises.DEFAULT:
        next_update_at = _clean_next_update(next_update_at)
        if next_update_at is not None:
            statement.refresh_from_db(fields=["status"])  # under the lock: as it is now
            refused = rules.announcement_refused(page, statement)
            if refused:
                raise InvalidInput(str(refused))
        with promises.announcing(next_update_at):
            return statement_actions.statement_publish(statement=statement, actor=actor)
    return statement_actions.statement_publish(statement=statement, actor=actor)


def _queue_notification(statement_id: int) -> None:
    from .tasks import queue_notification  # the worker's side

    queue_notification(statement_id)


# E-mail subscriptions: the only public write. No actor (the public), no timeline entry
# (nothing the team acts on; the room shows the count). Throttling and the request's
# origin are checked by the view before these run.


def clean_address(address: str) -> str:
    address = (address or "").strip().lower()
    if len(address) > ADDRESS_MAX or not email_sendable(address):
        raise InvalidInput(_("This is not an e-mail address. Check it and try again."))
    return address


@transaction.atomic
def subscription_request(
    *, page: CrisisPage, address: str, language: str, actor=None, now=None
) -> None:
    """Ask for the page's updates by e-mail (double opt-in): a confirmation mail is queued
    to the address, unless it is already subscribed. The same outcome either way (the
    caller answers the same page), so nobody learns whether an address is subscribed.
    Raises InvalidInput for a bad address or language."""
    address = clean_address(address)
    language = _clean_language(language)
    public = selectors.public_page(page)
    if language not in public.languages:
        raise InvalidInput(_("This page is not published in that language."))
    now = now or timezone.now()
    try:
        with transaction.atomic():
            subscriber, created = Subscriber.objects.select_for_update().get_or_create(
                page=page, address=address, defaults={"language": language, "requested_at": now}
            )
    except IntegrityError:  # the same address at the same moment: the other request won
        return
    if not created:
        if subscriber.is_active:
            return
        subscriber.language = language
        subscriber.requested_at = now
        subscriber.confirmed_at = None
        subscriber.unsubscribed_at = None
        subscriber.save(
            update_fields=["language", "requested_at", "confirmed_at", "unsubscribed_at"]
        )
    version = public.versions[language]
    outbox.enqueue(
        subscriptions.confirmation_mail(
            subscriber,
            slug=page.slug,
            title=version.title,
            page_url=render.page_url(page.slug, language),
        ),
        now=now,
    )


# What a confirmation link leads to (selectors.confirmation reads it without writing).
PENDING, CONFIRMED, EXPIRED, USED, INVALID = (
    selectors.PENDING,
    "confirmed",
    selectors.EXPIRED,
    selectors.USED,
    selectors.INVALID,
)


@transaction.atomic
def subscription_confirm(*, slug: str, token: str, actor=None, now=None) -> tuple[str, str]:
    """Confirm a subscription with its link's token, by the person's POST from the page the
    link opens (never on GET: mail scanners and link previews follow links): (outcome,
    language). Single use: a link already used, or made stale by a newer request or an
    unsubscription, is USED; past its age, EXPIRED; a link that is not ours, INVALID.
    Nothing else is told."""
    outcome, language, subscriber = selectors.confirmation(slug, token, for_update=True)
    if outcome != PENDING:
        return outcome, language
    subscriber.confirmed_at = now or timezone.now()
    subscriber.save(update_fields=["confirmed_at"])
    return CONFIRMED, language


@transaction.atomic
def subscription_end(*, slug: str, token: str, actor=None, now=None) -> str | None:
    """Follow an unsubscribe link (one click, RFC 8058): the subscription ends (again is a
    no-op). Returns the subscriber's language, or None for a link that is not ours."""
    payload = subscriptions.read_unsubscribe_token(token)
    if payload is None:
        return None
    pk, language = payload
    updated = Subscriber.objects.filter(pk=pk, page__slug=slug)
    if not updated.exists():
        return None
    updated.filter(unsubscribed_at__isnull=True).update(unsubscribed_at=now or timezone.now())
    return language


@transaction.atomic
def update_notify(*, statement_id: int, actor=None, now=None) -> int:
    """The worker's task after a crisis center statement was published: when the public
    page shows it as an update, one e-mail per confirmed subscriber of its language, all
    queued in the outbox in one INSERT (the same number of queries whatever the number of
    subscribers; an update already queued for someone is not queued twice). Returns how
    many were given to the outbox."""
    page = (
        CrisisPage.objects.filter(incident__statements__pk=statement_id)
        .exclude(state=PageState.DARK)
        .first()
    )
    if page is None:
        return 0
    public = selectors.public_page(page)
    found = [
        (language, update)
        for language, version in public.versions.items()
        if language in public.languages  # a language with no page (its summary withdrawn)
        for update in version.updates
        if update.id == statement_id
    ]
    if not found:
        return 0
    language, update = found[0]
    version = public.versions[language]
    subscribers = (
        selectors.active_subscribers(page)
        .filter(language=language)
        .only("pk", "address", "language")
    )
    shown = subscriptions.UpdateShown(
        pk=update.id, text=update.text, when=render.moment(update.published_at, language)["text"]
    )
    return outbox.enqueue(
        *[
            subscriptions.update_mail(
                subscriber,
                slug=page.slug,
                title=version.title or page.slug,
                page_url=render.page_url(page.slug, language),
                update=shown,
            )
            for subscriber in subscribers
        ],
        now=now,
    )
