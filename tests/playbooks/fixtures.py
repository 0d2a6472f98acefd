"""A small but complete playbook, built in the database as an editor would in the admin.
Imported by the incident-side test modules (`from tests.playbooks.fixtures import *`)."""

import pytest

from incidents.playbooks.models import (
    Contact,
    Playbook,
    PlaybookPolicy,
    PlaybookStep,
    StatementTemplate,
)
from statements.models import ApprovalPolicy


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


__all__ = ["ApprovalPolicy", "followed", "playbook"]
