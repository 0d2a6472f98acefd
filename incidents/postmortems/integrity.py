"""The integrity checks of the post-mortem's own records (incidents.integrity runs them):
each signed-off version's content is hashed again and compared with its stored
`content_hash` and with the hash the timeline (a chain of its own) recorded when it was
signed off; a version the timeline recorded as signed off must still be there.

The row's own columns (number, revision, signed_off_at, and the post-mortem, hence the
incident) are outside `content_hash`, but the signed content holds the same facts, and that
content is held by the hash the chained timeline recorded: each column is compared with the
content it was signed with, so versions signed before this check verify as they are (the
content has always held these facts) and nothing is ever re-hashed."""

from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from incidents.chains import canonical_hash
from incidents.choices import EntryKind
from incidents.models import TimelineEntry

from .models import PostmortemVersion


def version_problems(incident) -> list[tuple[str, str]]:
    """(record, problem) for every post-mortem version of `incident` that is not what was
    signed off: two queries, whatever the number of versions."""
    recorded = {
        data.get("version"): data.get("content_hash", "")
        for data in TimelineEntry.objects.filter(
            incident=incident, kind=EntryKind.POSTMORTEM_SIGNED_OFF
        ).values_list("data", flat=True)
    }
    versions = PostmortemVersion.objects.filter(postmortem__incident=incident).order_by("number")
    found = []
    present = set()
    for version in versions:
        label = _("post-mortem version %(n)s") % {"n": version.number}
        present.add(version.number)
        intact = canonical_hash(version.content) == version.content_hash
        if not intact:
            found.append((label, _("its content does not match its content hash")))
        if version.number not in recorded:
            found.append((label, _("the timeline holds no sign-off of it")))
        elif recorded[version.number] != version.content_hash:
            found.append((label, _("its content hash differs from the one the timeline recorded")))
        if intact:  # the columns must say what the content they were signed with says
            found += [(label, problem) for problem in _column_problems(version, incident)]
    for number in sorted(n for n in recorded if n not in present and n is not None):
        found.append(
            (
                _("post-mortem version %(n)s") % {"n": number},
                _("recorded on the timeline as signed off, but the version is gone"),
            )
        )
    return found


def _column_problems(version: PostmortemVersion, incident) -> list[str]:
    """The columns of the version row that differ from the content it was signed with."""
    content = version.content if isinstance(version.content, dict) else {}
    signed = content.get("incident")
    signed_incident = signed.get("id") if isinstance(signed, dict) else None
    problems = []
    if signed_incident != incident.pk:
        problems.append(
            _(
                "its postmortem_id column puts it in the post-mortem of incident %(stored)s, "
                "but it was signed off for incident %(signed)s"
            )
            % {"stored": incident.pk, "signed": signed_incident}
        )
    signed_at = content.get("signed_off_at")
    signed_at = parse_datetime(signed_at) if isinstance(signed_at, str) else None
    # (column, stored value, signed value): compared as values, shown as written.
    columns = [
        ("number", version.number, content.get("version")),
        ("revision", version.revision, content.get("revision")),
        ("signed_off_at", version.signed_off_at, signed_at),
    ]
    for column, stored, expected in columns:
        if stored != expected:
            problems.append(
                _(
                    "its %(column)s column (%(stored)s) differs from what was signed off "
                    "(%(signed)s)"
                )
                % {"column": column, "stored": _shown(stored), "signed": _shown(expected)}
            )
    return problems


def _shown(value) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else str(value)
