import itertools
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.utils import timezone

from incidents import actions
from incidents.errors import InvalidInput, NotAllowed
from incidents.models import GENESIS_HASH, AppendOnlyError, TimelineEntry

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the trigger exists on PostgreSQL (production mode)"
)


def entries(incident):
    return list(TimelineEntry.objects.filter(incident=incident).order_by("seq"))


@pytest.mark.parametrize("persona", ["lead", "drafter", "approver", "spokesperson"])
def test_cell_members_add_manual_entries_with_the_next_seq(incident, persona, request):
    user = request.getfixturevalue(persona)
    last = entries(incident)[-1]
    entry = actions.timeline_add_entry(
        incident=incident, actor=user, kind="public_reaction", text="Mostly angry replies"
    )
    assert entry.seq == last.seq + 1 and entry.prev_hash == last.hash
    assert entry.actor == user and entry.hash == entry.compute_hash()


def test_observers_and_outsiders_cannot_write(incident, observer, outsider, staff):
    for user in (observer, outsider, staff):
        with pytest.raises(NotAllowed):
            actions.timeline_add_entry(incident=incident, actor=user, kind="note", text="x")


def test_back_dated_observation_keeps_server_recording_time(incident, drafter):
    earlier = timezone.now() - timedelta(hours=3)
    entry = actions.timeline_add_entry(
        incident=incident,
        actor=drafter,
        kind="amplification",
        text="Retweeted",
        occurred_at=earlier,
    )
    assert entry.occurred_at == earlier
    assert timezone.now() - entry.recorded_at < timedelta(seconds=30)


@pytest.mark.parametrize(
    ("kind", "text", "hours_ahead"),
    [("declared", "forged", 0), ("note", "   ", 0), ("note", "from the future", 2)],
)
def test_bad_manual_entries_are_refused(incident, drafter, kind, text, hours_ahead):
    count = len(entries(incident))
    occurred_at = timezone.now() + timedelta(hours=hours_ahead) if hours_ahead else None
    with pytest.raises(InvalidInput):
        actions.timeline_add_entry(
            incident=incident, actor=drafter, kind=kind, text=text, occurred_at=occurred_at
        )
    assert len(entries(incident)) == count


def test_key_event_kind_is_flagged_as_key_event(incident, drafter, client):
    entry = actions.timeline_add_entry(
        incident=incident, actor=drafter, kind="key_event", text="Influencer joins"
    )
    assert entry.key_event
    # Shown once as what it is: its kind, without a "Key event" badge beside "Key event".
    client.force_login(drafter)
    html = client.get(f"/incidents/{incident.pk}/timeline/").content.decode()
    item = html[html.index(f'id="entry-{entry.seq}"') :].split("</li>")[0]
    assert item.count("Key event") == 1


def test_chain_starts_at_genesis_and_links_every_entry(incident):
    chain = entries(incident)
    assert [e.seq for e in chain] == list(range(1, len(chain) + 1))
    assert chain[0].prev_hash == GENESIS_HASH
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(chain))


def test_entries_refuse_update_and_delete_through_the_orm(incident):
    entry = entries(incident)[0]
    entry.text = "rewritten history"
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()
    with pytest.raises(AppendOnlyError):
        TimelineEntry.objects.filter(incident=incident).update(text="gone")
    with pytest.raises(AppendOnlyError):
        TimelineEntry.objects.filter(incident=incident).delete()


@on_postgresql
def test_database_trigger_rejects_update_and_delete(incident):
    from django.db import DatabaseError

    pk = entries(incident)[0].pk
    for sql in (
        "UPDATE incidents_timelineentry SET text = 'x' WHERE id = %s",
        "DELETE FROM incidents_timelineentry WHERE id = %s",
    ):
        with (
            pytest.raises(DatabaseError, match="Cannot update or delete"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, [pk])
    assert TimelineEntry.objects.filter(pk=pk).exists()


def tamper(entry, **sql_values):
    """What an attacker with database access would do (bypassing the trigger if present)."""
    assignments = ", ".join(f"{column} = %s" for column in sql_values)
    sql = f"UPDATE incidents_timelineentry SET {assignments} WHERE id = %s"  # noqa: S608
    params = [*sql_values.values(), entry.pk]
    if connection.vendor == "postgresql":
        import pgtrigger

        ignore = pgtrigger.ignore("incidents.TimelineEntry:timeline_append_only")
        with ignore, connection.cursor() as cursor:
            cursor.execute(sql, params)
    else:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)


def test_verify_timeline_passes_on_an_intact_chain(incident):
    out = StringIO()
    call_command("verify_timeline", stdout=out)
    assert "chain intact" in out.getvalue()


def test_verify_timeline_reports_the_first_tampered_entry(incident, lead):
    for text in ("one", "two", "three"):
        actions.timeline_add_entry(incident=incident, actor=lead, kind="note", text=text)
    target = entries(incident)[-2]
    tamper(target, text="nothing happened")
    with pytest.raises(CommandError, match=rf"entry #{target.seq} content does not match"):
        call_command("verify_timeline", incident=incident.pk)


def test_verify_timeline_notices_a_rehashed_entry_breaks_the_next_link(incident, lead):
    actions.timeline_add_entry(incident=incident, actor=lead, kind="note", text="one")
    actions.timeline_add_entry(incident=incident, actor=lead, kind="note", text="two")
    target = entries(incident)[-2]
    target.text = "forged"
    tamper(target, text="forged", hash=target.compute_hash())
    with pytest.raises(CommandError, match=rf"entry #{target.seq + 1} does not link"):
        call_command("verify_timeline")


def test_verify_timeline_exits_non_zero_from_the_command_line(incident, lead):
    tamper(entries(incident)[0], kind="note")
    from incidents.management.commands.verify_timeline import Command

    with pytest.raises(SystemExit) as exit_info:
        Command().run_from_argv(["manage.py", "verify_timeline", "--incident", str(incident.pk)])
    assert exit_info.value.code == 1


def test_verify_timeline_rejects_an_unknown_incident(db):
    with pytest.raises(CommandError, match="No incident"):
        call_command("verify_timeline", incident=999)
