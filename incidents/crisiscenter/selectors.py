"""Reads of the crisis page: what the public sees (only approved words) and what the room
shows. A constant number of queries whatever the number of updates and FAQ entries."""

from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.db.models import Exists, Max, OuterRef, Q
from django.utils import formats
from django.utils.timezone import localtime
from django.utils.translation import gettext as _

from incidents.models import EntryKind, TimelineEntry
from statements.models import (
    INTERNAL_KINDS,
    Channel,
    Revision,
    Statement,
    StatementKind,
    StatementStatus,
)

from . import subscriptions
from .choices import SECTION_ORDER, PageState, Section
from .models import CrisisPage, PageText, Subscriber, UpdatePromise

# Bounds: a page is read whole, so what it holds is capped.
MAX_UPDATES = 300
MAX_FAQ = 100  # questions per language
MAX_PAGE_TEXTS = 400  # texts of a page, every section and language, withdrawn ones too
MAX_PAGES_IN_INDEX = 200

SHOWN = (StatementStatus.APPROVED, StatementStatus.PUBLISHED)


def languages() -> list[str]:
    """The languages a page is written in, in the order of its language switch."""
    return list(settings.CRISIS_CENTER_LANGUAGES)


def split_heading(text: str) -> tuple[str, str]:
    """A summary's title or an FAQ entry's question (the first line), and the rest."""
    head, _sep, rest = text.strip().partition("\n")
    return head.strip(), rest.strip()


@dataclass
class Update:
    id: int
    kind: str
    text: str
    published_at: datetime
    corrects: int | None = None  # the update this one corrects
    corrected_by: list[int] = field(default_factory=list)
    next_update_at: datetime | None = None  # the time it announced for the next one


@dataclass
class FaqEntry:
    id: int
    question: str
    answer: str


@dataclass
class Version:
    """The page in one language: only approved or published words, and no name, comment
    or internal field of any statement."""

    language: str
    title: str = ""
    summary: str = ""
    doing: str = ""
    help: str = ""
    faq: list[FaqEntry] = field(default_factory=list)
    updates: list[Update] = field(default_factory=list)
    last_updated: datetime | None = None

    @property
    def complete(self) -> bool:
        return bool(self.title)


@dataclass
class PublicPage:
    slug: str
    state: str
    live_at: datetime | None
    resolved_at: datetime | None
    next_update_at: datetime | None
    versions: dict[str, Version]

    @property
    def languages(self) -> list[str]:
        return [code for code, version in self.versions.items() if version.complete]

    @property
    def default_language(self) -> str | None:
        found = self.languages
        return found[0] if found else None


def page_of(incident) -> CrisisPage | None:
    return CrisisPage.objects.filter(incident=incident).first()


@dataclass(frozen=True)
class Shown:
    """The words of a page text the public reads: the last approved revision of its
    statement, and when that revision was approved."""

    text: str
    revision: int
    approved_at: datetime


def page_text_rows(pages: list[CrisisPage]) -> list[PageText]:
    """The texts of these pages that may be shown (not withdrawn), with their statements, in
    the pages' order. One query."""
    return list(
        PageText.objects.filter(page__in=[page.pk for page in pages])
        .exclude(statement__status=StatementStatus.WITHDRAWN)
        .select_related("statement")
        .order_by("order", "id")
    )


def shown_texts(texts: list[PageText]) -> dict[int, Shown]:
    """Statement id -> what the public reads of it. The rule (docs/architecture.md, "Crisis
    center"): a page text shows the LAST APPROVED REVISION of its statement. Approved or
    published: its current text. Edited after its approval (back in review, changes
    requested, even on the approved revision itself): the last revision approved, until
    a new one is approved — words the public read do not vanish because someone edits them
    or asks for changes. Withdrawn (an explicit action): nothing. Never approved: nothing.
    At most two queries (only while a text is not approved now): the timeline's
    approvals, then those revisions' words."""
    found: dict[int, Shown] = {}
    revised: dict[int, Statement] = {}
    for text in texts:
        statement = text.statement
        if statement.status in SHOWN:
            found[statement.pk] = Shown(
                statement.text, statement.revision, statement.approved_at or statement.published_at
            )
        elif statement.status != StatementStatus.WITHDRAWN:
            revised[statement.pk] = statement
    if not revised:
        return found
    # Each time a statement became approved, the timeline says so, naming the revision
    # (statements.actions: `fully_approved`); the last one before the edit is the one shown.
    approvals = (
        TimelineEntry.objects.filter(
            incident_id__in={s.incident_id for s in revised.values()},
            kind=EntryKind.STATEMENT_APPROVED,
            data__fully_approved=True,
            data__statement__in=list(revised),
        )
        .order_by("seq")
        .values_list("data__statement", "data__revision", "occurred_at")
    )
    last: dict[int, tuple[int, datetime]] = {}
    for statement_id, number, at in approvals:
        if int(number) <= revised[int(statement_id)].revision:
            last[int(statement_id)] = (int(number), at)
    if not last:
        return found
    wanted = Q()
    for statement_id, (number, _at) in last.items():
        wanted |= Q(statement_id=statement_id, number=number)
    for statement_id, number, words in Revision.objects.filter(wanted).values_list(
        "statement_id", "number", "text"
    ):
        found[statement_id] = Shown(words, number, last[statement_id][1])
    return found


def complete_languages(page: CrisisPage, texts, shown) -> list[str]:
    """The languages the page could be shown in now (an approved summary), from the panel's
    `texts` and `shown` (shown_texts): no query. Going live needs one (actions.page_switch
    asks public_page, the same rule)."""
    return _public(page, texts, shown, updates=[]).languages


def public_page(page: CrisisPage) -> PublicPage:
    """What the public page shows, per language: each text's last approved revision
    (`shown_texts`), the updates and, while the page is live, the next update each
    announced (a resolved page promises nothing: its archive kept "Next update announced
    for: 21:30" under its last update). Four queries, six while a shown text is being
    revised."""
    texts = page_text_rows([page])
    updates = list(
        updates_of(page).only("id", "kind", "text", "language", "published_at", "corrects_id")
    )
    # The next update each one announced (crisiscenter/promises.py).
    announced = (
        dict(
            UpdatePromise.objects.filter(
                page=page, announced_by_id__in=[u.pk for u in updates]
            ).values_list("announced_by_id", "due_at")
        )
        if page.state == PageState.LIVE
        else {}
    )
    return _public(page, texts, shown_texts(texts), updates=updates, announced=announced)


def public_pages_of(pages: list[CrisisPage]) -> dict[int, PublicPage]:
    """The index's view of many pages at once, by page id: their texts as `public_page`
    shows them and each language's last update time, without the updates' words. The same
    number of queries whatever the number of pages (at most four)."""
    if not pages:
        return {}
    texts = page_text_rows(pages)
    shown = shown_texts(texts)
    by_page: dict[int, list[PageText]] = {page.pk: [] for page in pages}
    for text in texts:
        by_page[text.page_id].append(text)
    bound = PageText.objects.filter(page__in=[page.pk for page in pages]).values("statement_id")
    last_update: dict[tuple[int, str], datetime] = {
        (row["incident_id"], row["language"]): row["last"]
        for row in _published_updates(
            Statement.objects.filter(incident_id__in=[p.incident_id for p in pages]), bound
        )
        .order_by()
        .values("incident_id", "language")
        .annotate(last=Max("published_at"))
    }
    return {
        page.pk: _public(
            page,
            by_page[page.pk],
            shown,
            last_update={
                code: at
                for (incident, code), at in last_update.items()
                if incident == page.incident_id
            },
        )
        for page in pages
    }


def _public(
    page: CrisisPage,
    texts: list[PageText],
    shown: dict[int, Shown],
    *,
    updates: list[Statement] = (),
    announced: dict[int, datetime] | None = None,
    last_update: dict[str, datetime] | None = None,
) -> PublicPage:
    versions = {code: Version(language=code) for code in languages()}
    changed = [page.live_at, page.resolved_at]
    # A section shows its most recently approved text (an older one stands while a new
    # text is in review, or while an approved text is edited and back in review).
    latest: dict[tuple[str, str], Shown] = {}
    for text in texts:
        statement = text.statement
        version = versions.get(statement.language)
        words = shown.get(statement.pk)
        if version is None or words is None:
            continue
        changed.append(words.approved_at)
        if text.section == Section.FAQ:
            if len(version.faq) < MAX_FAQ:
                question, answer = split_heading(words.text)
                version.faq.append(FaqEntry(id=statement.pk, question=question, answer=answer))
            continue
        key = (text.section, statement.language)
        if key not in latest or words.approved_at >= latest[key].approved_at:
            latest[key] = words
    for (section, language), words in latest.items():
        version = versions[language]
        if section == Section.SUMMARY:
            version.title, version.summary = split_heading(words.text)
        else:
            setattr(version, section, words.text)
    corrected: dict[int, list[int]] = {}
    for update in updates:
        if update.corrects_id:
            corrected.setdefault(update.corrects_id, []).append(update.pk)
    for update in updates:
        version = versions.get(update.language)
        if version is None:
            continue
        version.updates.append(
            Update(
                id=update.pk,
                kind=update.kind,
                text=update.text,
                published_at=update.published_at,
                corrects=update.corrects_id,
                corrected_by=corrected.get(update.pk, []),
                next_update_at=(announced or {}).get(update.pk),
            )
        )
    for code, version in versions.items():
        moments = [m for m in changed if m] + [u.published_at for u in version.updates]
        if last_update and code in last_update:
            moments.append(last_update[code])
        version.last_updated = max(moments) if moments else None
    return PublicPage(
        slug=page.slug,
        state=page.state,
        live_at=page.live_at,
        resolved_at=page.resolved_at,
        next_update_at=page.next_update_at if page.state == PageState.LIVE else None,
        versions=versions,
    )


def public_pages() -> list[CrisisPage]:
    """The pages the index lists: live ones first (newest first), then the archive."""
    pages = CrisisPage.objects.exclude(state=PageState.DARK).order_by("-live_at", "-id")
    pages = list(pages[:MAX_PAGES_IN_INDEX])
    return sorted(pages, key=lambda p: p.state != PageState.LIVE)


def page_texts(page: CrisisPage) -> list[PageText]:
    """Every text of the page for the room, with its statement's state. One query."""
    texts = PageText.objects.filter(page=page).select_related("statement")
    return sorted(
        texts.order_by("order", "id"),
        key=lambda t: (SECTION_ORDER.index(t.section), languages_order(t.statement.language)),
    )


def faq_order(page: CrisisPage, language: str) -> list[int]:
    """The statement ids of the page's FAQ entries in `language` (not withdrawn), in the
    order the page shows them. One query."""
    return list(
        PageText.objects.filter(page=page, section=Section.FAQ, statement__language=language)
        .exclude(statement__status=StatementStatus.WITHDRAWN)
        .order_by("order", "id")
        .values_list("statement_id", flat=True)
    )


def languages_order(code: str) -> int:
    found = languages()
    return found.index(code) if code in found else len(found)


# What is never a page update, whatever its channel: internal kinds, FAQ answers (a
# section of their own) and individual replies (they answer one person).
NOT_UPDATES = (*INTERNAL_KINDS, StatementKind.FAQ, StatementKind.REPLY)


def section_statements() -> Q:
    """The statements that are a crisis page's sections (summary, what we do, help, an FAQ
    answer), as a filter on Statement: shown on the page once approved (SHOWN), nobody
    publishes them."""
    return Q(channel=Channel.CRISIS_CENTER) & Q(
        Exists(PageText.objects.filter(statement=OuterRef("pk")))
    )


def page_texts_among(statements) -> set[int]:
    """The ids of those statements that are `section_statements`. One query, none when no
    statement is of the crisis center channel."""
    ids = [s.pk for s in statements if s.channel == Channel.CRISIS_CENTER]
    if not ids:
        return set()
    return set(
        Statement.objects.filter(section_statements(), pk__in=ids).values_list("pk", flat=True)
    )


def is_update(statement: Statement, page: CrisisPage) -> bool:
    """Whether a statement is (or would be, once published) one of the page's updates:
    of the crisis center channel, of an update's kind, in a language the pages speak, and
    bound to no section. At most one query."""
    if (
        statement.channel != Channel.CRISIS_CENTER
        or statement.kind in NOT_UPDATES
        or statement.language not in languages()
    ):
        return False
    return not PageText.objects.filter(page=page, statement=statement).exists()


def _published_updates(statements, bound):
    """Of these statements, the published ones of the crisis center channel bound to no
    section (`bound`: the pages' texts), never an internal briefing nor an FAQ answer."""
    return (
        statements.filter(channel=Channel.CRISIS_CENTER, status=StatementStatus.PUBLISHED)
        .exclude(kind__in=NOT_UPDATES)
        .exclude(pk__in=bound)
    )


def approved_updates(page: CrisisPage):
    """The approved statements that will be the page's updates once published (bound to no
    section, never an internal briefing nor an FAQ answer), approved longest ago first."""
    bound = PageText.objects.filter(page=page).values("statement_id")
    return (
        Statement.objects.filter(
            incident_id=page.incident_id,
            channel=Channel.CRISIS_CENTER,
            status=StatementStatus.APPROVED,
        )
        .exclude(kind__in=NOT_UPDATES)
        .exclude(pk__in=bound)
        .select_related("policy")
        .order_by("approved_at", "id")
    )


def updates_of(page: CrisisPage):
    """The page's updates: the published statements of the crisis center channel bound to
    no section (never an internal briefing nor an FAQ answer), newest first, bounded."""
    bound = PageText.objects.filter(page=page).values("statement_id")
    return _published_updates(
        Statement.objects.filter(incident_id=page.incident_id), bound
    ).order_by("-published_at", "-id")[:MAX_UPDATES]


def active_subscribers(page: CrisisPage):
    """Confirmed and not unsubscribed: who receives the page's updates."""
    return Subscriber.objects.filter(
        page=page, confirmed_at__isnull=False, unsubscribed_at__isnull=True
    )


# What a subscription's confirmation link is worth now.
PENDING, EXPIRED, USED, INVALID = "pending", "expired", "used", "invalid"


def confirmation(
    slug: str, token: str, *, for_update: bool = False
) -> tuple[str, str, Subscriber | None]:
    """(outcome, language, subscriber) of a confirmation link, read only: PENDING (it may
    confirm), USED (already confirmed, or made stale by a newer request or an
    unsubscription), EXPIRED (past its age), INVALID (not ours). The page the link opens
    (GET) and the confirmation (POST, `actions.subscription_confirm`, `for_update`) read
    it the same way. One query."""
    outcome, payload = subscriptions.read_confirm_token(token)
    if payload is None:
        return INVALID, "", None
    pk, when, language = payload
    found = Subscriber.objects.filter(pk=pk, page__slug=slug)
    subscriber = (found.select_for_update() if for_update else found).first()
    if subscriber is None:
        return INVALID, language, None
    if (
        subscriptions.stamp(subscriber.requested_at) != when
        or subscriber.confirmed_at is not None
        or subscriber.unsubscribed_at is not None
    ):
        return USED, language, None
    if outcome != "ok":
        return EXPIRED, language, None
    return PENDING, language, subscriber


def subscriber_count(page: CrisisPage) -> int:
    return active_subscribers(page).count()


def loose_ends(incident) -> list[str]:
    """For the lead resolving or closing the incident (incidents.extensions): a live crisis
    page still tells the public the crisis is ongoing (closing is refused until it is
    resolved: rules.transition_refused), and says when the next update comes. One query."""
    page = CrisisPage.objects.filter(incident=incident, state=PageState.LIVE).first()
    if page is None:
        return []
    if page.next_update_at is not None:
        return [
            _(
                "The crisis page is live and promises an update at %(time)s: publish a closing "
                "update, then resolve the page in its panel."
            )
            % {"time": formats.date_format(localtime(page.next_update_at), "SHORT_DATETIME_FORMAT")}
        ]
    return [
        _("The crisis page is live: publish a closing update, then resolve the page in its panel.")
    ]
