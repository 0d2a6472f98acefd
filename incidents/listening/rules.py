"""Who may do what with listening data. Watches and mentions are brand data, not an
incident's: they are read by the people given Django's permissions for them (in the
admin, usually through a group such as "Crisis team"; docs/user-guide.md, "Listening"):

- read watches and mentions: `listening.view_mention`;
- create and change watches (and their planned campaigns): `listening.change_watch`, with
  the right to read them;
- send mentions (`POST /api/mentions/bulk/`): `listening.add_mention` alone, so a tool's
  or webhook's account needs no right to read (its report counts lines, it shows no stored
  mention); import a file on the import page: both, since its preview and report lead to
  the stream.

The admin panel asks the same rules (admin.py): a staff account with the admin's own model
permissions but not these gets no more there than on the pages.

A watch's planned campaigns (expected bursts) are declared, changed and deleted by whoever
may change watches, until they end: an ended one is kept as it was, the record of why the
volume alerts were quiet then (burst_is_open).

The mentions attached to an incident are also shown to that incident's cell, as the rest
of the incident is (incidents.permissions), whatever these permissions. So its cell may
detach one (the cell except observers), and attach again a mention detached from that
incident (may_attach: the room panel's Undo), without the right to read listening data:
the cell saw it there, and the timeline still quotes it.

Who grants these permissions: an administrator of the site (ACCESS_GRANTED_BY), which the
refusals say (refusal).
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from incidents.errors import Conflict, NotAllowed


def _has(user, perm: str) -> bool:
    return bool(user and user.is_authenticated and user.is_active and user.has_perm(perm))


def can_view_listening(user) -> bool:
    return _has(user, "listening.view_mention")


def listening_readers():
    """The people for whom can_view_listening is true, as a query (unordered, distinct):
    active, and given `listening.view_mention` directly, through a group, or superusers.
    Who may be alerted by a watch (its subscribers) and who is sent its live updates."""
    perm = Permission.objects.filter(content_type__app_label="listening", codename="view_mention")
    users = get_user_model().objects.filter(is_active=True)
    users = users.filter(
        Q(is_superuser=True) | Q(user_permissions__in=perm) | Q(groups__permissions__in=perm)
    )
    return users.distinct()


def can_edit_watches(user) -> bool:
    return can_view_listening(user) and _has(user, "listening.change_watch")


def can_ingest(user) -> bool:
    """May send mentions (the bulk API, collectors' accounts); see can_import_files."""
    return _has(user, "listening.add_mention")


def can_import_files(user) -> bool:
    """May use the import page: send mentions and read the stream they land in."""
    return can_view_listening(user) and can_ingest(user)


# Whom to ask: these permissions are given in the admin, by an administrator of the site.
ACCESS_GRANTED_BY = gettext_lazy(
    "An administrator of Crisis Cell gives this access (in the admin, usually through a group "
    "such as “Crisis team”): ask them if you need it."
)


def refusal(reason) -> str:
    """A refusal of listening access as the pages say it: why, then whom to ask."""
    return f"{reason} {ACCESS_GRANTED_BY}"


def require_edit_watches(user) -> None:
    if not can_edit_watches(user):
        raise NotAllowed(_("Only people allowed to change watches can do this."))


def detached_from(incident, mention_ids) -> set[int]:
    """Which of these mentions were detached from `incident` (its timeline's
    `mention_detached` entries, which name the mention). One query."""
    from incidents.models import TimelineEntry

    ids = {int(pk) for pk in mention_ids}
    if not ids:
        return set()
    rows = TimelineEntry.objects.filter(
        incident=incident, kind="mention_detached", data__id__in=sorted(ids)
    ).values_list("data__id", flat=True)
    return {int(pk) for pk in rows if pk is not None} & ids


def may_attach(user, incident, mention_ids) -> bool:
    """Whether `user` may attach these mentions to `incident`, as far as listening goes (the
    incident's own rule, the cell except observers, and its being open are the action's
    other checks): the people who may read listening data, any mention; the others only
    mentions detached from this incident (the room's Undo of a detach: its cell saw them
    there, the timeline quotes them, so attaching them again reveals nothing). At most one
    query."""
    if can_view_listening(user):
        return True
    ids = {int(pk) for pk in mention_ids}
    return bool(ids) and ids <= detached_from(incident, ids)


def require_attach(user, incident, mention_ids) -> None:
    """The guard of attaching (actions.mentions_attach): may_attach, else NotAllowed."""
    if not may_attach(user, incident, mention_ids):
        raise NotAllowed(_("Listening data is shown to the people given access to it."))


def require_ingest(user) -> None:
    if not can_ingest(user):
        raise NotAllowed(_("Only people allowed to import mentions can do this."))


def burst_is_open(burst, now) -> bool:
    """Whether a planned campaign may still be changed or deleted: it has not ended."""
    return burst.ends_at > now


def require_burst_open(burst, now) -> None:
    if not burst_is_open(burst, now):
        raise Conflict(
            _(
                "This planned campaign has ended: it is kept as it was, the record of why "
                "volume alerts were quiet then."
            )
        )
