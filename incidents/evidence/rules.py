"""What a user may do with the evidence locker (adding evidence, its exports): decided
here, used by the actions, the pages and the API alike (and by the reply queue, which
captures a mention's pages as evidence)."""

from incidents import permissions

from .choices import ExportStatus


def can_add_evidence(user, incident) -> bool:
    """Upload files or ask for a URL capture: members of the cell who can write (not
    observers, not staff outside the cell)."""
    return permissions.can_write_timeline(user, incident)


def can_export(user, incident) -> bool:
    """Ask for a bundle for counsel: members of the cell who can write (not observers)."""
    return permissions.can_write_timeline(user, incident)


def can_download_export(user, export, *, incident=None) -> bool:
    """Download a ready bundle: the person who asked for it, while they may still see the
    incident. Each item's custody records the export as theirs (`exported`, by them), so
    nobody else receives the originals through it. `incident`: the export's incident
    already loaded with its cell (saves a query in lists)."""
    return (
        export.status == ExportStatus.READY
        and user.is_authenticated
        and export.requested_by_id == user.pk
        and permissions.can_view(user, incident or export.incident)
    )
