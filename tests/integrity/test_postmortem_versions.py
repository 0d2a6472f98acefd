"""The signed-off post-mortem versions are append-only and hashed: the integrity checks hash
each one again and compare it with its stored hash and with the hash the (chained) timeline
recorded at sign-off. Altering, re-hashing or deleting a version is reported by the checks,
the command and the staff page."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from incidents import actions as incident_actions
from incidents.chains import canonical_hash
from incidents.integrity.checks import verify
from incidents.postmortems import actions as postmortem_actions
from incidents.postmortems.models import PostmortemVersion
from tests.integrity.test_tamper import attack, postgres_only
from tests.postmortems.conftest import postmortem, sign_off, worked  # noqa: F401 (fixtures)
from tests.replies.conftest import attach_mentions  # noqa: F401 (a fixture)


@pytest.fixture
def signed(postmortem, lead, approver):  # noqa: F811
    sign_off(postmortem, lead, approver, summary="We answered fast.")
    return PostmortemVersion.objects.get(postmortem=postmortem)


def _problems(incident):
    return "\n".join(str(f) for f in verify(incident=incident))


def test_an_intact_signed_version_passes(signed):
    assert canonical_hash(signed.content) == signed.content_hash  # after the database's trip
    assert verify(incident=signed.postmortem.incident) == []


@postgres_only
def test_the_trigger_refuses_an_update_first(signed):
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE postmortems_postmortemversion SET content_hash = 'x' WHERE id = %s",
            [signed.pk],
        )


def _set_content(version, content):
    import json

    return (
        "UPDATE postmortems_postmortemversion SET content = %s WHERE id = %s",
        [json.dumps(content), version.pk],
    )


def test_an_altered_content_is_reported_by_the_checks_the_command_and_the_page(
    signed, staff, client
):
    content = dict(signed.content, parts=dict(signed.content["parts"], summary="All was fine."))
    attack(_set_content(signed, content))
    incident = signed.postmortem.incident
    assert "post-mortem version 1: its content does not match its content hash" in _problems(
        incident
    )
    err = StringIO()
    with pytest.raises(CommandError, match="integrity finding"):
        call_command("verify_integrity", stderr=err)
    assert "post-mortem version 1: its content does not match its content hash" in err.getvalue()
    client.force_login(staff)
    page = client.get(reverse("integrity")).content.decode()
    assert "post-mortem version 1" in page and "does not match its content hash" in page


def test_content_and_hash_altered_together_still_differ_from_the_timeline(signed):
    content = dict(signed.content, parts=dict(signed.content["parts"], summary="All was fine."))
    attack(
        _set_content(signed, content),
        (
            "UPDATE postmortems_postmortemversion SET content_hash = %s WHERE id = %s",
            [canonical_hash(content), signed.pk],
        ),
    )
    problems = _problems(signed.postmortem.incident)
    assert "does not match its content hash" not in problems
    assert "its content hash differs from the one the timeline recorded" in problems


def test_a_deleted_version_is_reported(signed):
    attack(("DELETE FROM postmortems_postmortemversion WHERE id = %s", [signed.pk]))
    assert (
        "post-mortem version 1: recorded on the timeline as signed off, but the version is gone"
        in (_problems(signed.postmortem.incident))
    )


# The row's own columns are outside the content hash, but the signed content holds the same
# facts: each column changed alone in the database is reported, naming the version and the
# column.


def _shifted(version):
    later = connection.ops.adapt_datetimefield_value(version.signed_off_at + timedelta(hours=1))
    return "signed_off_at = %s", [later]


@pytest.mark.parametrize(
    ("change", "record", "column"),
    [
        (lambda v: ("revision = revision + 1", []), "post-mortem version 1", "revision"),
        (_shifted, "post-mortem version 1", "signed_off_at"),
        (lambda v: ("number = number + 4", []), "post-mortem version 5", "number"),
    ],
    ids=["revision", "signed_off_at", "number"],
)
def test_a_column_changed_in_the_database_is_reported_naming_it(signed, change, record, column):
    assignment, params = change(signed)
    attack(
        (
            f"UPDATE postmortems_postmortemversion SET {assignment} WHERE id = %s",  # noqa: S608
            [*params, signed.pk],
        )
    )
    problems = _problems(signed.postmortem.incident)
    assert f"{record}: its {column} column (" in problems
    assert "differs from what was signed off" in problems
    assert "does not match its content hash" not in problems  # the content is untouched


def test_the_signed_off_at_line_shows_both_times(signed):
    attack(
        (
            "UPDATE postmortems_postmortemversion SET signed_off_at = %s WHERE id = %s",
            [_shifted(signed)[1][0], signed.pk],
        )
    )
    later = (signed.signed_off_at + timedelta(hours=1)).isoformat()
    assert (
        f"post-mortem version 1: its signed_off_at column ({later}) differs from what was "
        f"signed off ({signed.signed_off_at.isoformat()})"
    ) in _problems(signed.postmortem.incident)


def test_a_version_moved_to_another_incidents_postmortem_is_reported_on_both(signed, declare, lead):
    other = declare(title="Another incident")
    for status in ("active", "resolved"):
        incident_actions.incident_transition(incident=other, actor=lead, status=status)
    elsewhere = postmortem_actions.postmortem_create(incident=other, actor=lead)
    assert verify() == []
    attack(
        (
            "UPDATE postmortems_postmortemversion SET postmortem_id = %s WHERE id = %s",
            [elsewhere.pk, signed.pk],
        )
    )
    incident = signed.postmortem.incident
    assert (
        f"post-mortem version 1: its postmortem_id column puts it in the post-mortem of "
        f"incident {other.pk}, but it was signed off for incident {incident.pk}"
    ) in _problems(other)
    assert "recorded on the timeline as signed off, but the version is gone" in _problems(incident)
    err = StringIO()
    with pytest.raises(CommandError, match="integrity finding"):
        call_command("verify_integrity", stderr=err)
    assert "its postmortem_id column" in err.getvalue()


def test_several_untouched_versions_report_nothing(signed, lead, approver):
    sign_off(signed.postmortem, lead, approver, summary="We answered fast, then better.")
    assert PostmortemVersion.objects.filter(postmortem=signed.postmortem).count() == 2
    assert verify() == []
