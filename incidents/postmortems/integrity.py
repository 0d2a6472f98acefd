"""The integrity checks of the post-mortem's own records (incidents.integrity runs them):
each signed-off version's content is hashed again and compared with its stored
`content_hash` and with the hash the timeline (a chain of its own) recorded when it was
signed off; a version the timeline recorded as signed off must still be there."""

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
        if canonical_hash(version.content) != version.content_hash:
            found.append((label, _("its content does not match its content hash")))
        if version.number not in recorded:
            found.append((label, _("the timeline holds no sign-off of it")))
        elif recorded[version.number] != version.content_hash:
            found.append((label, _("its content hash differs from the one the timeline recorded")))
    for number in sorted(n for n in recorded if n not in present and n is not None):
        found.append(
            (
                _("post-mortem version %(n)s") % {"n": number},
                _("recorded on the timeline as signed off, but the version is gone"),
            )
        )
    return found
