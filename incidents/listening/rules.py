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
detach one (the cell except observers) without the right to read listening data, and
whoever detached it may attach it again for UNDO_DETACH after (may_attach: the room
panel's Undo, undoable_detaches): they saw it there, and the timeline still quotes it.
Attaching anything else needs that right. When another incident took it since, the
refusal says which one, to those who may see it (held_elsewhere: a link to its room in the
pages, plain text in the API).

Who grants these permissions: an administrator of the site (ACCESS_GRANTED_BY), which the
refusals say (refusal).
"""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

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


# The room panel's Undo of a detach: whoever detached a mention may attach it again for
# this long after, with or without listening access.
UNDO_DETACH = timedelta(minutes=15)


def undo_minutes() -> int:
    return int(UNDO_DETACH.total_seconds() // 60)


def _last_detached_by(incident, user, now, *, among=None, limit=None) -> list[int]:
    """The ids of the mentions `user` detached from `incident` in the last UNDO_DETACH
    before `now` (its timeline's `mention_detached` entries, which name the mention and who
    detached it), that detach being the mention's last one from this incident (a colleague
    who attached it again and detached it since decided after them), newest detach first.
    `among`: only these mention ids; `limit`: the `limit` newest detaches of the window
    read (anyone's). One query (none for an empty `among`)."""
    from incidents.models import TimelineEntry

    if not (user and user.is_authenticated):
        return []
    entries = TimelineEntry.objects.filter(
        incident=incident, kind="mention_detached", recorded_at__gte=now - UNDO_DETACH
    )
    if among is not None:
        wanted = sorted({int(pk) for pk in among})
        if not wanted:
            return []
        entries = entries.filter(data__id__in=wanted)
    rows = entries.order_by("-seq").values_list("data__id", "actor_id")
    if limit is not None:
        rows = rows[:limit]
    last_by = {}  # mention id -> who detached it last (rows come newest first)
    for pk, actor_id in rows:
        if pk is not None:
            last_by.setdefault(int(pk), actor_id)
    return [pk for pk, actor_id in last_by.items() if actor_id == user.pk]


def undoable_detaches(incident, user, now, *, among=None, limit=None) -> list:
    """The mentions `user` detached from `incident` in the last UNDO_DETACH before `now`,
    that detach being the mention's last one from this incident (_last_detached_by), and
    that no other incident holds, newest detach first: those `user` may attach again
    without listening access (may_attach); the room panel offers the ones still detached
    (selectors.undoable_detaches). `among`: only these mention ids; `limit`: the `limit`
    newest detaches of the window read (anyone's). One query, two when there are some."""
    from .models import Mention

    ids = _last_detached_by(incident, user, now, among=among, limit=limit)
    if not ids:
        return []
    # Still detached, or attached to this incident again (attaching it is then a no-op:
    # a second click); one another incident took meanwhile is that incident's.
    held = (
        Mention.objects.filter(pk__in=ids)
        .filter(Q(incident__isnull=True) | Q(incident=incident))
        .only("pk", "incident", "platform", "author_handle", "author_name", "text")
    )
    found = {mention.pk: mention for mention in held}
    return [found[pk] for pk in ids if pk in found]


def may_attach(user, incident, mention_ids, now=None) -> bool:
    """Whether `user` may attach these mentions to `incident`, as far as listening goes (the
    incident's own rule, the cell except observers, and its being open are the action's
    other checks): the people who may read listening data, any mention; the others only
    mentions they detached from this incident in the last UNDO_DETACH that no other
    incident holds (undoable_detaches: the room panel's Undo). At most two queries."""
    if can_view_listening(user):
        return True
    ids = {int(pk) for pk in mention_ids}
    if not ids:
        return False
    undoable = undoable_detaches(incident, user, now or timezone.now(), among=ids)
    return ids <= {mention.pk for mention in undoable}


# How much of a mention's text a refusal quotes to say which one it is.
MENTION_NAMED_CHARS = 40


class Linked(str):
    """A sentence as plain text (what the API's `detail` and a message's text say), which a
    page renders with what it names linked (`__html__`: templates and format_html use it;
    conditional_escape keeps it for a message, which stores text)."""

    html: str

    def __new__(cls, text: str, html: str):
        said = super().__new__(cls, text)
        said.html = html
        return said

    def __html__(self) -> str:
        return self.html

    def __reduce__(self):  # copied or pickled (a cache, a task) with its link
        return (Linked, (str(self), self.html))


def held_elsewhere(user, other_id, mention=None) -> str:
    """Why a mention cannot be attached (again) here: the incident `other_id` holds it.
    Named to whoever may see that incident (its cell, staff: incidents.selectors.
    incidents_visible_to, the one rule of who sees an incident), its title a link to its
    room in a page (Linked); anyone else learns only that it is one they are not a member
    of, never its title. With `mention` (a page's refusal: the panel without JavaScript no
    longer shows the mention), the sentence names it as the panel's "Detached:" line does,
    its author and the start of its text (MENTION_NAMED_CHARS). One query."""
    from django.urls import reverse
    from django.utils.html import conditional_escape, format_html
    from django.utils.safestring import mark_safe
    from django.utils.text import Truncator

    from incidents.selectors import incidents_visible_to

    title = incidents_visible_to(user).filter(pk=other_id).values_list("title", flat=True)
    title = title.first()
    values = {"title": title, "author": "", "text": ""}
    if mention is not None and (mention.author_handle_shown or mention.author_name):
        values["author"] = mention.author_handle_shown or mention.author_name
        values["text"] = Truncator(" ".join(mention.text.split())).chars(MENTION_NAMED_CHARS)
    if title is None:
        if values["author"]:
            sentence = _(
                "The mention from %(author)s, “%(text)s”, is now attached to another "
                "incident you are not a member of."
            )
            return sentence % values
        return _("This mention is now attached to another incident you are not a member of.")
    if values["author"]:
        sentence = _(
            "The mention from %(author)s, “%(text)s”, is now attached to another incident: "
            "“%(title)s”."
        )
    else:
        sentence = _("This mention is now attached to another incident: “%(title)s”.")
    link = format_html('<a href="{}">{}</a>', reverse("incident-room", args=[other_id]), title)
    escaped = {key: conditional_escape(value) for key, value in values.items()}
    html = conditional_escape(sentence) % {**escaped, "title": link}
    return Linked(sentence % values, mark_safe(html))  # noqa: S308 (every piece escaped)


def attach_refusal(user, incident, mention_ids, now=None, *, named=False) -> str:
    """Why may_attach refused `user` these mentions: when one mention was asked, which
    `user` detached from `incident` in the last UNDO_DETACH (their detach the last: their
    Undo but for this) and another incident has taken since, that incident (held_elsewhere:
    named only to those who may see it; `named`, a page's: the mention too, by its author
    and text); else the rule, and whom to ask. The page, its Undo and the API say the same
    (require_attach), the API without naming the mention. Two queries, three when it was
    taken."""
    from .models import Mention

    ids = {int(pk) for pk in mention_ids}
    if len(ids) == 1:
        mine = _last_detached_by(incident, user, now or timezone.now(), among=ids)
        taken = (
            Mention.objects.filter(pk__in=mine)
            .exclude(incident__isnull=True)
            .exclude(incident=incident)
            .only("pk", "incident", "platform", "author_handle", "author_name", "text")
            .first()
            if mine
            else None
        )
        if taken is not None:
            return held_elsewhere(user, taken.incident_id, taken if named else None)
    return refusal(
        ngettext(
            "Without access to listening data, you can attach again only the mentions you "
            "detached from this incident in the last %(minutes)s minute, if no other "
            "incident has taken them since.",
            "Without access to listening data, you can attach again only the mentions you "
            "detached from this incident in the last %(minutes)s minutes, if no other "
            "incident has taken them since.",
            undo_minutes(),
        )
        % {"minutes": undo_minutes()}
    )


def require_attach(user, incident, mention_ids) -> None:
    """The guard of attaching (actions.mentions_attach): may_attach, else NotAllowed with
    attach_refusal."""
    if not may_attach(user, incident, mention_ids):
        raise NotAllowed(attach_refusal(user, incident, mention_ids))


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
