"""The playbook library (editor side): import playbook files, mark playbooks reviewed."""

import logging

from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from incidents.errors import require

from .. import portable
from ..models import (
    Contact,
    Playbook,
    PlaybookAdvice,
    PlaybookPolicy,
    PlaybookStep,
    StatementTemplate,
)
from ..rules import can_import_playbooks, can_review_playbooks

logger = logging.getLogger(__name__)


# --- The playbook library (editor side): import files, mark reviewed ------------------------
# `actor` is the staff user doing it, or None for the system: a management command or the
# demo data, run by whoever has shell access. The admin's history (LogEntry) records who did
# what when there is a user; every call is also logged (logger "incidents.playbooks.actions").


def _who(actor) -> str:
    return f"{actor.get_username()} (id {actor.pk})" if actor is not None else "the system"


def _history(actor, playbooks, flag, message) -> None:
    """The admin's history of these playbooks, as the admin writes it for its own saves."""
    if actor is not None and playbooks:
        LogEntry.objects.log_actions(
            user_id=actor.pk,
            queryset=playbooks,
            action_flag=flag,
            change_message=message,
            single_object=len(playbooks) == 1,
        )


@transaction.atomic
def playbooks_import(
    *, actor, data, replace: bool = False, source: str = ""
) -> list[portable.Imported]:
    """Import one playbook (a dict) or several (a list) read from a playbook file, all or
    nothing. `source` names the file for the log.

    Everything is checked first (portable.parse_playbooks: PlaybookFileError lists every
    problem). A name that already exists raises PlaybookExists, unless `replace`: then that
    playbook keeps its id (incidents that applied it still point to it) and gets the file's
    contents, with a version above its current one (the file's version when higher, else the
    current one + 1) so two different contents never share a version number. A file
    identical to the playbook as it stands changes nothing.
    """
    if actor is not None:
        require(
            can_import_playbooks(actor, replace=replace),
            _("Only staff allowed to change playbooks can replace them.")
            if replace and can_import_playbooks(actor)
            else _("Only staff allowed to add playbooks can import them."),
        )
    parsed, policies = portable.parse_playbooks(data)
    names = [p.playbook.name for p in parsed]
    existing = {
        playbook.name: playbook
        for playbook in Playbook.objects.select_for_update().filter(name__in=names)
    }
    if existing and not replace:
        raise portable.PlaybookExists(sorted(existing))
    try:
        results = [_import_one(p, existing.get(p.playbook.name), policies) for p in parsed]
    except IntegrityError:
        # Someone created the same name between our check and our insert.
        raise portable.PlaybookExists(names) from None
    by_outcome = {
        outcome: [r.playbook for r in results if r.outcome == outcome]
        for outcome in (portable.Outcome.CREATED, portable.Outcome.REPLACED)
    }
    _history(actor, by_outcome[portable.Outcome.CREATED], ADDITION, "Imported from a JSON file.")
    _history(
        actor,
        by_outcome[portable.Outcome.REPLACED],
        CHANGE,
        "Replaced by the contents of a JSON file.",
    )
    for result in results:
        logger.info(
            "Playbook import%s by %s: %s “%s” (id %s, version %s)",
            f" of {source}" if source else "",
            _who(actor),
            result.outcome,
            result.playbook.name,
            result.playbook.pk,
            result.playbook.version,
        )
    return results


def _import_one(parsed: portable.Parsed, existing: Playbook | None, policies: dict):
    playbook = parsed.playbook
    outcome = portable.Outcome.CREATED
    if existing is not None:
        if portable.export_playbook(existing) == parsed.normalized:
            return portable.Imported(existing, portable.Outcome.UNCHANGED)
        playbook.pk = existing.pk
        playbook.version = max(playbook.version, existing.version + 1)
        for model in (PlaybookStep, StatementTemplate, PlaybookPolicy, Contact, PlaybookAdvice):
            model.objects.filter(playbook=existing).delete()
        outcome = portable.Outcome.REPLACED
    playbook.save(force_update=existing is not None)
    for key, (model, _fields, _sort) in portable.SECTIONS.items():
        for row in parsed.rows[key]:
            row.playbook = playbook
        model.objects.bulk_create(parsed.rows[key])
    PlaybookPolicy.objects.bulk_create(
        PlaybookPolicy(playbook=playbook, severity=severity, policy=policies[name])
        for severity, name in parsed.policies
    )
    return portable.Imported(playbook, outcome)


@transaction.atomic
def playbooks_mark_reviewed(*, actor, playbooks, new_version: bool = False) -> list[Playbook]:
    """Record that these playbooks were reviewed today, optionally as a new version (+1).

    The playbook keeps the day (`last_reviewed_on`); who did it is kept in the admin's
    history and the log, as the model has no field for the reviewer.
    """
    require(
        can_review_playbooks(actor),
        _("Only staff allowed to change playbooks can mark them as reviewed."),
    )
    ids = sorted({playbook.pk for playbook in playbooks})
    locked = list(Playbook.objects.select_for_update().filter(pk__in=ids).order_by("pk"))
    changes = {"last_reviewed_on": timezone.localdate(), "updated_at": timezone.now()}
    changed_fields = ["last_reviewed_on"]
    if new_version:
        changes["version"] = F("version") + 1
        changed_fields.append("version")
    Playbook.objects.filter(pk__in=[p.pk for p in locked]).update(**changes)
    reviewed = list(Playbook.objects.filter(pk__in=[p.pk for p in locked]).order_by("name"))
    with translation.override(None):  # as the admin stores change messages
        names = [str(Playbook._meta.get_field(name).verbose_name) for name in changed_fields]
    _history(actor, reviewed, CHANGE, [{"changed": {"fields": names}}])
    for playbook in reviewed:
        logger.info(
            "Playbook “%s” (id %s) marked as reviewed on %s by %s%s",
            playbook.name,
            playbook.pk,
            playbook.last_reviewed_on,
            _who(actor),
            f", now version {playbook.version}" if new_version else "",
        )
    return reviewed
