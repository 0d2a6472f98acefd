"""The editor side's writes as actions: importing playbook files and marking playbooks
reviewed. Who may do it, what the history and the log keep, and all or nothing."""

import logging
from datetime import timedelta

import pytest
from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from incidents.errors import NotAllowed
from incidents.playbooks import actions, portable, rules
from incidents.playbooks.actions import library
from incidents.playbooks.models import Playbook, PlaybookStep

pytestmark = pytest.mark.django_db

LOGGER = "incidents.playbooks.actions"


@pytest.fixture
def editor(make_user):
    """Staff with the permissions an editor gets (codenames: add, change, view)."""

    def make(*codenames, **fields):
        fields.setdefault("is_staff", True)
        user = make_user(**fields)
        user.user_permissions.set(
            Permission.objects.filter(
                content_type=ContentType.objects.get_for_model(Playbook),
                codename__in=[f"{codename}_playbook" for codename in codenames],
            )
        )
        return user

    return make


def history(playbook):
    return list(
        LogEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(Playbook), object_id=str(playbook.pk)
        ).values_list("user__username", "action_flag", "change_message")
    )


def exported(make_playbook, name, **fields):
    """A playbook file's data, its playbook gone from the database."""
    playbook = make_playbook(name=name, **fields)
    data = portable.export_playbook(playbook)
    playbook.delete()
    return data


# --- Import -----------------------------------------------------------------------------------


def test_an_import_is_kept_in_the_history_and_the_log(editor, make_playbook, caplog):
    alice = editor("add", username="alice")
    data = exported(make_playbook, "Recall", steps=2)

    with caplog.at_level(logging.INFO, logger=LOGGER):
        [result] = actions.playbooks_import(actor=alice, data=data, source="recall.json")

    assert result.outcome == portable.Outcome.CREATED
    assert result.playbook.steps.count() == 2
    assert history(result.playbook) == [("alice", ADDITION, "Imported from a JSON file.")]
    assert any(
        "recall.json" in message and "alice" in message and "“Recall”" in message
        for message in caplog.messages
    )


def test_a_replacement_is_kept_in_the_history(editor, make_playbook):
    alice = editor("add", "change", username="alice")
    playbook = make_playbook(name="Recall", version=2)
    data = {**portable.export_playbook(playbook), "description": "Edited"}

    [result] = actions.playbooks_import(actor=alice, data=data, replace=True)

    assert (result.outcome, result.playbook.pk, result.playbook.version) == (
        portable.Outcome.REPLACED,
        playbook.pk,
        3,
    )
    assert history(playbook) == [("alice", CHANGE, "Replaced by the contents of a JSON file.")]


def test_an_import_by_the_system_is_logged_without_history(make_playbook, caplog):
    data = exported(make_playbook, "Recall")

    with caplog.at_level(logging.INFO, logger=LOGGER):
        [result] = actions.playbooks_import(actor=None, data=data, source="defaults")

    assert history(result.playbook) == []
    assert any("by the system" in message for message in caplog.messages)


@pytest.mark.parametrize(
    ("permissions", "fields"),
    [
        ((), {}),  # staff without the permission
        (("view", "change"), {}),  # may change, not add
        (("add",), {"is_staff": False}),  # not staff: no admin at all
        (("add",), {"is_active": False}),
    ],
)
def test_only_staff_allowed_to_add_playbooks_may_import(editor, make_playbook, permissions, fields):
    user = editor(*permissions, **fields)
    data = exported(make_playbook, "Recall")

    with pytest.raises(NotAllowed):
        actions.playbooks_import(actor=user, data=data)

    assert not Playbook.objects.filter(name="Recall").exists()
    assert not rules.can_import_playbooks(user)


def test_replacing_also_takes_the_change_permission(editor, make_playbook):
    adder = editor("add")
    playbook = make_playbook(name="Recall", version=1)
    data = {**portable.export_playbook(playbook), "description": "Hijacked"}

    with pytest.raises(NotAllowed, match="allowed to change playbooks"):
        actions.playbooks_import(actor=adder, data=data, replace=True)

    playbook.refresh_from_db()
    assert (playbook.description, playbook.version) == ("", 1)
    assert rules.can_import_playbooks(adder) and not rules.can_import_playbooks(adder, replace=True)


def test_a_file_with_one_bad_playbook_imports_none(make_playbook):
    good = exported(make_playbook, "Good", steps=3)
    bad = exported(make_playbook, "Bad")
    bad["steps"][0]["role"] = "intern"

    with pytest.raises(portable.PlaybookFileError) as caught:
        actions.playbooks_import(actor=None, data=[good, bad])

    assert caught.value.errors[0].startswith("Playbook 2 (“Bad”): Step 1")
    assert not Playbook.objects.exists() and not PlaybookStep.objects.exists()


def test_a_file_naming_an_existing_playbook_imports_none_of_its_playbooks(make_playbook):
    new = exported(make_playbook, "New")
    taken = portable.export_playbook(make_playbook(name="Taken"))

    with pytest.raises(portable.PlaybookExists):
        actions.playbooks_import(actor=None, data=[new, taken])

    assert list(Playbook.objects.values_list("name", flat=True)) == ["Taken"]


def test_an_import_failing_while_writing_leaves_nothing(make_playbook, monkeypatch):
    data = [exported(make_playbook, "First"), exported(make_playbook, "Second")]
    real = library._import_one

    def fail_on_second(parsed, *args):
        if parsed.playbook.name == "Second":
            raise RuntimeError("disk full")
        return real(parsed, *args)

    monkeypatch.setattr(library, "_import_one", fail_on_second)
    with pytest.raises(RuntimeError):
        actions.playbooks_import(actor=None, data=data)

    assert not Playbook.objects.exists() and not PlaybookStep.objects.exists()


# --- Mark reviewed ----------------------------------------------------------------------------


def test_marking_reviewed_keeps_who_and_when(editor, make_playbook, caplog):
    bob = editor("change", username="bob")
    long_ago = timezone.localdate() - timedelta(days=400)
    playbook = make_playbook(version=3, last_reviewed_on=long_ago)

    with caplog.at_level(logging.INFO, logger=LOGGER):
        [reviewed] = actions.playbooks_mark_reviewed(actor=bob, playbooks=[playbook])

    assert reviewed.last_reviewed_on == timezone.localdate()
    assert reviewed.version == 3 and not reviewed.needs_review()
    assert history(playbook) == [("bob", CHANGE, '[{"changed": {"fields": ["last reviewed on"]}}]')]
    assert any("bob" in message and "reviewed" in message for message in caplog.messages)


def test_marking_reviewed_as_a_new_version_raises_each_version(editor, make_playbook):
    first, second = make_playbook(version=1), make_playbook(version=4)

    reviewed = actions.playbooks_mark_reviewed(
        actor=editor("change"),
        playbooks=Playbook.objects.filter(pk__in=[first.pk, second.pk]),
        new_version=True,
    )

    assert sorted(p.version for p in reviewed) == [2, 5]
    assert all(p.last_reviewed_on == timezone.localdate() for p in reviewed)
    assert '"version"' in history(first)[0][2]


@pytest.mark.parametrize(
    ("permissions", "fields"),
    [
        (("view", "add"), {}),  # may add and look, not change
        (("change",), {"is_staff": False}),
        (("change",), {"is_active": False}),
    ],
)
def test_only_staff_allowed_to_change_playbooks_may_mark_them_reviewed(
    editor, make_playbook, permissions, fields
):
    user = editor(*permissions, **fields)
    playbook = make_playbook(version=1, last_reviewed_on=None)

    with pytest.raises(NotAllowed):
        actions.playbooks_mark_reviewed(actor=user, playbooks=[playbook])

    playbook.refresh_from_db()
    assert playbook.last_reviewed_on is None and history(playbook) == []


def test_nobody_marks_reviewed_without_a_user(make_playbook):
    with pytest.raises(NotAllowed):
        actions.playbooks_mark_reviewed(actor=None, playbooks=[make_playbook()])
