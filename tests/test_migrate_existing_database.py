"""An existing database, from before evidence, playbooks and notifications became apps of
their own, migrates forward with nothing lost: every row, every hash chain, every file.

The test takes the database back to that schema (incidents 0004, statements 0003), fills it
the way the product did then (the actions for what did not change, the historical models
for the playbook side and the bell as they were), migrates forward and checks it all. It
runs on SQLite and, in production mode, on PostgreSQL (with its triggers).
"""

import hashlib
from datetime import timedelta

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from incidents import actions as incident_actions
from incidents import chains, extensions, rules
from incidents.models import Incident, TimelineEntry
from tests.evidence.conftest import png_bytes

BEFORE = [
    ("incidents", "0004_playbooks_and_tasks"),
    ("statements", "0003_append_only_revisions_and_reviews"),
    ("evidence", None),
    ("playbooks", None),
    ("notifications", None),
]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state([t for t in targets if t[1] is not None]).apps


def _latest():
    executor = MigrationExecutor(connection)
    return executor.loader.graph.leaf_nodes()


@pytest.fixture
def old_schema(transactional_db, settings, tmp_path, monkeypatch):
    """The old schema, and today's actions writing no signed checkpoints (their table did
    not exist then): the migration signs the chains it finds. `old_schema.undo()` ends it.
    No notices either when the cell changes (the bell's table was different)."""
    settings.MEDIA_ROOT = tmp_path / "media"
    old_apps = _migrate(BEFORE)
    for name in ("anchor", "anchor_fold", "open_chain"):
        monkeypatch.setattr(chains, name, lambda *args, **kwargs: True)
    # Nor the hand-off notices a cell change writes: the bell's table was another then.
    monkeypatch.setattr(extensions, "_cell_changed", [])
    # Nor a promotion freeze at the declaration: its table came later (incidents 0013).
    monkeypatch.setattr(rules, "freeze_by_default", lambda severity: False)
    old_apps.undo = monkeypatch.undo
    try:
        yield old_apps
    finally:
        monkeypatch.undo()
        _migrate(_latest())  # whatever happened, leave the schema as the other tests expect


def test_an_existing_database_moves_forward_intact(old_schema, lead, drafter, approver):
    from statements import actions as statement_actions
    from statements.models import ApprovalPolicy, Statement

    old = old_schema
    # What did not change is written by today's actions, as it was written then.
    incident = incident_actions.incident_declare(
        actor=lead,
        title="Old crisis",
        summary="",
        category="product",
        origin="online",
        platforms=["x"],
        severity=3,
    )
    incident_actions.member_add(incident=incident, actor=lead, user=drafter, role="drafter")
    incident_actions.member_add(
        incident=incident, actor=lead, user=approver, role="approver", function="legal"
    )
    incident_actions.timeline_add_entry(incident=incident, actor=lead, kind="note", text="Before")
    # The policy as its tables were then (a required approval had no deadline yet).
    OldPolicy = old.get_model("statements", "ApprovalPolicy")
    old_policy, created = OldPolicy.objects.get_or_create(
        name="One approver", defaults={"is_default": True, "mode": "all"}
    )
    if created:
        old.get_model("statements", "ApprovalRequirement").objects.create(
            policy=old_policy, step=1, function=""
        )
    policy = ApprovalPolicy.objects.get(pk=old_policy.pk)
    # The statement as its tables were then (it has since learnt which template it was
    # made from): its row and first revision, as statement_create wrote them.
    now = timezone.now()
    statement = old.get_model("statements", "Statement").objects.create(
        incident_id=incident.pk,
        kind="holding",
        channel="x",
        language="fr",
        text="Nous regardons.",
        policy_id=policy.pk,
        author_id=drafter.pk,
        revised_by_id=drafter.pk,
        created_at=now,
    )
    old.get_model("statements", "Revision").objects.create(
        statement=statement,
        number=1,
        text="Nous regardons.",
        author_id=drafter.pk,
        created_at=now,
        content_hash=hashlib.sha256(b"Nous regardons.").hexdigest(),
    )
    from incidents.evidence import actions as evidence_actions

    image = png_bytes()
    [item] = evidence_actions.evidence_attach(
        incident=incident,
        actor=drafter,
        files=[SimpleUploadedFile("shot.png", image, content_type="image/png")],
        metadata={"author_handle": "@someone"},
    )
    # The playbook side and the bell, as their tables were then (historical models).
    Playbook = old.get_model("incidents", "Playbook")
    AppliedPlaybook = old.get_model("incidents", "AppliedPlaybook")
    Task = old.get_model("incidents", "Task")
    Notification = old.get_model("incidents", "Notification")
    now = timezone.now()
    playbook = Playbook.objects.create(name="Old playbook", brand="Maison")
    AppliedPlaybook.objects.create(
        incident_id=incident.pk,
        playbook=playbook,
        name=playbook.name,
        version=1,
        brand="Maison",
        approval_policy_id=policy.pk,
        applied_at=now,
        applied_by_id=lead.pk,
    )
    task = Task.objects.create(
        incident_id=incident.pk,
        title="Publish the holding statement",
        role="drafter",
        due_at=now + timedelta(minutes=30),
    )
    Notification.objects.create(
        user_id=drafter.pk, incident_id=incident.pk, task=task, kind="due_soon", created_at=now
    )
    counts = {
        "timeline": TimelineEntry.objects.filter(incident=incident).count(),
        "custody": old.get_model("incidents", "CustodyEvent").objects.count(),
    }
    old_type = ContentType.objects.get_by_natural_key("incidents", "evidenceitem").pk

    old.undo()
    _migrate(_latest())

    from incidents.evidence.models import CustodyEvent, EvidenceItem
    from incidents.notifications.models import Notification as NewNotification
    from incidents.playbooks.models import AppliedPlaybook as NewApplied
    from incidents.playbooks.models import Task as NewTask
    from statements.models import IncidentPolicy

    incident = Incident.objects.get(pk=incident.pk)
    assert TimelineEntry.objects.filter(incident=incident).count() == counts["timeline"]
    assert chains.timeline_problems(incident) == []
    assert Statement.objects.get(pk=statement.pk).text == "Nous regardons."
    moved = EvidenceItem.objects.get(pk=item.pk)
    assert moved.author_handle == "@someone"
    with moved.file.open("rb") as stored:
        assert hashlib.sha256(stored.read()).hexdigest() == moved.sha256 == item.sha256
    assert CustodyEvent.objects.count() == counts["custody"]
    assert evidence_actions.evidence_verify(item=moved) is None  # chain and file intact
    # The rows kept their tables and ids; their content types followed them.
    assert ContentType.objects.get_by_natural_key("evidence", "evidenceitem").pk == old_type
    assert NewApplied.objects.get(incident=incident).brand == "Maison"
    assert NewTask.objects.get(pk=task.pk).title == "Publish the holding statement"
    note = NewNotification.objects.get(user=drafter)
    assert note.subject == "Publish the holding statement"
    assert note.url == f"/incidents/{incident.pk}/#task-{task.pk}"
    assert IncidentPolicy.objects.get(incident=incident).policy == policy
    call_command("verify_timeline", verbosity=0)
    # The migration signed a checkpoint for every chain it found, and they go on from there.
    call_command("verify_integrity", verbosity=0)
    statement_actions.statement_edit(
        statement=Statement.objects.get(pk=statement.pk),
        actor=drafter,
        text="Nous regardons encore.",
        base_revision=1,
    )
    call_command("verify_integrity", verbosity=0)
    if connection.vendor == "postgresql":  # the triggers came along, under their new names
        for table in ("incidents_evidenceitem", "incidents_custodyevent"):
            with pytest.raises(DatabaseError, match="pgtrigger"), transaction.atomic():
                connection.cursor().execute(f"DELETE FROM {table}")  # noqa: S608


def test_the_apps_migrate_back_and_forth_with_data(old_schema, lead):
    """Undoing the split (or only the playbooks app) and redoing it keeps working with
    rows in the tables: the policy choices are copied once, the bell's items are dropped
    when notifications must point at tasks again."""
    from incidents.notifications.actions import notify
    from incidents.playbooks import actions as playbook_actions
    from incidents.playbooks.defaults import ensure_default_playbooks
    from incidents.playbooks.models import Playbook
    from statements.models import IncidentPolicy

    _migrate(_latest())
    ensure_default_playbooks()
    incident = playbook_actions.incident_declare_from_playbook(
        actor=lead,
        playbook=Playbook.objects.get(name__contains="Inappropriate post"),
        title="Both ways",
        category="public_statement",
        origin="online",
        severity=3,
    )
    notify(users=[lead], kind="due_soon", subject="A task", url="/", incident=incident)
    assert IncidentPolicy.objects.filter(incident=incident).count() == 1

    _migrate([("playbooks", None)])
    _migrate(_latest())
    assert IncidentPolicy.objects.filter(incident=incident).count() == 1

    _migrate(BEFORE)
    _migrate(_latest())
    assert IncidentPolicy.objects.filter(incident=incident).count() == 1
    call_command("verify_integrity", verbosity=0)  # every chain, text and head still holds
