"""The demo's public crisis center: a dark site (crisis page template, French and English)
on the rumour and product-defect playbooks; on the rumour incident, the page prepared from
its playbook, its texts approved (legal, then communications), switched live by the lead,
and three updates in each language published by the spokesperson. Replayed through the
real actions, as steps of the rumour scenario (load_demo). Idempotent: a playbook that has
templates keeps them; an incident that has a page is left alone."""

import contextlib
from datetime import timedelta

from django.utils import timezone

from demo.french import typeset
from incidents.crisiscenter import actions
from incidents.crisiscenter.models import CrisisPage, CrisisPageTemplate
from incidents.errors import DomainError
from incidents.playbooks.models import Playbook
from statements import actions as statement_actions
from statements.models import Statement

TEMPLATES = {
    "Rumeur": {
        "fr": {
            "summary": (
                "Rumeur sur {{ brand }} : les faits\n"
                "Des informations fausses circulent au sujet de {{ brand }}. Voici ce que nous "
                "savons, ce que nous faisons, et où obtenir une réponse."
            ),
            "doing": (
                "Nous vérifions chaque affirmation avec les équipes concernées et publions ici "
                "chaque fait établi, à l’heure annoncée en haut de cette page."
            ),
            "help": (
                "Salariés : votre responsable RH ou le 01 23 45 67 89 (de 9 h à 18 h).\n"
                "Journalistes : presse@example.com\n"
                "Tout le monde : https://www.example.com/contact"
            ),
            "faq": (
                "D’où vient cette information ?\n"
                "D’un document qui n’a pas été produit par {{ brand }}.\n"
                "---\n"
                "Qui peut répondre à mes questions ?\n"
                "Nos équipes, aux numéros indiqués plus bas."
            ),
        },
        "en": {
            "summary": (
                "Rumour about {{ brand }}: the facts\n"
                "False information about {{ brand }} is circulating. Here is what we know, what "
                "we are doing, and where to get an answer."
            ),
            "doing": (
                "We are checking every claim with the teams concerned and post each established "
                "fact here, at the time given at the top of this page."
            ),
            "help": (
                "Employees: your HR manager or +33 1 23 45 67 89 (9 am to 6 pm).\n"
                "Journalists: press@example.com\n"
                "Everyone: https://www.example.com/contact"
            ),
            "faq": (
                "Where does this information come from?\n"
                "From a document that {{ brand }} did not produce.\n"
                "---\n"
                "Who can answer my questions?\n"
                "Our teams, at the numbers below."
            ),
        },
    },
    "Défaut produit": {
        "fr": {
            "summary": (
                "Information produit de {{ brand }}\n"
                "Nous avons reçu des signalements sur l’un de nos produits. Voici ce que nous "
                "savons et ce que vous pouvez faire."
            ),
            # No next-update time in a text: the page's header shows the current promise,
            # an approved text would keep a time that moved.
            "doing": "Nos équipes qualité examinent chaque signalement.",
            "help": "Service client : 0800 000 000 (gratuit), https://www.example.com/aide",
            "faq": (
                "Dois-je arrêter d’utiliser le produit ?\n"
                "Par précaution, oui, en attendant notre prochain point.\n"
                "---\n"
                "Serai-je remboursé ?\n"
                "Les modalités seront publiées ici."
            ),
        },
        "en": {
            "summary": (
                "Product information from {{ brand }}\n"
                "We have received reports about one of our products. Here is what we know and "
                "what you can do."
            ),
            "doing": "Our quality teams are examining every report.",
            "help": "Customer service: 0800 000 000 (free), https://www.example.com/help",
            "faq": (
                "Should I stop using the product?\n"
                "As a precaution, yes, until our next update.\n"
                "---\n"
                "Will I be refunded?\n"
                "How it works will be published here."
            ),
        },
    },
}
TEMPLATES = typeset(TEMPLATES)  # French typography (demo/french.py)

# The rumour page's updates, oldest first: (minutes after its declaration, language, text).
UPDATES = [
    (60, "fr", "Le mémo qui circule est un faux : aucune fermeture de site n’est prévue."),
    (60, "en", "The memo going round is a fake: no plant closure is planned."),
    (
        240,
        "fr",
        "Nous avons rencontré les représentants du personnel des deux usines ce matin.",
    ),
    (240, "en", "We met the staff representatives of both plants this morning."),
    (600, "fr", "Nous avons porté plainte pour faux et usage de faux."),
    (600, "en", "We have filed a complaint for forgery."),
    (
        60 * 12 + 30,
        "fr",
        "Dernier point : aucune fermeture de site n’est prévue et notre plainte suit son "
        "cours. Cette page reste en ligne. Merci de votre confiance.",
    ),
    (
        60 * 12 + 30,
        "en",
        "Final update: no plant closure is planned and our complaint is under way. This page "
        "stays online. Thank you for your trust.",
    ),
]
UPDATES = typeset(UPDATES)  # French typography (demo/french.py)


def ensure_templates() -> int:
    """The dark sites of the rumour and product-defect playbooks (their French name starts
    the key). Returns how many playbooks got one."""
    count = 0
    for prefix, languages in TEMPLATES.items():
        playbook = Playbook.objects.filter(name__startswith=prefix).first()
        if playbook is None or CrisisPageTemplate.objects.filter(playbook=playbook).exists():
            continue
        for language, texts in languages.items():
            CrisisPageTemplate.objects.create(playbook=playbook, language=language, **texts)
        count += 1
    return count


def sign(statement: Statement, users: dict) -> Statement:
    """Submitted by its author, then approved by legal then communications (the playbook's
    policy decides who signs: one of them, or both in turn)."""
    statement = statement_actions.statement_submit(statement=statement, actor=statement.author)
    for approver in (users["approver"], users["comms"]):
        statement = Statement.objects.get(pk=statement.pk)
        if statement.status != "in_review":
            break
        with contextlib.suppress(DomainError):
            statement_actions.statement_approve(
                statement=statement, actor=approver, revision=statement.revision
            )
    return Statement.objects.get(pk=statement.pk)


def prepare(incident, users) -> None:
    """Step of the rumour scenario: the lead prepares the dark page from the playbook."""
    if CrisisPage.objects.filter(incident=incident).exists():
        return
    playbook = Playbook.objects.filter(name__startswith="Rumeur").first()
    actions.page_prepare(
        incident=incident,
        actor=users["lead"],
        playbook=playbook,
        next_update_at=timezone.now() + timedelta(hours=3),
        slug="rumeur-usines",
    )


def approve_and_go_live(incident, users) -> None:
    page = CrisisPage.objects.get(incident=incident)
    for text in page.texts.select_related("statement"):
        sign(text.statement, users)
    actions.page_switch(page=page, actor=users["lead"], action="go_live")


def publish_update(incident, users, language: str, text: str) -> None:
    statement = statement_actions.statement_create(
        incident=incident,
        actor=users["drafter"],
        kind="update",
        channel="crisis_center",
        language=language,
        text=text,
    )
    statement = sign(statement, users)
    statement_actions.statement_publish(statement=statement, actor=users["spokesperson"])


def resolve(incident, users) -> None:
    """Step of the rumour scenario: the crisis is over, the page stays online as an archive
    (the open promise ends with it: promises.end)."""
    page = CrisisPage.objects.get(incident=incident)
    actions.page_switch(page=page, actor=users["lead"], action="resolve")
