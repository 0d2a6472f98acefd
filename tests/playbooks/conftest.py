"""Playbooks built directly with the ORM, as an editor would have left them in the admin."""

import itertools

import pytest

from incidents.playbooks.models import (
    Contact,
    Playbook,
    PlaybookPolicy,
    PlaybookStep,
    StatementTemplate,
)

_numbers = itertools.count(1)


@pytest.fixture
def make_playbook(db, policies):
    """make_playbook(steps=3, templates=2, contacts=2, policies={3: "ordered"}, **fields)."""

    def make(*, steps=1, templates=1, contacts=1, severity_policies=None, **fields):
        number = next(_numbers)
        fields.setdefault("name", f"Product recall {number}")
        fields.setdefault("brand", "Acme")
        playbook = Playbook.objects.create(**fields)
        PlaybookStep.objects.bulk_create(
            PlaybookStep(
                playbook=playbook,
                order=i,
                title=f"Step {i}",
                guidance="- check the **facts**",
                role="lead",
                due_minutes=15 * (i + 1),
                repeat_minutes=60 if i == 0 else None,
            )
            for i in range(steps)
        )
        StatementTemplate.objects.bulk_create(
            StatementTemplate(
                playbook=playbook,
                order=i,
                name=f"Holding {i}",
                kind="holding",
                channel="x",
                language="en",
                text="{{ brand }} is aware of {{ incident.title }}. Next update: "
                "{{ next_update_at }}.",
            )
            for i in range(templates)
        )
        Contact.objects.bulk_create(
            Contact(
                playbook=playbook,
                order=i,
                kind="committee",
                name=f"Contact {i}",
                phone="+33 1 00 00 00 00",
                email=f"contact{i}@example.com",
            )
            for i in range(contacts)
        )
        chosen = {1: "default", 3: "ordered"} if severity_policies is None else severity_policies
        PlaybookPolicy.objects.bulk_create(
            PlaybookPolicy(playbook=playbook, severity=severity, policy=policies[key])
            for severity, key in chosen.items()
        )
        return playbook

    return make


@pytest.fixture
def superuser(make_user):
    return make_user("editor", is_staff=True, is_superuser=True)


@pytest.fixture
def admin_browser(client, superuser):
    client.force_login(superuser)
    return client


# A small but complete playbook, as an editor would build it, for the incident side.
@pytest.fixture
def playbook(policies):
    playbook = Playbook.objects.create(
        name="Inappropriate post by the brand",
        categories=["public_statement", "brand"],
        min_severity=2,
        max_severity=4,
        brand="Maison Durand",
    )
    steps = [
        ("Acknowledge internally and assess", "lead", 15, None),
        ("Draft the holding statement", "drafter", 30, None),
        ("Publish the holding statement", "spokesperson", 60, None),
        ("Post an update", "drafter", 180, 180),
    ]
    for order, (title, role, due, repeat) in enumerate(steps):
        PlaybookStep.objects.create(
            playbook=playbook,
            order=order,
            title=title,
            role=role,
            due_minutes=due,
            repeat_minutes=repeat,
            guidance="**Be quick.** Check facts first.",
        )
    StatementTemplate.objects.create(
        playbook=playbook,
        name="Holding statement",
        kind="holding",
        channel="x",
        language="en",
        text="We have seen the reactions to {{ incident.title }}. {{ brand }} is looking into "
        "it and will say more by {{ next_update_at }}.",
    )
    StatementTemplate.objects.create(
        playbook=playbook,
        name="Déclaration d'attente",
        kind="holding",
        channel="x",
        language="fr",
        text="{{ brand }} a pris connaissance des réactions ({{ platforms }}).",
    )
    for severity in (2, 3):
        PlaybookPolicy.objects.create(
            playbook=playbook, severity=severity, policy=policies["default"]
        )
    PlaybookPolicy.objects.create(playbook=playbook, severity=4, policy=policies["ordered"])
    Contact.objects.create(
        playbook=playbook,
        kind="ambassador",
        name="Julie B.",
        handle="@julie_cuisine",
        platform="instagram",
        audience=48_000,
        language="fr",
    )
    Contact.objects.create(
        playbook=playbook, kind="committee", name="Marc Durand", phone="+33 1 23 45 67 01"
    )
    return playbook


@pytest.fixture
def followed(incident, lead, playbook):
    """The persona incident (public_statement, severity 2) following the playbook."""
    from incidents.playbooks import actions

    actions.playbook_apply(incident=incident, actor=lead, playbook=playbook)
    return incident
