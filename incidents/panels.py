"""Which panels of which page a live event refreshes: decided here, once.

The pages name their refreshable panels (`data-panel="cell"`...), every live event
carries the names of the panels it changes (`"panels": [...]`, see `events`), and a resync
(`/incidents/<id>/timeline/?after=<seq>`) answers with the union of the missed entries'
panels. The browser keeps no list of its own: a new timeline kind, or a new signal, is
mapped here or the tests fail. A page refreshes the named panels it has and ignores the
others (static/js/live.js); refreshes morph, so nothing typed is lost (static/js/morph.js).

Which events reach which page: the incident room and a statement's page listen to the
incident's socket (its events, and the person's own signals); every other signed-in page
listens to the person's socket, ws/me/ (their signals, and the events of the open
incidents they are an active member of: see consumers.UserConsumer).

A panel is named when the event changes what it renders, for some viewer. The timeline
entry itself and the header's chips and countdown arrive as HTML in the event and need no
refresh. Keys are the kinds' stored values, so this table does not depend on where the
enumeration lives.
"""

from collections.abc import Iterable

# The resync's response header: the missed entries' panels, comma-separated.
RESYNC_HEADER = "X-Refresh-Panels"

# The room's panels (templates/incidents/room.html, the bell in base.html).
HEADER = "header"  # title, lead, the viewer's role, the lead's controls
CELL = "cell"  # members, roles, the lead's member forms
STATEMENTS = "statements"
EVIDENCE = "evidence"
TASKS = "tasks"  # the checklist: columns by role, assignees, suitable playbooks
CONTACTS = "contacts"
NOTIFICATIONS = "notifications"  # the bell, on every page
MENTIONS = "mentions"  # the mentions attached to the incident (listening)
REPLIES = "replies"  # the reply queue's coverage (incidents.replies)
CRISIS_PAGE = "crisis-page"  # the public crisis page: state, links, what it shows
# The promotion freeze banner, on every signed-in page (base.html), the room's included.
PROMOTION_FREEZE = "promotion-freeze"

# The room's panels (tests check the room names each of them).
PANELS = (
    HEADER,
    CELL,
    STATEMENTS,
    EVIDENCE,
    TASKS,
    CONTACTS,
    NOTIFICATIONS,
    MENTIONS,
    REPLIES,
    CRISIS_PAGE,
    PROMOTION_FREEZE,
)

# The other pages' panels.
INCIDENTS = "incidents"  # the dashboard's list: title, severity, status, countdown, lead, my role
APPROVALS = "approvals"  # "My approvals": the statements waiting for my sign-off now
STATEMENT = "statement"  # a statement's page: status, text, approvals, what I may do (publish...)
# The listening page: the watches with their sparklines, the open signals, the stream.
LISTENING_WATCHES = "listening-watches"
LISTENING_SIGNALS = "listening-signals"
LISTENING_STREAM = "listening-stream"
# An incident's reply queue page: the items, their triage and claims, and its coverage.
REPLY_QUEUE = "reply-queue"

PAGE_PANELS = (
    INCIDENTS,
    APPROVALS,
    STATEMENT,
    LISTENING_WATCHES,
    LISTENING_SIGNALS,
    LISTENING_STREAM,
    REPLY_QUEUE,
)
ALL_PANELS = PANELS + PAGE_PANELS

# Who is in the cell and with which role changes the header (lead, "my role", the lead's
# controls), the cell, the checklist (columns by role, assignable members) and what the
# viewer may do in the statements and contacts panels; on the dashboard the lead and "my
# role"; whose approval a statement waits for (approver functions), and what each may do
# on a statement's page.
_MEMBERSHIP = (HEADER, CELL, TASKS, STATEMENTS, CONTACTS, INCIDENTS, APPROVALS, STATEMENT)

# A statement's state: the room's list, the inboxes it enters or leaves, its own page; the
# reply queue shows each reply's status (and lists those in review); the crisis page's
# panel which of its texts are approved and which updates it shows.
_STATEMENT = (STATEMENTS, APPROVALS, STATEMENT, REPLY_QUEUE, CRISIS_PAGE)

ENTRY_PANELS: dict[str, tuple[str, ...]] = {
    # Written by actions.
    "declared": (),  # nobody watches an incident before it exists
    "updated": (HEADER, TASKS, INCIDENTS),  # title, summary, category (suitable playbooks)
    "status_changed": (HEADER, INCIDENTS),  # the lead's "move to" buttons, the status chip
    "reopened": (HEADER, INCIDENTS),
    "severity_changed": (HEADER, TASKS, INCIDENTS),  # the severity picker, suitable playbooks
    "member_added": _MEMBERSHIP,
    "member_removed": _MEMBERSHIP,
    "role_changed": _MEMBERSHIP,
    "lead_handed_over": _MEMBERSHIP,
    # Typed by the committee: the entry is all there is.
    "note": (),
    "key_event": (),
    "amplification": (),
    "public_reaction": (),
    "supporter": (),
    "press_contact": (),
    "decision": (),
    # Written by the statements workflow.
    # A new statement: no other statement's page changes; a new reply shows in the queue.
    "statement_drafted": (STATEMENTS, REPLY_QUEUE, CRISIS_PAGE),
    "statement_revised": _STATEMENT,  # a revision voids the approvals given
    "statement_submitted": _STATEMENT,
    "statement_approved": _STATEMENT,  # the next step's approvers, or the publish box
    "statement_changes_requested": _STATEMENT,
    # The first-response countdown stops (the room's header, the dashboard).
    "statement_published": (*_STATEMENT, HEADER, INCIDENTS),
    "statement_withdrawn": _STATEMENT,
    "statement_escalated": _STATEMENT,  # the step's "escalated" mark
    # Reply templates approved in advance: the reply queue offers them marked as such.
    "template_preapproved": (REPLY_QUEUE,),
    "template_preapproval_withdrawn": (REPLY_QUEUE,),
    "preapproved_replies_set": (REPLY_QUEUE,),
    # Written by the evidence locker. A capture ends with one or the other: the reply queue
    # shows the captures of its mentions' posts and profiles.
    "evidence_added": (EVIDENCE, REPLY_QUEUE),
    "evidence_capture_failed": (EVIDENCE, REPLY_QUEUE),
    "evidence_exported": (),  # the locker is unchanged; the entry says who exported what
    # Written by playbooks and their tasks.
    "playbook_applied": (TASKS, CONTACTS),
    "task_assigned": (TASKS,),
    "task_completed": (TASKS,),
    "contact_briefed": (CONTACTS,),
    "contact_thanked": (CONTACTS,),
    # Written by listening: the room's panel, and the stream's "attached to" marks; the
    # reply queue gains or loses a person to answer.
    "mentions_attached": (MENTIONS, LISTENING_STREAM, REPLIES, REPLY_QUEUE),
    "mention_detached": (MENTIONS, LISTENING_STREAM, REPLIES, REPLY_QUEUE),
    # Written by the reply queue: a claim changes only the queue (who is on it); the others
    # change the coverage too.
    "mention_triaged": (REPLIES, REPLY_QUEUE),
    "mention_claimed": (REPLY_QUEUE,),
    "mention_released": (REPLY_QUEUE,),
    "reply_decided": (REPLIES, REPLY_QUEUE),
    "defender_thanked": (REPLIES, REPLY_QUEUE),
    # Written by the post-mortem: its own page reloads; the room's header links to it.
    "postmortem_started": (HEADER,),
    "postmortem_submitted": (HEADER,),
    "postmortem_reviewed": (HEADER,),
    "postmortem_signed_off": (HEADER,),
    "action_item_added": (),
    "action_item_closed": (),
    # Written by the public crisis center: its room panel (state, links, texts).
    "crisis_page_prepared": (CRISIS_PAGE, STATEMENTS),  # the page's drafts
    # Its approved updates become publishable: the inbox's "to publish", their pages.
    "crisis_page_live": (CRISIS_PAGE, APPROVALS, STATEMENT),
    "crisis_page_resolved": (CRISIS_PAGE,),
    "crisis_page_next_update": (CRISIS_PAGE,),
    "crisis_page_faq_ordered": (CRISIS_PAGE,),
    "crisis_page_promise_missed": (CRISIS_PAGE,),
    # The promotion freeze: the room's header (its state, the lead's control) and the banner
    # (for the pages that follow the incident, and a resync). The banner on every other page
    # of the cell's members is refreshed by their own signal, "promotion-freeze-changed"
    # below, whatever the incident's status. A task it completes writes its own entry.
    "promotion_freeze_set": (HEADER, PROMOTION_FREEZE),
    "promotion_freeze_lifted": (HEADER, PROMOTION_FREEZE),
}

# Signals: working state outside the timeline (events.signal_payload), and the person's
# own signals (events.publish_user_signal).
SIGNAL_PANELS: dict[str, tuple[str, ...]] = {
    "evidence-changed": (EVIDENCE,),  # a thumbnail is ready, a capture moved on
    "tasks-changed": (TASKS,),  # a reminder made a task due or overdue
    "delivery-failed": (CELL,),  # a member was not reached (the cell panel says so)
    # A post through a platform's API was queued, went out or failed (incidents.publishing):
    # the statement's page shows where it stands.
    "publication-changed": (STATEMENT,),
    # The user's bell; a hand-off (added to a cell, a statement to approve...) also changes
    # their dashboard and inbox.
    "notifications-changed": (NOTIFICATIONS, INCIDENTS, APPROVALS),
    # The user joined, left or changed role in a cell (events.MEMBERSHIPS_CHANGED): their
    # dashboard and inbox, and the promotion freeze banner (joining a frozen incident's cell
    # shows its freeze, leaving it hides it); their socket also follows that incident's
    # events from now on.
    "memberships-changed": (INCIDENTS, APPROVALS, PROMOTION_FREEZE),
    # A promotion freeze was set or lifted (events.PROMOTION_FREEZE_CHANGED, sent to each
    # member of the incident's cell whatever its status): the banner on every page.
    "promotion-freeze-changed": (PROMOTION_FREEZE,),
    # Mentions were stored or a signal changed (listening.events, sent to the people who
    # may read listening data): the listening page's panels.
    "listening-changed": (LISTENING_WATCHES, LISTENING_SIGNALS, LISTENING_STREAM),
}


def entry_panels(kind: str) -> list[str]:
    """The panels an entry of this kind refreshes. An unmapped kind is a KeyError: the
    action recording it fails in the tests instead of refreshing nothing in production."""
    return list(ENTRY_PANELS[kind])


def signal_panels(signal: str) -> list[str]:
    return list(SIGNAL_PANELS[signal])


def panels_for(kinds: Iterable[str]) -> list[str]:
    """The union of the panels of several entries (a resync), in the order of ALL_PANELS."""
    wanted = {panel for kind in kinds for panel in ENTRY_PANELS[kind]}
    return [panel for panel in ALL_PANELS if panel in wanted]
