import datetime

import pytest
from django.utils import timezone

from incidents.crisiscenter import actions
from incidents.crisiscenter.models import CrisisPageTemplate
from incidents.playbooks.models import Playbook
from statements import actions as statement_actions


@pytest.fixture
def playbook(db):
    """A playbook whose dark site is ready in French and English."""
    playbook = Playbook.objects.create(name="Rumour", brand="Acme")
    CrisisPageTemplate.objects.create(
        playbook=playbook,
        language="en",
        summary="About the rumour concerning {{ brand }}\nA false rumour is circulating.",
        doing="We are checking every claim. Next update: {{ next_update_at }}.",
        help="Customer service: 0800 123 456, https://help.example.com",
        faq="Is the product safe?\nYes: every batch is tested.\n---\nCan I get a refund?\nYes.",
    )
    CrisisPageTemplate.objects.create(
        playbook=playbook,
        language="fr",
        summary="À propos de la rumeur sur {{ brand }}\nUne fausse rumeur circule.",
        doing="Nous vérifions chaque affirmation.",
        help="Service client : 0800 123 456",
        faq="Le produit est-il sûr ?\nOui : chaque lot est testé.",
    )
    return playbook


@pytest.fixture
def next_update():
    return timezone.now() + datetime.timedelta(hours=2)


@pytest.fixture
def dark_page(incident, lead, playbook, next_update):
    return actions.page_prepare(
        incident=incident, actor=lead, playbook=playbook, next_update_at=next_update, slug="rumour"
    )


def approve(statement, *, author, approver):
    statement = statement_actions.statement_submit(statement=statement, actor=author)
    return statement_actions.statement_approve(
        statement=statement, actor=approver, revision=statement.revision
    )


@pytest.fixture
def approve_texts(lead, approver):
    def run(page):
        for text in page.texts.select_related("statement"):
            approve(text.statement, author=lead, approver=approver)

    return run


@pytest.fixture
def live_page(dark_page, approve_texts, lead):
    approve_texts(dark_page)
    return actions.page_switch(page=dark_page, actor=lead, action="go_live")


@pytest.fixture
def publish_update(drafter, approver, spokesperson, incident):
    def run(text, *, language="en", corrects=None, kind="update"):
        statement = statement_actions.statement_create(
            incident=incident,
            actor=drafter,
            kind="correction" if corrects else kind,
            channel="crisis_center",
            language=language,
            text=text,
            corrects=corrects,
        )
        statement = approve(statement, author=drafter, approver=approver)
        return statement_actions.statement_publish(statement=statement, actor=spokesperson)

    return run
