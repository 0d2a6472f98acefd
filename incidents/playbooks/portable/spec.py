"""The playbook file format: its version, the fields it carries, and its errors."""

from dataclasses import dataclass

from django.utils.translation import ngettext

from incidents.errors import Conflict, InvalidInput

from ..models import (
    COPIED_CONTACT_FIELDS,
    Contact,
    Playbook,
    PlaybookAdvice,
    PlaybookStep,
    StatementTemplate,
)

FORMAT = "crisiscell.playbook"
FORMAT_VERSION = 1
MAX_IMPORT_BYTES = 1024 * 1024  # a playbook is a few kilobytes; this leaves ample room

PLAYBOOK_FIELDS = [
    "name",
    "description",
    "categories",
    "min_severity",
    "max_severity",
    "brand",
    "version",
    "last_reviewed_on",
    "is_active",
]
# JSON key -> model, fields, and the sort key that matches the model's ordering (the
# order in which an export lists the rows).
SECTIONS = {
    "steps": (
        PlaybookStep,
        ["order", "title", "guidance", "role", "due_minutes", "repeat_minutes", "completes_on"],
        lambda row: row["order"],
    ),
    "templates": (
        StatementTemplate,
        ["order", "name", "kind", "channel", "language", "author_type", "text"],
        lambda row: row["order"],
    ),
    "contacts": (
        Contact,
        [*COPIED_CONTACT_FIELDS, "order"],
        lambda row: (row["kind"], row["order"]),
    ),
    # Handling advice per author type of the reply queue (at most one row per type).
    "advice": (
        PlaybookAdvice,
        ["author_type", "text_en", "text_fr"],
        lambda row: row["author_type"],
    ),
}
POLICY_KEYS = ["severity", "policy"]
TOP_KEYS = ["format", "format_version", *PLAYBOOK_FIELDS, *SECTIONS, "policies"]


class PlaybookFileError(InvalidInput):
    """The file cannot be imported; `errors` lists every problem found, in plain words."""

    def __init__(self, errors: list[str]):
        self.errors = list(errors)
        heading = ngettext(
            "The playbook file has a problem:",
            "The playbook file has %(count)d problems:",
            len(self.errors),
        ) % {"count": len(self.errors)}
        super().__init__("\n".join([heading, *(f"- {error}" for error in self.errors)]))


class PlaybookExists(Conflict):
    """Importing without `replace` a playbook whose name is taken."""

    def __init__(self, names: list[str]):
        self.names = list(names)
        super().__init__(
            ngettext(
                "A playbook named %(names)s already exists: replace it, or import the file "
                "under another name.",
                "Playbooks named %(names)s already exist: replace them, or import the file "
                "under other names.",
                len(self.names),
            )
            % {"names": ", ".join(f"“{name}”" for name in self.names)}
        )


class Outcome:
    CREATED = "created"
    REPLACED = "replaced"
    UNCHANGED = "unchanged"


@dataclass
class Imported:
    playbook: Playbook
    outcome: str  # an Outcome
