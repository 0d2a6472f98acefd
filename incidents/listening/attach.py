"""Attach mentions to an incident, or detach them: the writes behind the listening page's
"Attach to incident…" button, the room's mentions panel and /api/incidents/{id}/mentions/.

Who may: the incident's cell except observers (incidents.rules WRITE_TIMELINE, the rule of
the timeline), and, to attach, only people who may read listening data (a mention is brand
data until it is attached). Each call is one timeline entry, written under the incident's
lock like every entry; a mention belongs to one incident at most.
"""

from django.db import transaction
from django.utils.translation import gettext as _

from incidents import actions as incident_actions
from incidents import rules as incident_rules
from incidents.errors import InvalidInput, NotAllowed
from incidents.models import EntryKind, Incident

from . import rules
from .models import Mention

# Mentions attached in one call (the API's list), and named in the timeline entry.
MAX_ATTACH = 200
MAX_NAMED = 20
EXCERPT = 140


def _describe(mention: Mention) -> dict:
    return {
        "id": mention.pk,
        "platform": mention.platform,
        "author": mention.author_handle,
        "url": mention.url,
        "posted_at": mention.posted_at.isoformat(),
        "text": mention.text[:EXCERPT],
        "sentiment": mention.sentiment,
    }


@transaction.atomic
def mentions_attach(*, mention_ids, incident: Incident, actor) -> list[int]:
    """Attach the mentions `mention_ids` (at most MAX_ATTACH) to `incident`; returns the ids
    newly attached ([] if all were already: no entry then). Raises NotAllowed (see the
    module), InvalidInput for an unknown id or a mention attached to another incident."""
    ids = sorted({int(pk) for pk in mention_ids})
    if not ids:
        raise InvalidInput(_("Choose at least one mention."))
    if len(ids) > MAX_ATTACH:
        raise InvalidInput(_("At most %(n)s mentions at a time.") % {"n": MAX_ATTACH})
    if not rules.can_view_listening(actor):
        raise NotAllowed(_("Listening data is shown to the people given access to it."))
    incident = incident_actions.lock_incident(incident)
    incident_rules.require(actor, incident, incident_rules.WRITE_TIMELINE)
    mentions = list(Mention.objects.select_for_update().filter(pk__in=ids).order_by("-posted_at"))
    if len(mentions) != len(ids):
        raise InvalidInput(_("Some of these mentions do not exist."))
    if any(m.incident_id not in (None, incident.pk) for m in mentions):
        raise InvalidInput(_("A mention is already attached to another incident."))
    fresh = [m for m in mentions if m.incident_id is None]
    if not fresh:
        return []
    Mention.objects.filter(pk__in=[m.pk for m in fresh]).update(incident=incident)
    incident_actions.timeline_record(
        incident,
        kind=EntryKind.MENTIONS_ATTACHED,
        actor=actor,
        data={"count": len(fresh), "mentions": [_describe(m) for m in fresh[:MAX_NAMED]]},
    )
    return [m.pk for m in fresh]


def mention_attach(*, mention: Mention, incident: Incident, actor) -> bool:
    """Attach one mention; False when it already was."""
    return bool(mentions_attach(mention_ids=[mention.pk], incident=incident, actor=actor))


@transaction.atomic
def mention_detach(*, mention: Mention, incident: Incident, actor) -> bool:
    """Detach a mention from `incident` (the cell except observers); False when it was not
    attached to it (nothing written)."""
    incident = incident_actions.lock_incident(incident)
    incident_rules.require(actor, incident, incident_rules.WRITE_TIMELINE)
    mention = Mention.objects.select_for_update().get(pk=mention.pk)
    if mention.incident_id != incident.pk:
        return False
    Mention.objects.filter(pk=mention.pk).update(incident=None)
    incident_actions.timeline_record(
        incident, kind=EntryKind.MENTION_DETACHED, actor=actor, data=_describe(mention)
    )
    return True
