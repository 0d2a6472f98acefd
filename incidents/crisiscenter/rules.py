"""Who may do what with an incident's crisis page, now: decided here, once, for the room's
panel, the team page, the API and the actions."""

from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from incidents import permissions
from incidents.models import Role, Status
from incidents.playbooks import templating
from statements import permissions as statement_permissions
from statements import rules as statement_rules
from statements.choices import Channel, StatementStatus

from . import selectors
from .choices import PageState
from .models import CrisisPage, CrisisPageTemplate

PREPARE = "prepare"
GO_LIVE = "go_live"
RESOLVE = "resolve"
NEXT_UPDATE = "next_update"
WRITE = "write"  # draft one of the page's texts (a statement bound to a section)
ORDER_FAQ = "order_faq"  # the order of the FAQ entries (no word changes: no approval)

NOT_THE_LEAD = _("Only the crisis lead prepares the crisis page and switches it live or resolved.")
NOT_A_WRITER = _("Only writers of the cell change the texts of a crisis page that is not resolved.")
NOT_A_SUBMITTER = _("Only writers of the cell submit the crisis page's drafts for approval.")
# Said where crisis page templates are edited (the admin) and when a page is prepared from
# one that holds the placeholder: a warning, never a refusal (such templates keep working).
NEXT_UPDATE_IN_TEMPLATE = _(
    "A text of this crisis page template holds {{ next_update_at }}: once approved, that "
    "text keeps the time it was prepared with and goes stale when the next update time "
    "moves. The page's header already shows the current next update time: leave the "
    "placeholder out of the texts."
)
NEXT_UPDATE_HELP = _(
    "Leave {{ next_update_at }} out of these texts: the page's header always shows the "
    "current next update time, while a text holding it keeps the time it was prepared with "
    "and goes stale when the next update time moves."
)

# The state a switch leads to, from the state it starts from: one step each.
SWITCHES = {
    GO_LIVE: (PageState.DARK, PageState.LIVE),
    RESOLVE: (PageState.LIVE, PageState.RESOLVED),
}


def can_see(user, incident) -> bool:
    """The panel, the team page and the preview: whoever may see the incident."""
    return permissions.can_view(user, incident)


def available_actions(user, incident, page) -> set[str]:
    """What `user` may do now with the incident's page (`page` None: not prepared yet)."""
    found: set[str] = set()
    lead = permissions.can_lead(user, incident)
    if page is None:
        if lead:
            found.add(PREPARE)
        return found
    if statement_permissions.can_draft(user, incident) and page.state != PageState.RESOLVED:
        found.add(WRITE)
        found.add(ORDER_FAQ)  # who writes the entries orders them
    if lead:
        for action, (start, _end) in SWITCHES.items():
            if page.state == start:
                found.add(action)
        if page.state != PageState.RESOLVED:
            found.add(NEXT_UPDATE)
    return found


def may_submit_drafts(user, incident) -> bool:
    """Whether the user may submit the page's drafts at all: a writer of the cell, as the
    statements' submit rule asks (statements.rules)."""
    return statement_permissions.can_draft(user, incident)


def drafts_to_submit(user, incident, texts) -> list:
    """The page's texts that "Submit all drafts for approval" sends, for the room's button
    (its count, and whether it shows) and the action: of `texts` (the page's PageText rows
    with their statements, selectors.page_texts), those still drafts, when the user may
    submit statements of the incident (a writer of the cell: the statements' own submit
    rule, which still judges each one when it is submitted). At most the page's text
    limit. No query."""
    if not may_submit_drafts(user, incident):
        return []
    drafts = [text for text in texts if text.statement.status == StatementStatus.DRAFT]
    return drafts[: selectors.MAX_PAGE_TEXTS]


# The fields of a crisis page template that become page texts.
TEMPLATE_TEXT_FIELDS = ("summary", "doing", "help", "faq")


def holds_next_update(template: CrisisPageTemplate) -> bool:
    """Whether a text of the template holds {{ next_update_at }} (NEXT_UPDATE_IN_TEMPLATE):
    for the admin, which edits templates, and the room, which prepares pages from them."""
    return any(
        name == "next_update_at"
        for field in TEMPLATE_TEXT_FIELDS
        for name in templating.PLACEHOLDER.findall(getattr(template, field) or "")
    )


def prepare_warning(playbook) -> str:
    """What preparing a page from this playbook's templates should say besides "prepared"
    (once, whatever the number of languages): NEXT_UPDATE_IN_TEMPLATE, or "". One query."""
    if playbook is None:
        return ""
    templates = CrisisPageTemplate.objects.filter(playbook=playbook)
    if any(holds_next_update(template) for template in templates):
        return str(NEXT_UPDATE_IN_TEMPLATE)
    return ""


def transition_refused(incident, status: str) -> str | None:
    """Closing an incident whose public page is still live would leave the page saying the
    crisis is ongoing: refused until the page is resolved (a dark page, or none, is no
    matter). Registered with incidents.extensions: the incident's own transition asks it."""
    if status != Status.CLOSED:
        return None
    if CrisisPage.objects.filter(incident=incident, state=PageState.LIVE).exists():
        return _("Its crisis page is still live: resolve it first (the crisis page panel).")
    return None


def publish_refusals(statements) -> dict[int, str]:
    """Crisis page updates (not sections: those are shown once approved) are published
    onto the page: refused while the incident has no page, or a dark one (nothing public
    would show it, and it counted as the incident's first public response). Registered
    with statements.outlets: {statement id: why}. One query, none for other channels."""
    updates = [s for s in statements if s.channel == Channel.CRISIS_CENTER]
    if not updates:
        return {}
    states = dict(
        CrisisPage.objects.filter(incident_id__in={s.incident_id for s in updates}).values_list(
            "incident_id", "state"
        )
    )
    refusals = {}
    for statement in updates:
        why = _refusal(states.get(statement.incident_id))
        if why:
            refusals[statement.pk] = why
    return refusals


def publish_refused() -> Q:
    """`publish_refusals` as a filter on Statement: the crisis center channel's statements
    of an incident whose page is missing or dark."""
    publishable_page = CrisisPage.objects.filter(incident_id=OuterRef("incident_id")).exclude(
        state=PageState.DARK
    )
    return Q(channel=Channel.CRISIS_CENTER) & ~Q(Exists(publishable_page))


def _refusal(state: str | None):
    if state is None:
        return _(
            "This incident has no crisis page yet: it can be published once the lead has "
            "prepared the page and switched it live."
        )
    if state == PageState.DARK:
        return _(
            "The crisis page is not live yet: it can be published once the lead switches it live."
        )
    return None


def no_page_to_publish_on(incident_id: int) -> str | None:
    """Why nothing can be published on the incident's crisis page now (no page, or a dark
    one), or None: said ahead where an update for the page is started (the post-mortem's
    "Share what we learned"). One query."""
    page = CrisisPage.objects.filter(incident_id=incident_id).first()
    return _refusal(page.state if page else None)


def announcement_refused(page, statement) -> str | None:
    """Why an update published now cannot announce the next update time its publisher gave
    (None: it can). Only a live page promises updates, and only a publication announces
    one: the time would otherwise be dropped without a word. For the room and the API,
    through actions.update_publish."""
    if statement.status == StatementStatus.PUBLISHED:
        return _(
            "This update is already published: publishing it again announces nothing. "
            "Set the next update time with the page's own control."
        )
    if page.state == PageState.RESOLVED:
        return _(
            "The crisis page is resolved: it promises no next update. Publish the update "
            "without a next update time."
        )
    if page.state != PageState.LIVE:
        return _(
            "The crisis page is not live yet: an update published now announces nothing. "
            "Set the next update time with the page's own control."
        )
    return None


def promise_keepers(incident) -> list:
    """Who is told that a promised update is due soon or missed: the lead and whoever
    publishes the page's updates (the spokespeople: statements.permissions.publishes; a
    lead the policy lets publish is the lead already). Users, from the active cell."""
    return [
        m.user
        for m in statement_rules.cell_of(incident)
        if m.role in (Role.LEAD, Role.SPOKESPERSON)
    ]
