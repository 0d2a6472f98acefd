"""The three playbooks Crisis Cell ships with, and `ensure_default_playbooks`.

The playbooks are JSON files in `default_playbooks/`, in the playbook file format
(`portable`), created through the same import action the admin and `import_playbook` use.
Edit a playbook in the admin and export it to change a file, or edit the file as text.

They are a starting point for the demo brand, Maison Durand (a fictional French maker of
kitchenware), written from common practice: acknowledge within the hour, never delete
criticism, apologise sincerely when the fault is ours, keep people informed on a fixed
cadence, capture evidence before it disappears, answer unhappy customers one by one, haters
once and calmly, trolls not at all, brief ambassadors with facts rather than scripts, and
learn afterwards.

Conventions, so an editor can keep them when changing a playbook in the admin panel:

- Playbooks serve a French and English committee, but a step or a playbook has one text
  field per value. Short fields (names, step titles, contact roles) read "French / English";
  long fields (descriptions, guidance, notes) hold the French text, a `---` rule, then the
  English text.
- Statement templates exist once per language (same kind and channel, one FR and one EN).
- Square brackets, as in "[lien]" or "[your first name]", mark what the drafter completes
  before submitting; `{{ placeholders }}` are filled in when the playbook is applied, and a
  reply template's `{{ author.handle }}` when a reply is drafted from it in the reply queue
  (one reply template per complaint playbook and language has nothing to complete by
  hand, so its approvers can approve it in advance).
- {{ incident.title }} is the committee's working title, not a public sentence: only the
  internal briefings use it. Public templates name the brand and the next update time.
"""

from datetime import date
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from statements.models import (
    COMMUNICATIONS_ONLY,
    LEGAL_THEN_COMMUNICATIONS,
    ONE_APPROVER,
    ApprovalPolicy,
    ApprovalRequirement,
)

from . import actions, portable
from .models import Playbook

BRAND = "Maison Durand"
GUIDANCE_SEPARATOR = "\n\n---\n\n"

INAPPROPRIATE_POST = "Publication inappropriée de la marque / Inappropriate post by the brand"
PRODUCT_DEFECT = "Défaut produit, vague de réclamations / Product defect, complaint wave"
RUMOUR = "Rumeur, fausse information, diffamation / Rumour, fake news and defamation"

DIRECTORY = Path(__file__).resolve().parent / "default_playbooks"
# In the order they are created; each file holds one playbook, named as above.
FILES = {
    INAPPROPRIATE_POST: "inappropriate-post.json",
    PRODUCT_DEFECT: "product-defect.json",
    RUMOUR: "rumour.json",
}

# --- Approval policies ------------------------------------------------------------------------
# The playbooks name these. The first two are created by statements' migration 0002; they are
# recreated the same way if missing (a flushed test database), and never modified when they
# exist.


POLICIES = {
    ONE_APPROVER: {
        "description": "Any approver of the cell other than the author signs off.",
        "requirements": [(1, "")],
    },
    LEGAL_THEN_COMMUNICATIONS: {
        "description": "Legal approves first; then the communications director.",
        "requirements": [(1, "legal"), (2, "communications")],
    },
    COMMUNICATIONS_ONLY: {
        "description": (
            "One approver with the communications function (usually the communications "
            "director) signs off. For incidents where speed matters more than legal review."
        ),
        "requirements": [(1, "communications")],
    },
}


def read_default(name: str) -> dict:
    """The playbook file of one default playbook, as the importer reads it."""
    return portable.read_json((DIRECTORY / FILES[name]).read_bytes(), max_bytes=None)


def ensure_default_playbooks(today: date | None = None) -> list[Playbook]:
    """Create the default playbooks that do not exist yet and return those it created.

    A playbook is matched by name only: when one of that name exists, it is left exactly as
    it is, whatever an editor changed in it. A new one is imported from its file as version
    1, reviewed `today` (the day it is created). Approval policies are looked up by name and
    created only when missing (never modified).
    """
    today = today or timezone.localdate()
    created = []
    with transaction.atomic():
        existing = set(Playbook.objects.filter(name__in=FILES).values_list("name", flat=True))
        missing = [(name, filename) for name, filename in FILES.items() if name not in existing]
        if missing:
            _ensure_policies()
        for name, filename in missing:
            data = {**read_default(name), "version": 1, "last_reviewed_on": today.isoformat()}
            try:
                [result] = actions.playbooks_import(
                    actor=None, data=data, source=f"default_playbooks/{filename}"
                )
            except portable.PlaybookExists:
                continue  # a concurrent run created it first
            created.append(result.playbook)
    return created


def _ensure_policies() -> None:
    for name, spec in POLICIES.items():
        policy, created = ApprovalPolicy.objects.get_or_create(
            name=name,
            defaults={
                "description": spec["description"],
                "mode": ApprovalPolicy.Mode.ALL,
                # As migration 0002 does: the stock policy is the default if none is.
                "is_default": name == ONE_APPROVER
                and not ApprovalPolicy.objects.filter(is_default=True).exists(),
            },
        )
        if created:
            ApprovalRequirement.objects.bulk_create(
                ApprovalRequirement(policy=policy, step=step, function=function)
                for step, function in spec["requirements"]
            )
