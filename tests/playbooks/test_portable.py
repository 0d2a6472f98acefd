"""Playbooks as JSON: export, import, their errors, and the two management commands."""

import json
from datetime import date

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from incidents.playbooks import actions, portable
from incidents.playbooks.models import (
    Contact,
    Playbook,
    PlaybookPolicy,
    PlaybookStep,
    StatementTemplate,
)

pytestmark = pytest.mark.django_db

ROW_MODELS = (PlaybookStep, StatementTemplate, PlaybookPolicy, Contact)


TEMPLATE_ROW = {"name": "Reply", "kind": "reply", "channel": "x", "language": "en", "text": "Hi"}


def import_one(data, **kwargs) -> Playbook:
    """Import a one-playbook file as a management command does (no user)."""
    [result] = actions.playbooks_import(actor=None, data=data, **kwargs)
    return result.playbook


@pytest.fixture
def full_playbook(make_playbook):
    """A playbook using every field, rows deliberately out of creation order."""
    playbook = make_playbook(
        name="Product recall rumour",
        description="A fake recall notice circulates.\nSecond line — accents: été.",
        categories=["rumour", "product"],
        min_severity=2,
        max_severity=4,
        brand="Acmé",
        version=5,
        last_reviewed_on=date(2025, 3, 14),
        is_active=False,
        steps=3,
        templates=2,
        contacts=0,
    )
    PlaybookStep.objects.create(
        playbook=playbook, order=0, title="First, added last", role="spokesperson", due_minutes=5
    )
    Contact.objects.create(
        playbook=playbook,
        kind="ambassador",
        name="@fan",
        handle="@fan",
        platform="instagram",
        audience=120_000,
        language="fr",
        notes="Loyal since 2019",
    )
    Contact.objects.create(
        playbook=playbook, kind="stakeholder", name="Retailers' union", order=2, backup="Deputy"
    )
    Contact.objects.create(playbook=playbook, kind="committee", name="CEO", order=1)
    StatementTemplate.objects.create(
        playbook=playbook,
        order=7,
        name="Reply to a worried customer",
        kind="reply",
        channel="x",
        language="en",
        author_type="unhappy_customer",
        text="{{ author.handle }} Thank you for asking: the notice is fake.",
    )
    return playbook


# --- Export -----------------------------------------------------------------------------------


def test_export_has_a_format_version_and_no_ids(full_playbook):
    data = portable.export_playbook(full_playbook)

    assert data["format"] == "crisiscell.playbook"
    assert data["format_version"] == 1
    assert data["last_reviewed_on"] == "2025-03-14"
    assert data["categories"] == ["rumour", "product"]
    assert [s["title"] for s in data["steps"]][:2] == ["Step 0", "First, added last"]
    assert data["policies"] == [
        {"severity": 1, "policy": "One approver"},
        {"severity": 3, "policy": "Legal, then communications"},
    ]
    assert [c["kind"] for c in data["contacts"]] == ["ambassador", "committee", "stakeholder"]
    text = portable.dumps(data)
    assert '"id"' not in text and '"playbook"' not in text
    assert "Acmé" in text  # readable UTF-8, not \u escapes


def test_export_of_several_playbooks_costs_a_fixed_number_of_queries(make_playbook):
    make_playbook()
    with CaptureQueriesContext(connection) as one:
        portable.export_playbooks(Playbook.objects.all())
    for _ in range(8):
        make_playbook(steps=4, templates=3, contacts=2)

    with CaptureQueriesContext(connection) as many:
        exported = portable.export_playbooks(Playbook.objects.all())

    assert len(exported) == 9
    assert len(many) == len(one)


# --- Round trip -------------------------------------------------------------------------------


def test_round_trip_under_a_new_name_gives_the_same_json(full_playbook):
    first = portable.export_playbook(full_playbook)

    copy = import_one({**first, "name": "Copy"})
    second = portable.export_playbook(Playbook.objects.get(pk=copy.pk))

    assert copy.pk != full_playbook.pk
    assert second == {**first, "name": "Copy"}


def test_round_trip_through_an_empty_database_gives_the_same_json(full_playbook):
    text = portable.dumps(portable.export_playbook(full_playbook))
    full_playbook.delete()
    assert not any(model.objects.exists() for model in (Playbook, *ROW_MODELS))

    imported = import_one(portable.read_json(text.encode()))

    assert portable.dumps(portable.export_playbook(imported)) == text


def test_import_lists_rows_in_the_order_an_export_would(make_playbook, policies):
    data = portable.export_playbook(make_playbook(steps=0, templates=0, contacts=0))
    data["name"] = "Shuffled"
    data["steps"] = [
        {"order": 2, "title": "B", "guidance": "", "role": "lead", "due_minutes": 30},
        {"order": 1, "title": "A", "guidance": "", "role": "lead", "due_minutes": 60},
        {"order": 2, "title": "C", "guidance": "", "role": "lead", "due_minutes": 90},
    ]

    playbook = import_one(data)

    assert [s["title"] for s in portable.export_playbook(playbook)["steps"]] == ["A", "B", "C"]
    assert portable.export_playbook(playbook)["steps"][0]["repeat_minutes"] is None


def test_a_minimal_file_takes_the_defaults(db):
    playbook = import_one({"format": "crisiscell.playbook", "format_version": 1, "name": "Minimal"})

    assert (playbook.min_severity, playbook.max_severity, playbook.version) == (1, 4, 1)
    assert playbook.categories == [] and playbook.is_active
    assert playbook.last_reviewed_on is None


# --- Errors -----------------------------------------------------------------------------------


def import_errors(data, **kwargs):
    with pytest.raises(portable.PlaybookFileError) as caught:
        actions.playbooks_import(actor=None, data=data, **kwargs)
    return caught.value.errors


def test_every_problem_is_listed_at_once(full_playbook):
    data = portable.export_playbook(full_playbook)
    full_playbook.delete()
    data.update(categories=["rumour", "gossip"], min_severity=4, max_severity=2, colour="red")
    data["steps"][0].update(role="intern", repeat_minutes=0)
    data["templates"][1]["text"] = "{{ incident.summary }}"
    data["contacts"][0]["email"] = "not an email"
    data["policies"] += [
        {"severity": 3, "policy": "One approver"},
        {"severity": 9, "policy": "Unknown policy"},
    ]

    errors = import_errors(data)

    expected = [
        "Playbook: unknown key “colour”.",
        "Playbook: “gossip” is not an incident category.",
        "Playbook: The severity range is upside down",
        "Step 1 (“Step 0”): “role”: Value 'intern' is not a valid choice.",
        "Step 1 (“Step 0”): Repeat every 5 minutes or more",
        "Template 2 (“Holding 1”): Unknown placeholder {{ incident.summary }}.",
        "Contact 1 (“@fan”): “email”: Enter a valid email address.",
        "Approval policy 4: “severity” must be one of 1, 2, 3, 4.",
        "The severity “High — viral” has more than one approval policy: keep one.",
    ]
    for start in expected:
        assert any(error.startswith(start) for error in errors), (start, errors)
    assert len(errors) == len(expected)
    assert not Playbook.objects.exists()


def test_the_exception_message_lists_the_problems(db):
    with pytest.raises(portable.PlaybookFileError) as caught:
        import_one(
            {"format": "crisiscell.playbook", "format_version": 1, "name": "", "steps": "no"}
        )

    message = str(caught.value)
    assert message.startswith("The playbook file has 2 problems:\n- ")
    assert "- Playbook: “name”: This field cannot be blank." in message
    assert "- “steps” must be a list." in message


def test_an_unknown_kind_is_said_once_whatever_the_author_type(make_playbook):
    template = {**TEMPLATE_ROW, "kind": "zzz", "author_type": "troll"}
    data = {**portable.export_playbook(make_playbook()), "name": "Other", "templates": [template]}
    errors = import_errors(data)
    assert any("“kind”" in error for error in errors)
    assert not any("Only a reply template" in error for error in errors)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"version": "3"}, "Playbook: “version” must be a whole number."),
        ({"version": True}, "Playbook: “version” must be a whole number."),
        ({"is_active": 1}, "Playbook: “is_active” must be true or false."),
        ({"last_reviewed_on": "14/03/2025"}, "must be a date written YYYY-MM-DD"),
        ({"last_reviewed_on": "2025-02-30"}, "must be a date written YYYY-MM-DD"),
        ({"categories": "rumour"}, "Playbook: “categories” must be a list."),
        ({"categories": ["rumour", "rumour"]}, "The category “rumour” is listed twice."),
        ({"name": None}, "Playbook: “name” must not be null."),
        ({"brand": 3}, "Playbook: “brand” must be text."),
        ({"version": -1}, "Ensure this value is greater than or equal to 0."),
        ({"policies": [["x"]]}, "Approval policy 1 must be a JSON object {…}."),
        ({"policies": [{"severity": 1}]}, "“policy” must be the name of an approval policy."),
        ({"steps": [{"title": "No role"}]}, "Step 1 (“No role”): “role” is missing."),
        ({"templates": [42]}, "Template 1 must be a JSON object {…}."),
        (
            {"templates": [{**TEMPLATE_ROW, "author_type": "hater"}]},
            "Template 1 (“Reply”): “author_type”: Value 'hater' is not a valid choice. Use one "
            "of: unhappy_customer, hater_persistent, hater_occasional, troll, defender, press, "
            "influencer, neutral.",
        ),
        (
            {"templates": [{**TEMPLATE_ROW, "kind": "holding", "author_type": "troll"}]},
            "“author_type”: Only a reply template is written for a type of author.",
        ),
    ],
)
def test_wrong_values_are_named(make_playbook, change, message):
    data = {**portable.export_playbook(make_playbook(name="Original")), "name": "Other", **change}

    assert any(message in error for error in import_errors(data))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "x"}, "This is not a Crisis Cell playbook"),
        ({"format": "crisiscell.playbook", "name": "x"}, "format version is —"),
        (
            {"format": "crisiscell.playbook", "format_version": 2, "name": "x"},
            "The file's format version is 2; this Crisis Cell reads version 1.",
        ),
        ([], "The file holds no playbook."),
        ("text", "A playbook file holds a JSON object"),
        ([1], "A playbook file holds a JSON object"),
    ],
)
def test_a_file_that_is_not_a_playbook_is_refused(db, data, message):
    errors = import_errors(data)

    assert any(message in error for error in errors), errors


def test_read_json_explains_unreadable_text():
    with pytest.raises(portable.PlaybookFileError, match=r"not valid JSON: .*line 2, column 1"):
        portable.read_json(b'{"name": "x",\n}')
    with pytest.raises(portable.PlaybookFileError, match="not UTF-8"):
        portable.read_json(b"\xff{}")
    with pytest.raises(portable.PlaybookFileError, match="larger than 1 KB"):
        portable.read_json(b"{}" * 1000, max_bytes=1024)
    with pytest.raises(portable.PlaybookFileError, match="nested too deeply"):
        portable.read_json(b"[" * 100_000 + b"]" * 100_000, max_bytes=None)
    assert portable.read_json('\ufeff{"a": 1}'.encode()) == {"a": 1}  # BOM tolerated


def test_a_missing_approval_policy_is_named_and_nothing_is_written(make_playbook):
    data = portable.export_playbook(make_playbook(name="Needs policy"))
    Playbook.objects.all().delete()
    data["policies"] = [{"severity": 2, "policy": "Board sign-off"}]

    errors = import_errors(data)

    assert errors == [
        "Approval policy 1: there is no approval policy named “Board sign-off” here: create it "
        "in the admin (Approval policies) or correct the name in the file."
    ]
    assert not any(model.objects.exists() for model in (Playbook, *ROW_MODELS))


def test_several_playbooks_are_imported_all_or_nothing(make_playbook):
    good = portable.export_playbook(make_playbook(name="Good"))
    bad = {**good, "name": "Bad", "max_severity": 7}
    Playbook.objects.all().delete()

    errors = import_errors([good, bad])

    assert errors == [
        "Playbook 2 (“Bad”): Playbook: “max_severity”: Value 7 is not a valid choice. "
        "Use one of: 1, 2, 3, 4."
    ]
    assert not Playbook.objects.exists()


def test_a_file_cannot_hold_the_same_name_twice(make_playbook):
    data = portable.export_playbook(make_playbook(name="Twice"))
    Playbook.objects.all().delete()

    assert import_errors([data, data]) == ["The file holds two playbooks named “Twice”."]


# --- Existing names ---------------------------------------------------------------------------


def test_an_existing_name_is_refused_without_replace(make_playbook):
    playbook = make_playbook(name="Recall", steps=2)
    data = portable.export_playbook(playbook)
    data["steps"] = []

    with pytest.raises(portable.PlaybookExists) as caught:
        import_one(data)

    assert caught.value.names == ["Recall"]
    assert "A playbook named “Recall” already exists" in str(caught.value)
    assert playbook.steps.count() == 2


def test_replace_keeps_the_id_swaps_the_rows_and_raises_the_version(make_playbook, policies):
    playbook = make_playbook(name="Recall", version=3, steps=3, templates=2, contacts=2)
    data = portable.export_playbook(playbook)
    data["steps"] = data["steps"][:1]
    data["templates"] = []
    data["policies"] = [{"severity": 4, "policy": "One approver"}]
    data["brand"] = "New brand"

    replaced = import_one(data, replace=True)

    assert replaced.pk == playbook.pk
    assert replaced.version == 4
    after = portable.export_playbook(Playbook.objects.get(pk=playbook.pk))
    assert after == {**data, "version": 4}
    assert PlaybookStep.objects.count() == 1
    assert not StatementTemplate.objects.exists()


def test_replace_takes_the_file_version_when_it_is_higher(make_playbook):
    playbook = make_playbook(name="Recall", version=3)
    data = {**portable.export_playbook(playbook), "version": 10}

    assert import_one(data, replace=True).version == 10


def test_replacing_with_an_identical_file_changes_nothing(make_playbook):
    playbook = make_playbook(name="Recall", version=3)
    data = portable.export_playbook(playbook)
    step_ids = list(playbook.steps.values_list("pk", flat=True))

    [result] = actions.playbooks_import(actor=None, data=data, replace=True)

    assert result.outcome == portable.Outcome.UNCHANGED
    assert Playbook.objects.get().version == 3
    assert list(PlaybookStep.objects.values_list("pk", flat=True)) == step_ids


# --- Commands ---------------------------------------------------------------------------------


def test_export_command_by_id_or_name_to_stdout_or_file(full_playbook, tmp_path, capsys):
    call_command("export_playbook", str(full_playbook.pk))
    by_id = capsys.readouterr().out
    call_command("export_playbook", full_playbook.name)
    by_name = capsys.readouterr().out
    target = tmp_path / "recall.json"
    call_command("export_playbook", full_playbook.name, "-o", str(target))

    expected = portable.dumps(portable.export_playbook(full_playbook))
    assert by_id == by_name == expected
    assert target.read_text(encoding="utf-8") == expected


def test_export_command_finds_a_name_made_of_digits(make_playbook, capsys):
    make_playbook(name="2024")

    call_command("export_playbook", "2024")

    assert json.loads(capsys.readouterr().out)["name"] == "2024"


def test_export_command_names_an_unknown_playbook(db):
    with pytest.raises(CommandError, match="No playbook with the id or name “nope”"):
        call_command("export_playbook", "nope")


def test_import_command_creates_then_replaces(full_playbook, tmp_path, capsys):
    data = portable.export_playbook(full_playbook)
    full_playbook.delete()
    path = tmp_path / "recall.json"
    path.write_text(portable.dumps(data), encoding="utf-8")

    call_command("import_playbook", str(path))
    created = Playbook.objects.get()
    assert f"created: “{created.name}” (id {created.pk}, version 5)" in capsys.readouterr().out

    with pytest.raises(CommandError, match=r"already exists.*use --replace"):
        call_command("import_playbook", str(path))

    path.write_text(portable.dumps({**data, "description": "Edited"}), encoding="utf-8")
    call_command("import_playbook", str(path), "--replace")
    assert "replaced:" in capsys.readouterr().out
    assert Playbook.objects.get(pk=created.pk).version == 6


def test_import_command_reports_file_problems(tmp_path, db):
    path = tmp_path / "bad.json"
    path.write_text('{"format": "crisiscell.playbook", "format_version": 1}', encoding="utf-8")

    with pytest.raises(CommandError, match=r"Playbook: “name” is missing\."):
        call_command("import_playbook", str(path))
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("import_playbook", str(tmp_path / "missing.json"))


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"name": "Recall\u0000"}, "must not contain the NUL character"),
        ({"description": "a\u0000b"}, "must not contain the NUL character"),
    ],
)
def test_a_nul_character_is_refused_before_the_database(make_playbook, change, problem):
    data = portable.export_playbook(make_playbook(name="Source"))
    data.update(change, name=change.get("name", "Other"))
    with pytest.raises(portable.PlaybookFileError) as refused:
        portable.parse_playbooks(data)
    assert any(problem in message for message in refused.value.errors)


def test_a_broken_placeholder_is_refused(make_playbook):
    data = portable.export_playbook(make_playbook(name="Source"))
    data["name"] = "Other"
    data["templates"] = (
        [{**data["templates"][0], "text": "Hello {{ brand "}]
        if data["templates"]
        else [
            {
                "order": 0,
                "name": "T",
                "kind": "holding",
                "channel": "x",
                "language": "en",
                "text": "Hello {{ brand ",
            }
        ]
    )
    with pytest.raises(portable.PlaybookFileError) as refused:
        portable.parse_playbooks(data)
    assert any("not closed or not opened" in message for message in refused.value.errors)
