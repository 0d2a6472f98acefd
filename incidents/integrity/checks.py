"""Every integrity check, over every app's records: read-only, every finding (not the first).

For each incident: its timeline (chain + signed checkpoint); each statement's revisions
(numbers, content hashes, checkpoint), its reviews (checkpoint) and its stored text against
its current revision; its evidence items' facts (checkpoint), each original (on disk,
SHA-256) and each custody chain (chain + checkpoint); the timeline's references to
statements and evidence items; each signed-off post-mortem version's content hashed again
(incidents.postmortems.integrity). Then, over the whole installation, checkpoints whose records
are gone. The chains and their checkpoints are described in incidents/chains.py.
"""

from collections import defaultdict
from dataclasses import dataclass

from django.utils.translation import gettext as _

from incidents import chains
from incidents.choices import EntryKind
from incidents.evidence.integrity import custody_problems, stored_file_problem
from incidents.evidence.models import EvidenceItem
from incidents.models import ChainCheckpoint, Incident, TimelineEntry
from incidents.postmortems.integrity import version_problems
from statements.models import Review, Revision, Statement, StatementStatus, text_hash


@dataclass(frozen=True)
class Finding:
    incident_id: int | None
    record: str
    problem: str

    def __str__(self):
        where = _("Incident %(id)s") % {"id": self.incident_id} if self.incident_id else ""
        return ", ".join(part for part in (where, self.record) if part) + f": {self.problem}"


def verify(*, incident: Incident | None = None, files: bool = True) -> list[Finding]:
    """Every finding, for one incident or (None) the whole installation. `files=False`
    skips re-hashing the stored originals (their presence and size are still checked)."""
    incidents = [incident] if incident is not None else Incident.objects.order_by("pk")
    findings: list[Finding] = []
    for each in incidents:
        findings += incident_findings(each, files=files)
    if incident is None:
        findings += orphan_checkpoints()
    return findings


def _checkpoints(prefix_ids: dict[str, list[int]]) -> dict[str, ChainCheckpoint]:
    names = [chains.chain_name(kind, pk) for kind, pks in prefix_ids.items() for pk in pks]
    return {c.chain: c for c in ChainCheckpoint.objects.filter(chain__in=names)}


def incident_findings(incident: Incident, *, files: bool = True) -> list[Finding]:
    findings = []

    def report(record, problems):
        findings.extend(Finding(incident.pk, str(record), p) for p in problems)

    report(_("timeline"), chains.timeline_problems(incident))

    statements = list(Statement.objects.filter(incident=incident).order_by("pk"))
    items = list(EvidenceItem.objects.filter(incident=incident).order_by("number"))
    checkpoints = _checkpoints(
        {
            chains.REVISIONS: [s.pk for s in statements],
            chains.REVIEWS: [s.pk for s in statements],
            chains.CUSTODY: [i.pk for i in items],
            chains.EVIDENCE: [incident.pk],
        }
    )
    revisions, reviews = defaultdict(list), defaultdict(list)
    for revision in Revision.objects.filter(statement__incident=incident).order_by("number"):
        revisions[revision.statement_id].append(revision)
    for review in Review.objects.filter(statement__incident=incident).order_by("pk"):
        reviews[review.statement_id].append(review)
    for statement in statements:
        label = _("statement %(id)s") % {"id": statement.pk}
        report(
            label,
            statement_problems(
                statement, revisions[statement.pk], reviews[statement.pk], checkpoints
            ),
        )

    added = dict(
        TimelineEntry.objects.filter(incident=incident, kind=EntryKind.EVIDENCE_ADDED).values_list(
            "data__evidence", "data__sha256"
        )
    )
    chain = chains.chain_name(chains.EVIDENCE, incident.pk)
    count, head = chains.fold_all(item.facts_digest() for item in items)
    report(
        _("evidence items"),
        chains.anchor_problems(
            checkpoints.get(chain), chain, count=count, head=head, required=bool(added)
        ),
    )
    for item in items:
        problems = custody_problems(
            item, checkpoints.get(chains.chain_name(chains.CUSTODY, item.pk)), loaded=True
        )
        problems.append(stored_file_problem(item)[1] if files else _file_size_problem(item))
        if item.pk in added and added[item.pk] != item.sha256:
            problems.append(_("the timeline recorded another SHA-256 for this item"))
        report(item.label, [p for p in problems if p])

    present = {item.pk for item in items}
    for pk in sorted(set(added) - present):
        report(
            _("evidence item %(id)s") % {"id": pk},
            [_("recorded on the timeline as added, but the item is gone")],
        )
    report_publications(report, statements, incident)
    drafted = TimelineEntry.objects.filter(
        incident=incident, kind=EntryKind.STATEMENT_DRAFTED
    ).values_list("data__statement", flat=True)
    for pk in sorted(set(drafted) - {s.pk for s in statements}):
        report(
            _("statement %(id)s") % {"id": pk},
            [_("recorded on the timeline as drafted, but the statement is gone")],
        )
    for record, problem in version_problems(incident):
        report(record, [problem])
    return findings


def report_publications(report, statements, incident) -> None:
    """Where and by whom a statement was published is on the (chained) timeline too: the
    statement's own record must agree with its publication entry, and nothing may look
    published that the timeline never saw published."""
    published = defaultdict(list)
    for entry in TimelineEntry.objects.filter(
        incident=incident, kind=EntryKind.STATEMENT_PUBLISHED
    ).only("actor_id", "occurred_at", "data"):
        published[entry.data.get("statement")].append(entry)
    for statement in statements:
        entries = published.get(statement.pk, [])
        label = _("statement %(id)s") % {"id": statement.pk}
        if statement.published_at is None and statement.status != StatementStatus.PUBLISHED:
            if entries:
                report(label, [_("the timeline recorded its publication; the statement does not")])
            continue
        if len(entries) != 1:
            report(label, [_("it is marked published; the timeline holds no publication of it")])
            continue
        entry = entries[0]
        if (
            entry.actor_id != statement.published_by_id
            or entry.occurred_at != statement.published_at
            or entry.data.get("url", "") != statement.published_url
            or entry.data.get("revision") != statement.revision
        ):
            report(
                label,
                [_("its publication (who, when, where, which revision) differs from the timeline")],
            )


def _file_size_problem(item) -> str | None:
    """Without re-hashing: the original is there and has its recorded size."""
    try:
        size = item.file.storage.size(item.file.name)
    except (FileNotFoundError, OSError):
        return _("the stored file is missing")
    if size != item.size:
        return _("the stored file's size (%(n)s bytes) differs from the recorded one") % {"n": size}
    return None


def statement_problems(statement, revisions, reviews, checkpoints) -> list[str]:
    problems = []
    for expected, revision in enumerate(revisions, start=1):
        if revision.number != expected:
            problems.append(
                _("revision numbers jump from %(a)s to %(b)s")
                % {"a": expected - 1, "b": revision.number}
            )
        if text_hash(revision.text) != revision.content_hash:
            problems.append(
                _("revision %(n)s's text does not match its content hash") % {"n": revision.number}
            )
    current = next((r for r in revisions if r.number == statement.revision), None)
    if current is None:
        problems.append(_("its current revision (%(n)s) is missing") % {"n": statement.revision})
    elif statement.text != current.text:
        problems.append(
            _("its stored text differs from its current revision (%(n)s)")
            % {"n": statement.revision}
        )
    if revisions and revisions[-1].number != statement.revision:
        problems.append(
            _("its current revision is %(n)s but revision %(m)s exists")
            % {"n": statement.revision, "m": revisions[-1].number}
        )
    for kind, rows in ((chains.REVISIONS, revisions), (chains.REVIEWS, reviews)):
        chain = chains.chain_name(kind, statement.pk)
        count, head = chains.fold_all(row.digest() for row in rows)
        problems += [
            f"{kind}: {problem}"
            for problem in chains.anchor_problems(
                checkpoints.get(chain), chain, count=count, head=head, required=True
            )
        ]
    for review in reviews:
        if not 1 <= review.revision <= len(revisions):
            problems.append(
                _("a review names revision %(n)s, which does not exist") % {"n": review.revision}
            )
    return problems


def orphan_checkpoints() -> list[Finding]:
    """Checkpoints whose records are gone altogether (the subject row too)."""
    subjects = {
        chains.TIMELINE: Incident,
        chains.EVIDENCE: Incident,
        chains.CUSTODY: EvidenceItem,
        chains.REVISIONS: Statement,
        chains.REVIEWS: Statement,
    }
    wanted = defaultdict(set)
    for name in ChainCheckpoint.objects.values_list("chain", flat=True).iterator():
        kind, _sep, pk = name.partition(":")
        wanted[kind].add(int(pk) if pk.isdigit() else -1)
    findings = []
    for kind, pks in sorted(wanted.items()):
        model = subjects.get(kind)
        present = (
            set(model.objects.filter(pk__in=pks).values_list("pk", flat=True)) if model else set()
        )
        for pk in sorted(pks - present):
            findings.append(
                Finding(
                    None,
                    _("checkpoint %(chain)s") % {"chain": f"{kind}:{pk}"},
                    _("signed checkpoint of records that are gone altogether"),
                )
            )
    return findings
