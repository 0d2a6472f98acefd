"""Which panels of the incident room a live event refreshes: decided here, once.

The room page names its refreshable panels (`data-panel="cell"`...), every live event
carries the names of the panels it changes (`"panels": [...]`, see `events`), and a resync
(`/incidents/<id>/timeline/?after=<seq>`) answers with the union of the missed entries'
panels. The browser keeps no list of its own: a new timeline kind, or a new signal, is
mapped here or the tests fail.

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

PANELS = (HEADER, CELL, STATEMENTS, EVIDENCE, TASKS, CONTACTS, NOTIFICATIONS)

# Who is in the cell and with which role changes the header (lead, "my role", the lead's
# controls), the cell, the checklist (columns by role, assignable members) and what the
# viewer may do in the statements and contacts panels.
_MEMBERSHIP = (HEADER, CELL, TASKS, STATEMENTS, CONTACTS)

ENTRY_PANELS: dict[str, tuple[str, ...]] = {
    # Written by actions.
    "declared": (),  # nobody watches an incident before it exists
    "updated": (HEADER, TASKS),  # title, summary, category (suitable playbooks)
    "status_changed": (HEADER,),  # the lead's "move to" buttons
    "reopened": (HEADER,),
    "severity_changed": (HEADER, TASKS),  # the severity picker, suitable playbooks
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
    "statement_drafted": (STATEMENTS,),
    "statement_revised": (STATEMENTS,),
    "statement_submitted": (STATEMENTS,),
    "statement_approved": (STATEMENTS,),
    "statement_changes_requested": (STATEMENTS,),
    "statement_published": (STATEMENTS, HEADER),
    "statement_withdrawn": (STATEMENTS,),
    "statement_escalated": (STATEMENTS,),  # the step's "escalated" mark
    # Written by the evidence locker.
    "evidence_added": (EVIDENCE,),
    "evidence_capture_failed": (EVIDENCE,),
    "evidence_exported": (),  # the locker is unchanged; the entry says who exported what
    # Written by playbooks and their tasks.
    "playbook_applied": (TASKS, CONTACTS),
    "task_assigned": (TASKS,),
    "task_completed": (TASKS,),
    "contact_briefed": (CONTACTS,),
    "contact_thanked": (CONTACTS,),
}

# Signals: working state outside the timeline (events.signal_payload).
SIGNAL_PANELS: dict[str, tuple[str, ...]] = {
    "evidence-changed": (EVIDENCE,),  # a thumbnail is ready, a capture moved on
    "tasks-changed": (TASKS,),  # a reminder made a task due or overdue
    "notifications-changed": (NOTIFICATIONS,),  # the user's bell
}


def entry_panels(kind: str) -> list[str]:
    """The panels an entry of this kind refreshes. An unmapped kind is a KeyError: the
    action recording it fails in the tests instead of refreshing nothing in production."""
    return list(ENTRY_PANELS[kind])


def signal_panels(signal: str) -> list[str]:
    return list(SIGNAL_PANELS[signal])


def panels_for(kinds: Iterable[str]) -> list[str]:
    """The union of the panels of several entries (a resync), in the order of PANELS."""
    wanted = {panel for kind in kinds for panel in ENTRY_PANELS[kind]}
    return [panel for panel in PANELS if panel in wanted]
