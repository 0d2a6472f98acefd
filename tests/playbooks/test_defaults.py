"""The default playbooks: created once, complete in French and English, and safe to render."""

import io
import logging
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

from crisiscell.typography import french_spacing
from incidents.models import Category, Platform, Role
from incidents.playbooks import defaults, portable
from incidents.playbooks.defaults import ensure_default_playbooks
from incidents.playbooks.models import (
    Contact,
    ContactKind,
    Playbook,
    PlaybookPolicy,
    PlaybookStep,
    StatementTemplate,
)
from incidents.playbooks.templating import check_template, render_template, values_for
from statements.models import CHANNEL_LIMITS, INTERNAL_KINDS, ApprovalPolicy, StatementKind

NAMES = {defaults.INAPPROPRIATE_POST, defaults.PRODUCT_DEFECT, defaults.RUMOUR}
LONG_TITLE = ("Vague de plaintes : couvercles de bouilloire KX-200 fissurés, vidéo virale " * 2)[
    :120
]
NEXT_UPDATE = datetime(2026, 11, 28, 22, 45, tzinfo=ZoneInfo("Europe/Paris"))


@pytest.fixture
def playbooks(db):
    ensure_default_playbooks()
    return list(Playbook.objects.filter(name__in=NAMES).order_by("name"))


@pytest.fixture
def sample_incident(declare):
    """The longest values a template can meet: a 120-character title, every platform."""
    assert len(LONG_TITLE) == 120
    return declare(title=LONG_TITLE, platforms=list(Platform.values), severity=3)


def rendered(template, incident):
    values = values_for(
        incident,
        brand=template.playbook.brand,
        language=template.language,
        next_update_at=NEXT_UPDATE,
    )
    # A reply template's placeholders, as the reply queue fills them from a mention.
    values.update(
        {
            "author.handle": "@claire_b@mastodon.example",
            "author.name": "Claire B.",
            "mention.url": "https://mastodon.example/@claire_b/1",
        }
    )
    return render_template(template.text, values)


def test_three_playbooks_are_created_once(db):
    created = ensure_default_playbooks()
    assert {p.name for p in created} == NAMES
    counts = (
        Playbook.objects.count(),
        PlaybookStep.objects.count(),
        StatementTemplate.objects.count(),
        PlaybookPolicy.objects.count(),
        Contact.objects.count(),
        ApprovalPolicy.objects.count(),
    )

    assert ensure_default_playbooks() == []
    assert counts == (
        Playbook.objects.count(),
        PlaybookStep.objects.count(),
        StatementTemplate.objects.count(),
        PlaybookPolicy.objects.count(),
        Contact.objects.count(),
        ApprovalPolicy.objects.count(),
    )


def test_playbooks_are_described_and_current(playbooks):
    for playbook in playbooks:
        assert playbook.brand == "Maison Durand"
        assert playbook.version == 1 and playbook.is_active
        assert not playbook.needs_review()
        assert defaults.GUIDANCE_SEPARATOR in playbook.description
        assert playbook.categories and set(playbook.categories) <= set(Category.values)
        assert playbook.min_severity <= playbook.max_severity


def test_each_playbook_suits_its_demo_incident(playbooks):
    by_name = {p.name: p for p in playbooks}
    assert by_name[defaults.INAPPROPRIATE_POST].suits("public_statement", 3)
    assert by_name[defaults.PRODUCT_DEFECT].suits("product", 4)
    assert by_name[defaults.RUMOUR].suits("rumour", 2)
    assert not by_name[defaults.RUMOUR].suits("product", 2)


def test_steps_have_roles_and_increasing_due_times(playbooks, settings):
    high_severity_target = settings.FIRST_RESPONSE_MINUTES[3]
    task_roles = {Role.LEAD, Role.DRAFTER, Role.APPROVER, Role.SPOKESPERSON}
    for playbook in playbooks:
        steps = list(playbook.steps.all())
        assert 6 <= len(steps) <= 11, playbook
        due = [s.due_minutes for s in steps]
        assert due == sorted(due) and len(set(due)) == len(due), (playbook, due)
        assert due[0] <= 15, "acknowledge within a quarter of an hour"
        assert due[-1] <= 14 * 24 * 60
        assert {s.role for s in steps} == task_roles
        holding = [s for s in steps if "holding statement" in s.title]
        # Within the first-response target of a high-severity incident (30 minutes).
        assert len(holding) == 1 and holding[0].due_minutes <= high_severity_target
        repeating = [s for s in steps if s.repeat_minutes]
        assert [(s.due_minutes, s.repeat_minutes) for s in repeating] == [(180, 180)]
        for s in steps:
            french, english = s.guidance.split(defaults.GUIDANCE_SEPARATOR)
            assert french.strip() and english.strip(), s
            assert " / " in s.title, s


def test_rumour_playbook_has_a_legal_review(playbooks):
    rumour = next(p for p in playbooks if p.name == defaults.RUMOUR)
    legal = [s for s in rumour.steps.all() if s.role == Role.APPROVER]
    assert legal and "three months" in legal[0].guidance


def test_every_kind_offered_exists_in_french_and_english(playbooks):
    for playbook in playbooks:
        channels = {"fr": [], "en": []}
        for template in playbook.templates.all():
            channels[template.language].append((template.kind, template.channel))
        assert channels["fr"], playbook
        assert sorted(channels["fr"]) == sorted(channels["en"]), playbook
        kinds = {kind for kind, _channel in channels["fr"]}
        assert {StatementKind.HOLDING, StatementKind.UPDATE, StatementKind.REPLY} <= kinds
        assert StatementKind.BRIEFING in kinds
        replies = playbook.templates.filter(kind=StatementKind.REPLY, language="fr")
        drafted = [t for t in replies if "{{ author.handle }}" not in t.text]
        assert len(drafted) == 2, "one for an unhappy customer, one for a hater"
        # Where customers complain, one reply is ready to be approved in advance: nothing to
        # complete by hand, the person named by their handle.
        ready = [t for t in replies if "{{ author.handle }}" in t.text]
        assert len(ready) == (0 if playbook.name == defaults.RUMOUR else 1), playbook
        assert all("[" not in t.text for t in ready)


def test_apology_only_where_the_fault_can_be_ours(playbooks):
    kinds = {p.name: set(p.templates.values_list("kind", flat=True)) for p in playbooks}
    assert StatementKind.APOLOGY in kinds[defaults.INAPPROPRIATE_POST]
    assert StatementKind.APOLOGY in kinds[defaults.PRODUCT_DEFECT]
    assert StatementKind.APOLOGY not in kinds[defaults.RUMOUR]


def test_complaint_and_rumour_playbooks_brief_on_trolls(playbooks):
    for playbook in playbooks:
        if playbook.name == defaults.INAPPROPRIATE_POST:
            continue
        briefings = playbook.templates.filter(kind=StatementKind.BRIEFING)
        names = set(briefings.values_list("name", flat=True))
        assert names == {
            french_spacing("Ne pas répondre aux trolls : consignes"),
            "Do not answer trolls: guidance",
        }


def test_every_reply_template_says_whom_it_answers(playbooks):
    """The reply queue offers each first to its author type (unhappy customers, haters)."""
    templates = StatementTemplate.objects.filter(playbook__in=playbooks)
    replies = templates.filter(kind=StatementKind.REPLY)
    assert replies and all(t.author_type for t in replies)
    assert {t.author_type for t in replies} == {"unhappy_customer", "hater_occasional"}
    assert not templates.exclude(kind=StatementKind.REPLY).exclude(author_type="").exists()


def test_templates_pass_the_check_and_render(playbooks, sample_incident):
    templates = StatementTemplate.objects.filter(playbook__in=playbooks)
    assert templates.count() >= 30
    for template in templates:
        check_template(template.text, template.kind)
        text = rendered(template, sample_incident)
        assert "{{" not in text and "}}" not in text, template
        assert text == text.strip() and text, template
        if "{{ next_update_at }}" in template.text:
            expected = {
                "fr": "28 novembre 2026 à 22 h 45 (heure de Paris)",
                "en": "28 November 2026 at 22:45 (Paris time)",
            }[template.language]
            assert expected in text, template
        assert ".." not in text.replace("...", ""), template


def test_x_templates_fit_once_rendered_with_a_long_title(playbooks, sample_incident):
    x_templates = StatementTemplate.objects.filter(playbook__in=playbooks, channel="x")
    assert x_templates.count() >= 10
    for template in x_templates:
        text = rendered(template, sample_incident)
        assert len(text) <= CHANNEL_LIMITS["x"], (template, len(text))


def test_every_template_fits_its_channel(playbooks, sample_incident):
    for template in StatementTemplate.objects.filter(playbook__in=playbooks):
        limit = CHANNEL_LIMITS[template.channel]
        assert limit is None or len(rendered(template, sample_incident)) <= limit, template


def test_public_templates_keep_the_working_title_out(playbooks):
    """The incident title is the committee's: only internal briefings quote it."""
    for template in StatementTemplate.objects.filter(playbook__in=playbooks):
        if template.kind not in INTERNAL_KINDS:
            assert "incident.title" not in template.text, template


def test_long_templates_are_not_hard_wrapped(playbooks):
    """A single line break inside a posted text is only allowed before a list item."""
    for template in StatementTemplate.objects.filter(playbook__in=playbooks):
        for match in re.finditer(r"[^\n]\n(?!\n)", template.text):
            following = template.text[match.end() :]
            assert re.match(r"(- |\d+\. )", following), (template, following[:40])


def test_policies_by_severity(playbooks):
    for playbook in playbooks:
        policies = {p.severity: p.policy.name for p in playbook.policies.all()}
        assert set(policies) == set(range(playbook.min_severity, playbook.max_severity + 1))
        assert policies[4] == "Legal, then communications"
    by_name = {p.name: p for p in playbooks}
    moderate = by_name[defaults.PRODUCT_DEFECT].policies.get(severity=2).policy
    assert moderate.name == "Communications only"
    assert [(r.step, r.function) for r in moderate.requirements.all()] == [(1, "communications")]
    ordered = ApprovalPolicy.objects.get(name="Legal, then communications")
    assert [(r.step, r.function) for r in ordered.requirements.all()] == [
        (1, "legal"),
        (2, "communications"),
    ]


def test_existing_policies_are_reused_not_changed(db, policies):
    ordered = policies["ordered"]
    ordered.description = "Edited by an administrator"
    ordered.save()
    ensure_default_playbooks()
    assert ApprovalPolicy.objects.filter(name="Legal, then communications").count() == 1
    ordered.refresh_from_db()
    assert ordered.description == "Edited by an administrator"
    assert ordered.requirements.count() == 2
    assert ApprovalPolicy.objects.filter(is_default=True).count() == 1


def test_contacts(playbooks):
    for playbook in playbooks:
        contacts = list(playbook.contacts.all())
        kinds = {c.kind for c in contacts}
        assert kinds == set(ContactKind.values), playbook
        for c in contacts:
            if c.kind == ContactKind.COMMITTEE:
                assert c.role_title and c.phone and c.backup, c
                assert c.email.endswith("@example.com"), c
            if c.phone:
                assert re.fullmatch(r"\+33 1 23 45 67 \d\d", c.phone), c
            if c.email:
                assert c.email.endswith("@example.com"), c
        ambassadors = [c for c in contacts if c.kind == ContactKind.AMBASSADOR]
        # 4 in the product defect one: Dana, a defender of the demo's reply queue.
        assert 2 <= len(ambassadors) <= 4
        for a in ambassadors:
            assert a.handle and a.platform and a.audience and a.language and a.notes, a


def test_an_editors_changes_survive_a_second_call(playbooks):
    playbook = next(p for p in playbooks if p.name == defaults.PRODUCT_DEFECT)
    playbook.description = "Our own version."
    playbook.version = 2
    playbook.save()
    playbook.steps.filter(order=1).update(due_minutes=5, title="Edited step")
    playbook.templates.filter(language="en").delete()
    playbook.contacts.filter(kind=ContactKind.AMBASSADOR).delete()
    playbook.policies.filter(severity=2).delete()

    assert ensure_default_playbooks() == []

    playbook.refresh_from_db()
    assert (playbook.description, playbook.version) == ("Our own version.", 2)
    assert playbook.steps.get(order=1).title == "Edited step"
    assert not playbook.templates.filter(language="en").exists()
    assert not playbook.contacts.filter(kind=ContactKind.AMBASSADOR).exists()
    assert not playbook.policies.filter(severity=2).exists()


def test_a_missing_playbook_is_created_next_to_existing_ones(playbooks):
    Playbook.objects.filter(name=defaults.RUMOUR).delete()
    created = ensure_default_playbooks()
    assert [p.name for p in created] == [defaults.RUMOUR]
    assert Playbook.objects.filter(name__in=NAMES).count() == 3


def test_last_reviewed_on_is_the_day_of_creation(db):
    day = datetime(2026, 3, 2).date()
    for playbook in ensure_default_playbooks(today=day):
        assert playbook.last_reviewed_on == day
        assert playbook.needs_review(today=day + timedelta(days=183))


def test_load_demo_ships_the_playbooks(db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    out = io.StringIO()
    call_command("load_demo", stdout=out)
    assert "Default playbooks ready (3 created)" in out.getvalue()
    assert set(Playbook.objects.values_list("name", flat=True)) >= NAMES


# --- The files and the importer ---------------------------------------------------------------


def test_defaults_are_their_files_imported_through_the_import_action(db, caplog):
    day = datetime(2026, 3, 2).date()
    with caplog.at_level(logging.INFO, logger="incidents.playbooks.actions"):
        created = ensure_default_playbooks(today=day)

    assert [p.name for p in created] == list(defaults.FILES)
    for playbook in created:
        filename = defaults.FILES[playbook.name]
        # Row for row what the file says, as version 1 reviewed on the day of creation.
        expected = {**defaults.read_default(playbook.name), "version": 1}
        assert portable.export_playbook(playbook) == {**expected, "last_reviewed_on": "2026-03-02"}
        assert any(
            f"default_playbooks/{filename} by the system: created" in message
            for message in caplog.messages
        ), filename


def test_each_file_holds_the_playbook_it_is_named_for(db):
    for name, filename in defaults.FILES.items():
        assert (defaults.DIRECTORY / filename).is_file()
        data = defaults.read_default(name)
        assert data["name"] == name
        assert data["format"] == portable.FORMAT
        assert data["format_version"] == portable.FORMAT_VERSION
        assert data["brand"] == defaults.BRAND
        assert {row["policy"] for row in data["policies"]} <= set(defaults.POLICIES)


def test_an_upgraded_installation_gets_its_default_reply_templates_typed(playbooks, incident, lead):
    """Migration 0013: the default playbooks (left as they are by ensure_default_playbooks)
    and the incidents following them get the author types; an editor's choice stays."""
    import importlib

    from django.apps import apps

    from incidents.playbooks import actions as playbook_actions
    from incidents.playbooks.models import IncidentTemplate

    migration = importlib.import_module(
        "incidents.playbooks.migrations.0013_default_reply_templates_written_for"
    )
    # The migration knows every default reply template, as its file types it.
    files = StatementTemplate.objects.filter(playbook__in=playbooks, kind="reply")
    assert dict(files.values_list("name", "author_type")) == migration.WRITTEN_FOR
    assert set(migration.DEFAULT_PLAYBOOKS) == {p.name for p in playbooks}
    post = next(p for p in playbooks if p.name == defaults.INAPPROPRIATE_POST)
    playbook_actions.playbook_apply(incident=incident, actor=lead, playbook=post)
    StatementTemplate.objects.update(author_type="")  # as before 0012
    IncidentTemplate.objects.update(author_type="")
    edited = post.templates.get(name="Calm reply to a hater (X)")
    edited.author_type = "hater_persistent"  # an editor's choice
    edited.save()

    migration.forwards(apps, None)

    typed = dict(post.templates.filter(kind="reply").values_list("name", "author_type"))
    assert typed["Reply to an unhappy customer (X)"] == "unhappy_customer"
    assert typed["Calm reply to a hater (X)"] == "hater_persistent"
    copies = IncidentTemplate.objects.filter(incident=incident, kind="reply")
    assert copies and all(t.author_type for t in copies)
    assert not StatementTemplate.objects.exclude(kind="reply").exclude(author_type="").exists()
