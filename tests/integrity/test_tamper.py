"""The tamper suite: whoever can write to the database alters, deletes (in the middle and at
the end), truncates or reorders every kind of record kept as proof, or edits or removes an
original file; the integrity checks must notice every time.

On PostgreSQL the triggers refuse each of these first (tested here for TRUNCATE, elsewhere
for UPDATE and DELETE); the attacker then switches them off
(`session_replication_role = replica`, as a superuser can). On SQLite, which has no
triggers here, raw SQL goes past the model guards.
"""

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from incidents import actions as incident_actions
from incidents import chains, selectors
from incidents.evidence import actions as evidence_actions
from incidents.evidence.choices import CustodyAction
from incidents.integrity.checks import verify
from incidents.models import ChainCheckpoint, TimelineEntry
from statements import actions as statement_actions
from tests.evidence.conftest import png_bytes

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the triggers exist on PostgreSQL (production mode)"
)

TABLES = {
    "timeline": "incidents_timelineentry",
    "revision": "statements_revision",
    "review": "statements_review",
    "statement": "statements_statement",
    "custody": "incidents_custodyevent",
    "item": "incidents_evidenceitem",
    "checkpoint": "incidents_chaincheckpoint",
}


def attack(*statements):
    """Run raw SQL as an attacker with the database's keys would: triggers switched off."""
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The test's own inserts leave deferred foreign-key checks pending, which
            # TRUNCATE refuses to run past: check them now, as a commit would have.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("SET LOCAL session_replication_role = replica")
        for sql, *params in statements:
            cursor.execute(sql, params[0] if params else [])


def wipe(*tables):
    """TRUNCATE on PostgreSQL; SQLite has none, DELETE without WHERE is its equivalent."""
    if connection.vendor == "postgresql":
        return [(f"TRUNCATE {', '.join(tables)}",)]
    return [(f"DELETE FROM {table}",) for table in tables]  # noqa: S608


@pytest.fixture
def world(incident, lead, drafter, approver, spokesperson, attach):
    """An incident with a long timeline, a statement revised, reviewed and published, and
    two evidence items with several custody events each."""
    for text in ("one", "two", "three"):
        incident_actions.timeline_add_entry(incident=incident, actor=lead, kind="note", text=text)
    statement = statement_actions.statement_create(
        incident=incident, actor=drafter, kind="holding", channel="x", language="en",
        text="We are looking into it.",
    )  # fmt: skip
    statement = statement_actions.statement_submit(statement=statement, actor=drafter)
    statement = statement_actions.statement_request_changes(
        statement=statement, actor=approver, comment="Say when."
    )
    for n, text in enumerate(("We are looking into it today.", "We will answer by 6 pm."), 1):
        statement = statement_actions.statement_edit(
            statement=statement, actor=drafter, text=text, base_revision=n
        )
    statement = statement_actions.statement_submit(statement=statement, actor=drafter)
    statement = statement_actions.statement_approve(
        statement=statement, actor=approver, revision=3, comment="Fine."
    )
    statement = statement_actions.statement_publish(
        statement=statement, actor=spokesperson, url="https://x.com/brand/status/1", revision=3
    )
    assert statement.status == "published"
    items = [attach(), attach(png_bytes(color=(1, 2, 3)))]
    for item in items:
        for _ in range(2):
            evidence_actions.evidence_record_access(
                item=item, actor=lead, action=CustodyAction.VIEWED
            )
    assert verify() == []
    return {"incident": incident, "statement": statement, "items": items}


def assert_detected(world, *expected):
    """The checks report it, for the incident and overall, and the command exits 1."""
    findings = verify()
    assert findings, "tampering went unnoticed"
    text = "\n".join(str(f) for f in findings)
    for fragment in expected:
        assert fragment in text, text
    assert verify(incident=world["incident"]) or any(f.incident_id is None for f in findings)
    with pytest.raises(CommandError, match="integrity finding"):
        call_command("verify_integrity", stderr=StringIO())


def ids(table, where, params, order="id"):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id FROM {table} WHERE {where} ORDER BY {order}", params)  # noqa: S608
        return [row[0] for row in cursor.fetchall()]


def test_an_intact_installation_passes(world):
    out = StringIO()
    call_command("verify_integrity", stdout=out)
    assert "no finding" in out.getvalue()
    call_command("verify_integrity", incident=world["incident"].pk, stdout=out)
    call_command("verify_timeline", stdout=out)


def test_the_command_rejects_an_unknown_incident(db):
    with pytest.raises(CommandError, match="No incident"):
        call_command("verify_integrity", incident=999)


# --- The timeline -------------------------------------------------------------------


def _timeline(world):
    return ids(TABLES["timeline"], "incident_id = %s", [world["incident"].pk], order="seq")


def test_timeline_update(world):
    middle = _timeline(world)[3]
    attack(("UPDATE incidents_timelineentry SET text = 'nothing' WHERE id = %s", [middle]))
    assert_detected(world, "content does not match its hash")


def test_timeline_delete_middle(world):
    attack(("DELETE FROM incidents_timelineentry WHERE id = %s", [_timeline(world)[2]]))
    assert_detected(world, "sequence jumps")


def test_timeline_delete_tail(world):
    """The rows alone cannot show it: only the signed checkpoint can."""
    for _ in range(3):
        attack(("DELETE FROM incidents_timelineentry WHERE id = %s", [_timeline(world)[-1]]))
        assert_detected(world, "where the signed checkpoint counts")


def test_timeline_delete_tail_and_rewrite_the_checkpoint(world):
    incident = world["incident"]
    attack(("DELETE FROM incidents_timelineentry WHERE id = %s", [_timeline(world)[-1]]))
    last = TimelineEntry.objects.filter(incident=incident).order_by("-seq").first()
    attack(
        (
            "UPDATE incidents_chaincheckpoint SET count = %s, head = %s WHERE chain = %s",
            [last.seq, last.hash, f"timeline:{incident.pk}"],
        )
    )
    assert_detected(world, "signature does not verify")


def test_timeline_delete_tail_and_the_checkpoint(world):
    incident = world["incident"]
    attack(
        ("DELETE FROM incidents_timelineentry WHERE id = %s", [_timeline(world)[-1]]),
        ("DELETE FROM incidents_chaincheckpoint WHERE chain = %s", [f"timeline:{incident.pk}"]),
    )
    assert_detected(world, "no signed checkpoint")


def test_timeline_reorder(world):
    a, b = _timeline(world)[2:4]
    attack(
        ("UPDATE incidents_timelineentry SET seq = 1000 WHERE id = %s", [a]),
        ("UPDATE incidents_timelineentry SET seq = 3 WHERE id = %s", [b]),
        ("UPDATE incidents_timelineentry SET seq = 4 WHERE id = %s", [a]),
    )
    assert_detected(world, "does not link")


def test_timeline_truncate(world):
    attack(*wipe(TABLES["timeline"]))
    assert_detected(world, "the timeline is empty", "where the signed checkpoint counts")


def test_a_wiped_timeline_that_restarts_at_1_stays_detected(world, lead, caplog):
    """The cell keeps working, but the checkpoint does not follow the restarted chain."""
    attack(*wipe(TABLES["timeline"]))
    entry = incident_actions.timeline_add_entry(
        incident=world["incident"], actor=lead, kind="note", text="after"
    )
    assert entry.seq == 1
    assert "does not continue its signed checkpoint" in caplog.text
    assert_detected(world, "1 record(s) where the signed checkpoint counts")


def test_appending_after_a_deleted_tail_leaves_the_checkpoint_alone(world, lead):
    attack(("DELETE FROM incidents_timelineentry WHERE id = %s", [_timeline(world)[-1]]))
    incident_actions.timeline_add_entry(
        incident=world["incident"], actor=lead, kind="note", text="after"
    )
    assert_detected(world, "the last record does not match the signed checkpoint's head")


@postgres_only
@pytest.mark.parametrize("table", sorted(set(TABLES.values()) - {"statements_statement"}))
def test_postgresql_refuses_truncate(world, table):
    with (
        pytest.raises(DatabaseError, match="Cannot truncate"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f"TRUNCATE {table} CASCADE")


@postgres_only
def test_postgresql_refuses_deleting_a_checkpoint(world):
    with pytest.raises(DatabaseError, match="Cannot delete"), transaction.atomic():
        ChainCheckpoint.objects.filter(chain__startswith="timeline:").delete()


# --- Statements: revisions, reviews, the stored text ---------------------------------------


def _revisions(world):
    return ids(TABLES["revision"], "statement_id = %s", [world["statement"].pk], order="number")


def _reviews(world):
    return ids(TABLES["review"], "statement_id = %s", [world["statement"].pk])


def test_published_text_changed(world):
    attack(
        (
            "UPDATE statements_statement SET text = 'We apologise.' WHERE id = %s",
            [world["statement"].pk],
        )
    )
    assert_detected(world, "stored text differs from its current revision")


@pytest.mark.parametrize(
    ("change", "params"),
    [
        ("published_url = 'https://evil.example/'", []),
        ("published_by_id = %s", ["approver"]),
        ("published_at = published_at - interval '1 hour'", []),
    ],
    ids=["where", "who", "when"],
)
def test_publication_record_changed(world, approver, change, params):
    if "interval" in change and connection.vendor == "sqlite":
        change = "published_at = '2001-01-01 00:00:00'"
    values = [approver.pk if p == "approver" else p for p in params]
    attack(
        (
            f"UPDATE statements_statement SET {change} WHERE id = %s",  # noqa: S608
            [*values, world["statement"].pk],
        )
    )
    assert_detected(world, "differs from the timeline")


def test_a_publication_the_timeline_never_saw(world, incident, drafter, spokesperson):
    draft = statement_actions.statement_create(
        incident=incident, actor=drafter, kind="update", channel="x", language="en",
        text="Not yet approved.",
    )  # fmt: skip
    attack(
        (
            "UPDATE statements_statement SET status = 'published', "
            "published_url = 'https://x.com/fake', published_by_id = %s, "
            "published_at = created_at WHERE id = %s",
            [spokesperson.pk, draft.pk],
        )
    )
    assert_detected(world, "the timeline holds no publication of it")


def test_revision_text_changed(world):
    attack(("UPDATE statements_revision SET text = 'x' WHERE id = %s", [_revisions(world)[1]]))
    assert_detected(world, "does not match its content hash")


def test_revision_text_and_hash_changed(world):
    from statements.models import text_hash

    attack(
        (
            "UPDATE statements_revision SET text = 'x', content_hash = %s WHERE id = %s",
            [text_hash("x"), _revisions(world)[0]],
        )
    )
    assert_detected(world, "revisions: the last record does not match")


def test_revision_delete_middle(world):
    attack(("DELETE FROM statements_revision WHERE id = %s", [_revisions(world)[1]]))
    assert_detected(world, "revision numbers jump")


def test_revision_delete_tail_and_rewind_the_statement(world):
    statement = world["statement"]
    attack(
        ("DELETE FROM statements_revision WHERE id = %s", [_revisions(world)[-1]]),
        (
            "UPDATE statements_statement SET revision = 2, text = %s WHERE id = %s",
            ["We are looking into it today.", statement.pk],
        ),
    )
    assert_detected(world, "revisions: 2 record(s) where the signed checkpoint counts 3")


def test_revision_reorder(world):
    first, second = _revisions(world)[:2]
    attack(
        ("UPDATE statements_revision SET number = 100 WHERE id = %s", [first]),
        ("UPDATE statements_revision SET number = 1 WHERE id = %s", [second]),
        ("UPDATE statements_revision SET number = 2 WHERE id = %s", [first]),
    )
    assert_detected(world, "revisions: the last record does not match")


def test_revisions_truncated(world):
    attack(*wipe(TABLES["revision"]))
    assert_detected(world, "its current revision (3) is missing")


def test_review_changed(world):
    attack(
        (
            "UPDATE statements_review SET comment = 'Approved without reading.' WHERE id = %s",
            [_reviews(world)[0]],
        )
    )
    assert_detected(world, "reviews: the last record does not match")


def test_review_delete_middle_and_tail(world):
    first, last = _reviews(world)
    attack(("DELETE FROM statements_review WHERE id = %s", [last]))
    assert_detected(world, "reviews: 1 record(s)")
    attack(("DELETE FROM statements_review WHERE id = %s", [first]))
    assert_detected(world, "reviews: 0 record(s)")


def test_review_reorder(world):
    """Reviews have no sequence number: swap what two of them were given on."""
    first, last = _reviews(world)
    attack(
        ("UPDATE statements_review SET revision = 3 WHERE id = %s", [first]),
        ("UPDATE statements_review SET revision = 1 WHERE id = %s", [last]),
    )
    assert_detected(world, "reviews: the last record does not match")


def test_reviews_truncated_with_their_checkpoints(world):
    attack(
        *wipe(TABLES["review"]),
        ("DELETE FROM incidents_chaincheckpoint WHERE chain LIKE 'reviews:%%'",),
    )
    assert_detected(world, "reviews: no signed checkpoint")


def test_a_statement_wiped_out_altogether(world):
    statement = world["statement"]
    attack(
        ("DELETE FROM statements_review WHERE statement_id = %s", [statement.pk]),
        ("DELETE FROM statements_revision WHERE statement_id = %s", [statement.pk]),
        ("DELETE FROM statements_statement WHERE id = %s", [statement.pk]),
        ("DELETE FROM incidents_chaincheckpoint WHERE chain LIKE 're%%'",),
    )
    assert_detected(world, "recorded on the timeline as drafted, but the statement is gone")


# --- Evidence: custody chains, facts, files -------------------------------------------------


def _custody(item):
    return ids(TABLES["custody"], "item_id = %s", [item.pk], order="seq")


def test_custody_update(world):
    item = world["items"][0]
    attack(("UPDATE incidents_custodyevent SET actor_id = NULL WHERE id = %s", [_custody(item)[1]]))
    assert_detected(world, "custody event #2 content does not match")


def test_custody_delete_middle(world):
    item = world["items"][1]
    attack(("DELETE FROM incidents_custodyevent WHERE id = %s", [_custody(item)[1]]))
    assert_detected(world, "E-2: custody event sequence jumps")


def test_custody_delete_tail(world):
    item = world["items"][0]
    attack(("DELETE FROM incidents_custodyevent WHERE id = %s", [_custody(item)[-1]]))
    assert_detected(world, "E-1: 2 record(s) where the signed checkpoint counts 3")


def test_custody_reorder(world):
    item = world["items"][0]
    a, b = _custody(item)[1:3]
    attack(
        ("UPDATE incidents_custodyevent SET seq = 100 WHERE id = %s", [a]),
        ("UPDATE incidents_custodyevent SET seq = 2 WHERE id = %s", [b]),
        ("UPDATE incidents_custodyevent SET seq = 3 WHERE id = %s", [a]),
    )
    assert_detected(world, "does not link")


def test_custody_truncated(world):
    attack(*wipe(TABLES["custody"]))
    assert_detected(world, "E-1: 0 record(s)", "E-2: 0 record(s)")


def test_evidence_facts_changed(world):
    attack(
        (
            "UPDATE incidents_evidenceitem SET author_handle = '@someone_else' WHERE id = %s",
            [world["items"][0].pk],
        )
    )
    assert_detected(world, "evidence items: the last record does not match")


def test_evidence_hash_and_file_replaced_together(world):
    """Replace the original and its recorded SHA-256: the facts and custody still tell."""
    item = world["items"][1]
    forged = png_bytes(color=(9, 9, 9))
    import hashlib

    with open(item.file.path, "wb") as f:
        f.write(forged)
    attack(
        (
            "UPDATE incidents_evidenceitem SET sha256 = %s, size = %s WHERE id = %s",
            [hashlib.sha256(forged).hexdigest(), len(forged), item.pk],
        )
    )
    assert_detected(
        world,
        "evidence items: the last record does not match",
        "the timeline recorded another SHA-256",
        "the first custody event records another SHA-256",
    )


def test_evidence_item_deleted_at_the_end(world):
    item = world["items"][-1]
    attack(
        ("DELETE FROM incidents_custodyevent WHERE item_id = %s", [item.pk]),
        ("DELETE FROM incidents_evidenceitem WHERE id = %s", [item.pk]),
    )
    assert_detected(
        world,
        "evidence items: 1 record(s) where the signed checkpoint counts 2",
        "recorded on the timeline as added, but the item is gone",
        f"checkpoint custody:{item.pk}",
    )


def test_evidence_truncated_with_every_checkpoint(world):
    attack(
        # The items' export lists refer to them: PostgreSQL truncates them together.
        *wipe(TABLES["custody"], "evidence_evidenceexport_items", TABLES["item"]),
        ("DELETE FROM incidents_chaincheckpoint WHERE chain NOT LIKE 'timeline:%%'",),
    )
    assert_detected(world, "recorded on the timeline as added, but the item is gone")


def test_edited_file(world):
    item = world["items"][0]
    with open(item.file.path, "r+b") as f:
        f.seek(-20, 2)
        f.write(b"\x00")
    assert_detected(world, "E-1: the stored file does not match its SHA-256")


def test_missing_file(world):
    item = world["items"][1]
    item.file.storage.delete(item.file.name)
    assert_detected(world, "E-2: the stored file is missing")
    assert any("missing" in str(f) for f in verify(files=False))


# --- Every finding, the heads, the other commands ----------------------------------------


def test_every_finding_is_listed_not_just_the_first(world):
    attack(
        ("UPDATE incidents_timelineentry SET text = 'x' WHERE id = %s", [_timeline(world)[1]]),
        ("UPDATE statements_revision SET text = 'x' WHERE id = %s", [_revisions(world)[0]]),
    )
    world["items"][0].file.storage.delete(world["items"][0].file.name)
    err = StringIO()
    with pytest.raises(CommandError):
        call_command("verify_integrity", stderr=err)
    listed = err.getvalue()
    assert "timeline entry #2" in listed
    assert "revision 1's text" in listed
    assert "E-1: the stored file is missing" in listed


def test_the_chain_head_is_the_signed_checkpoint(world):
    incident = world["incident"]
    head = selectors.chain_head(incident)
    last = TimelineEntry.objects.filter(incident=incident).order_by("-seq").first()
    assert (head.count, head.hash, head.verified) == (last.seq, last.hash, True)
    assert chains.signature_valid(f"timeline:{incident.pk}", head.count, head.hash, head.signature)


def test_verify_timeline_sees_a_deleted_tail(world):
    attack(("DELETE FROM incidents_timelineentry WHERE id = %s", [_timeline(world)[-1]]))
    with pytest.raises(CommandError, match="where the signed checkpoint counts"):
        call_command("verify_timeline")


def test_verify_evidence_sees_a_deleted_custody_tail(world):
    item = world["items"][0]
    attack(("DELETE FROM incidents_custodyevent WHERE id = %s", [_custody(item)[-1]]))
    err = StringIO()
    with pytest.raises(CommandError):
        call_command("verify_evidence", stderr=err)
    assert "where the signed checkpoint counts" in err.getvalue()
