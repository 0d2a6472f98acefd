"""Importing: all or nothing, in one transaction."""

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from ..models import Contact, Playbook, PlaybookPolicy, PlaybookStep, StatementTemplate
from .export import export_playbook
from .parse import Parsed, parse_playbooks
from .spec import SECTIONS, Imported, Outcome, PlaybookExists, PlaybookFileError


def import_playbook(data: dict, *, replace: bool = False) -> Playbook:
    """Create a playbook from its exported dict; see import_playbooks."""
    if not isinstance(data, dict):
        raise PlaybookFileError([_("A playbook file holds a JSON object {…}, or a list of them.")])
    return import_playbooks(data, replace=replace)[0].playbook


@transaction.atomic
def import_playbooks(data, *, replace: bool = False) -> list[Imported]:
    """Import one playbook (a dict) or several (a list), all or nothing.

    A name that already exists raises PlaybookExists, unless `replace`: then that playbook
    keeps its id (incidents that applied it still point to it) and gets the file's
    contents, with a version above its current one (the file's version when higher, else
    the current one + 1) so two different contents never share a version number. A file
    identical to the playbook as it stands changes nothing.
    """
    parsed, found = parse_playbooks(data)
    names = [p.playbook.name for p in parsed]

    existing = {
        playbook.name: playbook
        for playbook in Playbook.objects.select_for_update().filter(name__in=names)
    }
    if existing and not replace:
        raise PlaybookExists(sorted(existing))
    try:
        return [_write(p, existing.get(p.playbook.name), found) for p in parsed]
    except IntegrityError:
        # Someone created the same name between our check and our insert.
        raise PlaybookExists(names) from None


def _write(parsed: Parsed, existing: Playbook | None, policies: dict) -> Imported:
    playbook = parsed.playbook
    outcome = Outcome.CREATED
    if existing is not None:
        if export_playbook(existing) == parsed.normalized:
            return Imported(existing, Outcome.UNCHANGED)
        playbook.pk = existing.pk
        playbook.pk = existing.pk
        playbook.version = max(playbook.version, existing.version + 1)
        for model in (PlaybookStep, StatementTemplate, PlaybookPolicy, Contact):
            model.objects.filter(playbook=existing).delete()
        outcome = Outcome.REPLACED
    playbook.save(force_update=existing is not None)
    for key, (model, _fields, _sort) in SECTIONS.items():
        for row in parsed.rows[key]:
            row.playbook = playbook
        model.objects.bulk_create(parsed.rows[key])
    PlaybookPolicy.objects.bulk_create(
        PlaybookPolicy(playbook=playbook, severity=severity, policy=policies[name])
        for severity, name in parsed.policies
    )
    return Imported(playbook, outcome)
