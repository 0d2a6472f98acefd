"""Reads of the crisis page: what the public sees (only approved words) and what the room
shows. A constant number of queries whatever the number of updates and FAQ entries."""

from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings

from statements.models import INTERNAL_KINDS, Channel, Statement, StatementKind, StatementStatus

from .choices import SECTION_ORDER, PageState, Section
from .models import CrisisPage, PageText, Subscriber, UpdatePromise

# Bounds: a page is read whole, so what it holds is capped.
MAX_UPDATES = 300
MAX_FAQ = 100
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


def _approved_at(statement: Statement):
    return statement.approved_at or statement.published_at


def public_page(page: CrisisPage) -> PublicPage:
    """What the public page shows, per language. Four queries."""
    texts = list(
        PageText.objects.filter(page=page, statement__status__in=SHOWN)
        .select_related("statement")
        .order_by("order", "id")
    )
    updates = list(
        updates_of(page).only("id", "kind", "text", "language", "published_at", "corrects_id")
    )
    versions = {code: Version(language=code) for code in languages()}
    changed = [page.live_at, page.resolved_at]
    # A section shows its most recently approved statement (an older one stands while a new
    # text is in review, or when an approved text is edited and goes back to review).
    latest: dict[tuple[str, str], Statement] = {}
    for text in texts:
        statement = text.statement
        version = versions.get(statement.language)
        if version is None:
            continue
        changed.append(_approved_at(statement))
        if text.section == Section.FAQ:
            if len(version.faq) < MAX_FAQ:
                question, answer = split_heading(statement.text)
                version.faq.append(FaqEntry(id=statement.pk, question=question, answer=answer))
            continue
        key = (text.section, statement.language)
        if key not in latest or _approved_at(statement) >= _approved_at(latest[key]):
            latest[key] = statement
    for (section, language), statement in latest.items():
        version = versions[language]
        if section == Section.SUMMARY:
            version.title, version.summary = split_heading(statement.text)
        else:
            setattr(version, section, statement.text)
    announced = dict(
        UpdatePromise.objects.filter(
            page=page, announced_by_id__in=[u.pk for u in updates]
        ).values_list("announced_by_id", "due_at")
    )
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
                next_update_at=announced.get(update.pk),
            )
        )
    for version in versions.values():
        moments = [m for m in changed if m] + [u.published_at for u in version.updates]
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


def languages_order(code: str) -> int:
    found = languages()
    return found.index(code) if code in found else len(found)


def updates_of(page: CrisisPage):
    """The page's updates: the published statements of the crisis center channel bound to
    no section (never an internal briefing nor an FAQ answer), newest first, bounded."""
    bound = PageText.objects.filter(page=page).values("statement_id")
    return (
        Statement.objects.filter(
            incident_id=page.incident_id,
            channel=Channel.CRISIS_CENTER,
            status=StatementStatus.PUBLISHED,
        )
        .exclude(kind__in=[*INTERNAL_KINDS, StatementKind.FAQ])
        .exclude(pk__in=bound)
        .order_by("-published_at", "-id")[:MAX_UPDATES]
    )


def active_subscribers(page: CrisisPage):
    """Confirmed and not unsubscribed: who receives the page's updates."""
    return Subscriber.objects.filter(
        page=page, confirmed_at__isnull=False, unsubscribed_at__isnull=True
    )


def subscriber_count(page: CrisisPage) -> int:
    return active_subscribers(page).count()
