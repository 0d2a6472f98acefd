"""The three playbooks Crisis Cell ships with, as plain data, and `ensure_default_playbooks`.

They are a starting point for the demo brand, Maison Durand (a fictional French maker of
kitchenware), written from common practice: acknowledge within the hour, never delete
criticism, apologise sincerely when the fault is ours, keep people informed on a fixed
cadence, capture evidence before it disappears, answer unhappy customers one by one, haters
once and calmly, trolls not at all, brief ambassadors with facts rather than scripts, and
learn afterwards.

Conventions, so an editor can keep them when changing a playbook in the admin panel:

- Playbooks serve a French and English committee, but a step or a playbook has one text
  field per value. Short fields (names, step titles, contact roles) read "French / English";
  long fields (descriptions, guidance, notes) hold the French text, a `---` rule, then the
  English text (`bilingual()` below).
- Statement templates exist once per language (same kind and channel, one FR and one EN).
- Square brackets, as in "[lien]" or "[your first name]", mark what the drafter completes
  before submitting; `{{ placeholders }}` are filled in when the playbook is applied.
- {{ incident.title }} is the committee's working title, not a public sentence: only the
  internal briefings use it. Public templates name the brand and the next update time.
"""

import re
from datetime import date

from django.db import IntegrityError, transaction
from django.utils import timezone

from incidents.models import Category, Platform, Role, Severity
from statements.models import ApprovalPolicy, ApprovalRequirement, Channel, StatementKind

from .models import (
    Contact,
    ContactKind,
    Playbook,
    PlaybookPolicy,
    PlaybookStep,
    StatementTemplate,
)

BRAND = "Maison Durand"
GUIDANCE_SEPARATOR = "\n\n---\n\n"
LIST_ITEM = re.compile(r"(- |\d+\. )")

INAPPROPRIATE_POST = "Publication inappropriée de la marque / Inappropriate post by the brand"
PRODUCT_DEFECT = "Défaut produit, vague de réclamations / Product defect, complaint wave"
RUMOUR = "Rumeur, fausse information, diffamation / Rumour, fake news and defamation"

EVERY_UPDATE = 180  # minutes between regular updates while an incident is open


def unwrap(text: str) -> str:
    """Join the lines of each paragraph, which are wrapped here only to fit the source: a
    posted text keeps its line breaks. A line break stays before a list item ("- ", "1. ")
    and between paragraphs (a blank line)."""
    paragraphs = []
    for paragraph in re.split(r"\n\s*\n", text.strip()):
        lines: list[str] = []
        for line in paragraph.splitlines():
            line = line.strip()
            if lines and not LIST_ITEM.match(line):
                lines[-1] += " " + line
            else:
                lines.append(line)
        paragraphs.append("\n".join(lines))
    return "\n\n".join(paragraphs)


def bilingual(fr: str, en: str) -> str:
    """One text field holding French first, then English below a Markdown rule."""
    return unwrap(fr) + GUIDANCE_SEPARATOR + unwrap(en)


def step(role, due_minutes, title, fr, en, repeat_minutes=None) -> dict:
    return {
        "role": role,
        "due_minutes": due_minutes,
        "repeat_minutes": repeat_minutes,
        "title": title,
        "guidance": bilingual(fr, en),
    }


def template(kind, channel, names: tuple[str, str], fr: str, en: str) -> dict:
    """A French and an English version of one template."""
    return {"kind": kind, "channel": channel, "names": names, "texts": (unwrap(fr), unwrap(en))}


def contact(kind, name, role_title="", **fields) -> dict:
    return {"kind": kind, "name": name, "role_title": role_title, **fields}


# --- Approval policies ------------------------------------------------------------------------
# The first two are created by statements' migration 0002; they are recreated the same way if
# missing (a flushed test database), and never modified when they exist.

ONE_APPROVER = "One approver"
LEGAL_THEN_COMMUNICATIONS = "Legal, then communications"
COMMUNICATIONS_ONLY = "Communications only"

POLICIES = {
    ONE_APPROVER: {
        "description": "Any approver of the cell other than the author signs off.",
        "requirements": [(1, "")],
    },
    LEGAL_THEN_COMMUNICATIONS: {
        "description": "Legal approves first; then the communications director.",
        "requirements": [(1, "legal"), (2, "communications")],
    },
    COMMUNICATIONS_ONLY: {
        "description": (
            "One approver with the communications function (usually the communications "
            "director) signs off. For incidents where speed matters more than legal review."
        ),
        "requirements": [(1, "communications")],
    },
}


# --- Contacts ---------------------------------------------------------------------------------

COMMITTEE = [
    contact(
        ContactKind.COMMITTEE,
        "Camille Laurent",
        "Pilote de la cellule, secrétaire générale / Crisis lead, general secretary",
        phone="+33 1 23 45 67 01",
        email="camille.laurent@example.com",
        backup="Nadia Roux, directrice des opérations / operations director",
    ),
    contact(
        ContactKind.COMMITTEE,
        "David Keller",
        "Directeur de la communication (approbateur) / Communications director (approver)",
        phone="+33 1 23 45 67 02",
        email="david.keller@example.com",
        backup="Camille Laurent",
    ),
    contact(
        ContactKind.COMMITTEE,
        "Inès Bernard",
        "Juriste (approbatrice) / Legal counsel (approver)",
        phone="+33 1 23 45 67 03",
        email="ines.bernard@example.com",
        backup="Me Claire Vasseur, Vasseur & Associés",
    ),
    contact(
        ContactKind.COMMITTEE,
        "Sam Moreau",
        "Community manager (rédaction) / Community manager (drafter)",
        phone="+33 1 23 45 67 04",
        email="sam.moreau@example.com",
        backup="Jules Fontaine, community manager",
    ),
    contact(
        ContactKind.COMMITTEE,
        "Léa Martin",
        "Porte-parole / Spokesperson",
        phone="+33 1 23 45 67 05",
        email="lea.martin@example.com",
        backup="Paul Durand, président / chief executive",
        notes=bilingual(
            "Seule personne autorisée à répondre aux journalistes.",
            "The only person who answers journalists.",
        ),
    ),
    contact(
        ContactKind.COMMITTEE,
        "Paul Durand",
        "Président / Chief executive",
        phone="+33 1 23 45 67 06",
        email="paul.durand@example.com",
        backup="Camille Laurent",
        notes=bilingual(
            "Signe les excuses quand la sévérité est critique.",
            "Signs the apology when the severity is critical.",
        ),
    ),
]

CUSTOMER_SERVICE = contact(
    ContactKind.STAKEHOLDER,
    "Amélie Garnier",
    "Responsable du service client / Customer service lead",
    phone="+33 1 23 45 67 10",
    email="amelie.garnier@example.com",
    backup="Yanis Mercier, superviseur / supervisor",
    notes=bilingual(
        "Lui transmettre chaque déclaration avant publication : le service client doit "
        "dire la même chose, avec les mêmes mots.",
        "Send her every statement before it goes out: customer service must say the same "
        "thing, in the same words.",
    ),
)
HR_DIRECTOR = contact(
    ContactKind.STAKEHOLDER,
    "Sophie Lambert",
    "Directrice des ressources humaines / HR director",
    phone="+33 1 23 45 67 11",
    email="sophie.lambert@example.com",
    backup="Marc Olivier, responsable RH / HR manager",
)
QUALITY_MANAGER = contact(
    ContactKind.STAKEHOLDER,
    "Thomas Girard",
    "Responsable qualité / Quality manager",
    phone="+33 1 23 45 67 12",
    email="thomas.girard@example.com",
    backup="Élodie Caron, ingénieure qualité / quality engineer",
)
STAFF_REPRESENTATIVES = contact(
    ContactKind.STAKEHOLDER,
    "Karim Benali",
    "Secrétaire du CSE (représentants du personnel) / Works council secretary",
    phone="+33 1 23 45 67 13",
    email="cse@example.com",
    notes=bilingual(
        "À informer avant toute déclaration publique qui concerne les salariés.",
        "Inform before any public statement that concerns employees.",
    ),
)
LAW_FIRM = contact(
    ContactKind.STAKEHOLDER,
    "Vasseur & Associés (Me Claire Vasseur)",
    "Cabinet d'avocats, droit de la presse et de la consommation / "
    "Law firm, press and consumer law",
    phone="+33 1 23 45 67 20",
    email="cabinet.vasseur@example.com",
    backup="Me Antoine Lefort",
    notes=bilingual(
        "Astreinte 24 h/24 pendant une crise : appeler, puis confirmer par e-mail.",
        "On call around the clock during a crisis: call, then confirm by email.",
    ),
)
INSURER = contact(
    ContactKind.STAKEHOLDER,
    "Rive Gauche Assurances, service sinistres",
    "Assureur responsabilité civile produits / Product liability insurer",
    phone="+33 1 23 45 67 30",
    email="sinistres.rivegauche@example.com",
    notes=bilingual(
        "Contrat RC-2024-0173. Déclarer tout dommage corporel signalé dans les délais du "
        "contrat, avant d'annoncer un rappel.",
        "Policy RC-2024-0173. Report any injury within the policy's deadline, before a "
        "recall is announced.",
    ),
)

HOME_COOK = contact(
    ContactKind.AMBASSADOR,
    "Margaux Petitjean",
    "Créatrice de recettes / Recipe creator",
    handle="@margaux.cuisine",
    platform=Platform.INSTAGRAM,
    audience=48_000,
    language="fr",
    email="margaux.petitjean@example.com",
    notes=bilingual(
        "Utilise nos produits depuis 2019 ; partenariat rémunéré terminé en 2023 (elle le "
        "mentionne si elle en parle). Lui envoyer les faits et le lien de notre déclaration, "
        "jamais un texte à publier.",
        "Has used our products since 2019; paid partnership ended in 2023 (she says so if "
        "she posts about us). Send her the facts and the link to our statement, never a text "
        "to post.",
    ),
)
REVIEWER = contact(
    ContactKind.AMBASSADOR,
    "Ben Carter",
    "Testeur d'équipement de cuisine / Kitchen gear reviewer",
    handle="@BenCarterCooks",
    platform=Platform.YOUTUBE,
    audience=120_000,
    language="en",
    email="ben.carter@example.com",
    notes=bilingual(
        "Teste du matériel de cuisine pour un public britannique ; a testé la bouilloire "
        "KX-200 en 2024. Préfère un e-mail avec les faits, des photos et un contact pour ses "
        "questions.",
        "Reviews kitchen gear for UK viewers; reviewed the KX-200 kettle in 2024. Prefers an "
        "email with facts, photos and someone to call with follow-up questions.",
    ),
)
FORUM_MODERATOR = contact(
    ContactKind.AMBASSADOR,
    "Nicolas Roy",
    "Modérateur du forum Cuisine & Maison / Cuisine & Maison forum moderator",
    handle="Nico_modo",
    platform=Platform.FORUM,
    audience=15_000,
    language="fr",
    notes=bilingual(
        "Peut épingler notre réponse officielle si nous la lui envoyons. Ne jamais lui "
        "demander de supprimer des critiques.",
        "Can pin our official answer if we send it to him. Never ask him to remove criticism.",
    ),
)
EMPLOYEE_AMBASSADOR = contact(
    ContactKind.AMBASSADOR,
    "Julie Marchand",
    "Technicienne, site de Lyon (ambassadrice salariée) / Technician, Lyon plant "
    "(employee ambassador)",
    handle="in/julie-marchand",
    platform=Platform.LINKEDIN,
    audience=6_500,
    language="fr",
    notes=bilingual(
        "Très suivie par les salariés et les candidats. Lui donner les faits en même temps "
        "qu'aux équipes ; ne jamais lui demander de démentir à notre place.",
        "Widely followed by staff and candidates. Give her the facts at the same time as the "
        "teams; never ask her to deny anything on our behalf.",
    ),
)


# --- Guidance and templates shared by the playbooks -----------------------------------------

POST_MORTEM = (
    "Retour d'expérience / Post-mortem",
    """
Dans la semaine qui suit la clôture, une heure avec toute la cellule :

- Relire la chronologie : comment c'est parti, qui a amplifié, qui nous a défendus, ce que
  chaque déclaration a changé.
- Nos délais réels face aux objectifs (première réponse, points de situation).
- Ce qui a manqué : une personne injoignable, un outil, une consigne, une plateforme que
  personne ne surveillait.
- Trois décisions au plus, avec un responsable et une date. Mettre ce playbook à jour.
- Si quelqu'un nous en reparle dans des mois : répondre franchement, avec ce que nous avons
  appris.
""",
    """
Within a week of closing, one hour with the whole cell:

- Walk through the timeline: how it started, who amplified it, who stood up for us, what
  each statement changed.
- Our actual times against the targets (first response, updates).
- What was missing: someone unreachable, a tool, a rule, a platform nobody monitored.
- Three decisions at most, each with an owner and a date. Update this playbook.
- If someone brings it up months later: answer honestly, with what we learnt.
""",
)

REGULAR_UPDATE = (
    "Point de situation régulier / Regular update",
    """
Tant que l'incident est ouvert, un point toutes les trois heures, même s'il n'y a rien de
nouveau : le silence laisse la place aux suppositions.

- Ce qui a changé depuis le dernier message, ce que nous faisons, la date du prochain point.
- Au même endroit que la déclaration d'attente, en réponse à celle-ci pour garder le fil.
- Une heure annoncée est une promesse : la tenir, ou dire avant l'heure qu'elle glisse.
""",
    """
While the incident is open, an update every three hours, even when nothing is new: silence
leaves room for guesswork.

- What changed since the last message, what we are doing, when the next update comes.
- In the same place as the holding statement, as a reply to it to keep the thread together.
- A time we announce is a promise: keep it, or say before it passes that it will slip.
""",
)


def troll_briefing(fr_context: str, en_context: str) -> dict:
    """The internal briefing on who to answer, shared by two playbooks."""
    return template(
        StatementKind.BRIEFING,
        Channel.EMAIL,
        (
            "Ne pas répondre aux trolls : consignes",
            "Do not answer trolls: guidance",
        ),
        f"""
Objet : {{{{ incident.title }}}} — à qui répondre, à qui ne pas répondre

Cellule ouverte le {{{{ declared_at }}}}. Plateformes concernées : {{{{ platforms }}}}.

{fr_context.strip()}

Trois profils, trois attitudes :

1. La personne mécontente (cliente, ou inquiète pour de bonnes raisons) : on lui répond, vite,
   personnellement, et on passe en message privé pour toute donnée personnelle. C'est la
   priorité, avant tout le reste.
2. Le hater (il dénigre, parfois violemment) : une réponse, une seule, calme, avec des faits
   vérifiables et le lien vers notre déclaration. Pas d'ironie, pas de débat en dix messages.
   S'il revient sans élément nouveau, on s'arrête là.
3. Le troll (il cherche la réaction, souvent sans être client) : on ne répond pas. Ni humour,
   ni « j'aime », ni citation. On capture les messages injurieux, haineux ou menaçants dans le
   dossier de preuves et on les signale à la plateforme.

En cas de doute entre hater et troll : une réponse calme, une seule.

Dans tous les cas :
- On ne supprime jamais une critique. On ne masque un commentaire que s'il contient des
  insultes, des menaces ou des données personnelles, après l'avoir capturé.
- On ne répond pas sous le coup de l'émotion : en cas de doute, on relit à deux.
- Tout ce que nous écrivons peut être capturé et cité : aucune promesse que nous ne pouvons
  pas tenir.
- Un journaliste, même sur un réseau social, est orienté vers la porte-parole.
- Pas de commentaire depuis un compte personnel au sujet de l'incident.
""",
        f"""
Subject: {{{{ incident.title }}}} — who to answer, who not to

Cell opened on {{{{ declared_at }}}}. Platforms concerned: {{{{ platforms }}}}.

{en_context.strip()}

Three kinds of people, three responses:

1. The unhappy person (a customer, or someone worried for good reasons): answer them, fast,
   personally, and move to private messages for any personal data. This comes first.
2. The hater (runs us down, sometimes violently): one reply, only one, calm, with facts they
   can check and the link to our statement. No irony, no ten-message debate. If they come
   back with nothing new, leave it there.
3. The troll (wants a reaction, often not a customer): do not answer. No joke, no like, no
   quote. Capture insulting, hateful or threatening messages in the evidence locker and
   report them to the platform.

Not sure whether it is a hater or a troll? One calm reply, only one.

Always:
- Never delete criticism. Hide a comment only if it holds insults, threats or personal data,
  and capture it first.
- Never answer in the heat of the moment: if in doubt, have a second person read it.
- Anything we write can be captured and quoted: no promise we cannot keep.
- A journalist, even on social media, is directed to the spokesperson.
- No comments about the incident from personal accounts.
""",
    )


# --- 1. Inappropriate post by the brand ------------------------------------------------------

INAPPROPRIATE_POST_PLAYBOOK = {
    "name": INAPPROPRIATE_POST,
    "description": bilingual(
        "Un message blessant, maladroit ou hors de propos est parti d'un de nos comptes "
        "officiels : erreur de compte, blague ratée, hashtag mal choisi, visuel insensible. "
        "La faute est la nôtre : on la reconnaît vite, on s'excuse sincèrement, on dit ce qui "
        "change. On ne supprime rien en silence et on ne se justifie pas.",
        "A hurtful, clumsy or out-of-place message went out from one of our official "
        "accounts: wrong account, failed joke, badly chosen hashtag, insensitive picture. The "
        "fault is ours: acknowledge it fast, apologise sincerely, say what changes. Nothing "
        "disappears silently and we do not justify ourselves.",
    ),
    "categories": [Category.PUBLIC_STATEMENT, Category.BRAND],
    "min_severity": Severity.MODERATE,
    "max_severity": Severity.CRITICAL,
    "policies": {
        Severity.MODERATE: COMMUNICATIONS_ONLY,
        Severity.HIGH: COMMUNICATIONS_ONLY,
        Severity.CRITICAL: LEGAL_THEN_COMMUNICATIONS,
    },
    "steps": [
        step(
            Role.LEAD,
            10,
            "Confirmer les faits, ouvrir la cellule / Confirm the facts, open the cell",
            """
- Quel compte, quel message, publié quand, vu par combien de personnes ?
- Faire suspendre tout de suite les publications programmées et les campagnes
  sponsorisées, sur tous les comptes : rien de léger ne doit partir pendant la crise.
- Prévenir la porte-parole et un approbateur : la première réponse part dans la
  demi-heure (15 minutes en sévérité critique).
""",
            """
- Which account, which message, posted when, seen by how many people?
- Have every scheduled post and sponsored campaign paused now, on every account: nothing
  light-hearted may go out during the crisis.
- Alert the spokesperson and an approver: the first response goes out within half an hour
  (15 minutes at critical severity).
""",
        ),
        step(
            Role.DRAFTER,
            15,
            "Capturer le message et les premières réactions / "
            "Capture the post and the first reactions",
            """
- Capture du message (avec l'heure et l'adresse), des réactions les plus vues et des
  comptes qui l'ont relayé : dans le dossier de preuves, avant tout changement.
- Le message lui-même : s'il blesse, il peut être retiré, mais jamais en silence ; la
  déclaration d'attente dit qu'il a été retiré et pourquoi.
- Ne supprimer aucun commentaire critique.
""",
            """
- Capture the post (with its time and address), the most-viewed reactions and the accounts
  that shared it: into the evidence locker, before anything changes.
- The post itself: if it hurts people it may come down, but never silently; the holding
  statement says it was removed and why.
- Do not delete any critical comment.
""",
        ),
        step(
            Role.SPOKESPERSON,
            30,
            "Publier la déclaration d'attente / Publish the holding statement",
            """
- D'abord sur la plateforme où tout a commencé, depuis le même compte ; puis sur les
  autres.
- Court et humain : nous avons vu, nous sommes désolés, nous cherchons, prochain point à
  telle heure. Mieux vaut un message simple dans la demi-heure qu'un texte parfait dans
  trois heures.
- Épingler le message et y renvoyer les premières personnes qui nous interpellent.
""",
            """
- First on the platform where it started, from the same account; then on the others.
- Short and human: we have seen it, we are sorry, we are looking into it, next update at a
  given time. A simple message within half an hour beats a perfect text in three hours.
- Pin it, and point the first people who call us out to it.
""",
        ),
        step(
            Role.LEAD,
            45,
            "Informer l'équipe et les ambassadeurs / Brief the staff and the ambassadors",
            """
- Envoyer la note interne aux équipes : ce qui s'est passé, ce que nous avons publié, pas
  de commentaire depuis un compte personnel, les journalistes vont à la porte-parole.
- Écrire personnellement aux ambassadeurs, surtout à ceux qui commentent déjà : les faits
  et le lien vers notre déclaration. Jamais de texte à publier ; ils restent libres.
- La personne qui a publié le message est l'affaire des RH, pas d'une déclaration.
""",
            """
- Send the staff briefing: what happened, what we published, no comments from personal
  accounts, journalists go to the spokesperson.
- Write personally to the ambassadors, first to those already commenting: the facts and
  the link to our statement. Never a text to post; they stay free.
- The person who posted the message is a matter for HR, not for a statement.
""",
        ),
        step(
            Role.DRAFTER,
            60,
            "Répondre aux personnes une par une / Answer people one by one",
            """
- D'abord nos clients et abonnés, puis les autres ; chacun doit voir que nous le prenons
  au sérieux, une réponse générale passe inaperçue.
- Client mécontent : réponse personnelle, proposition d'échanger en message privé.
- Hater : une réponse calme et factuelle, une seule. Troll : pas de réponse.
- Noter dans la chronologie les questions qui reviennent : elles nourrissent les excuses.
""",
            """
- Our customers and followers first, then the others; each must see we take them
  seriously, a general statement goes unnoticed.
- Unhappy customer: a personal reply, an offer to continue in private messages.
- Hater: one calm, factual reply, only one. Troll: no reply.
- Log recurring questions in the timeline: they feed the apology.
""",
        ),
        step(
            Role.APPROVER,
            90,
            "Valider les excuses et les mesures / Sign off the apology and the measures",
            """
- Des excuses signées par une personne nommée (le président en sévérité critique), sans
  « si certains ont été choqués » et sans rejeter la faute sur un stagiaire.
- Au moins une mesure concrète et vérifiable : double validation des publications,
  accès aux comptes revus, formation de l'équipe.
- Ne rien promettre que nous ne ferons pas.
""",
            """
- An apology signed by a named person (the chief executive at critical severity), with no
  "if anyone was offended" and no blaming an intern.
- At least one concrete, checkable measure: a second pair of eyes on every post, account
  access reviewed, team training.
- Promise nothing we will not do.
""",
        ),
        step(
            Role.SPOKESPERSON,
            120,
            "Publier les excuses / Publish the apology",
            """
- Là où le message était paru, avec un visage si possible ; laisser les commentaires
  ouverts et y répondre.
- Répondre sous les excuses aux questions de fond pendant les heures qui suivent.
""",
            """
- Where the post appeared, with a face if possible; leave comments open and answer them.
- Answer questions of substance under the apology for the following hours.
""",
        ),
        step(Role.DRAFTER, EVERY_UPDATE, *REGULAR_UPDATE, repeat_minutes=EVERY_UPDATE),
        step(
            Role.LEAD,
            24 * 60,
            "Reprendre les publications, remercier / Resume publishing, thank supporters",
            """
- Quand les mentions sont revenues à leur niveau habituel, reprendre les publications
  normales : se taire durablement n'efface rien.
- Remercier personnellement les ambassadeurs et les clients qui nous ont défendus.
""",
            """
- Once mentions are back to their usual level, resume normal publishing: staying silent
  for good erases nothing.
- Personally thank the ambassadors and customers who stood up for us.
""",
        ),
        step(Role.LEAD, 7 * 24 * 60, *POST_MORTEM),
    ],
    "templates": [
        template(
            StatementKind.HOLDING,
            Channel.X,
            ("Déclaration d'attente (X)", "Holding statement (X)"),
            "Un message qui n'aurait jamais dû être publié est parti de notre compte. Nous "
            "sommes désolés de la peine qu'il a causée. Nous cherchons comment c'est arrivé "
            "et revenons vers vous ici. Prochain point : {{ next_update_at }}. — {{ brand }}",
            "A message that should never have been posted went out from our account. We are "
            "sorry for the hurt it caused. We are finding out how it happened and will come "
            "back to you here. Next update: {{ next_update_at }}. — {{ brand }}",
        ),
        template(
            StatementKind.APOLOGY,
            Channel.INSTAGRAM,
            ("Excuses (Instagram)", "Apology (Instagram)"),
            """
Nous vous devons des excuses.

[Ce qui s'est passé, en une phrase, sans l'atténuer.]

Ce message a été publié sur notre compte : il est de notre responsabilité, quelle que soit
la personne qui l'a publié. Nous comprenons la colère et la peine qu'il a provoquées, et
nous en sommes sincèrement désolés.

Ce qui change dès maintenant :
- [mesure concrète, par exemple : deux personnes relisent chaque publication]
- [autre mesure, si elle existe vraiment]

Les commentaires restent ouverts : nous les lisons et nous répondons à vos questions.

[Prénom Nom], [fonction], pour {{ brand }}
""",
            """
We owe you an apology.

[What happened, in one sentence, without softening it.]

This message was posted on our account: it is our responsibility, whoever posted it. We
understand the anger and the hurt it caused, and we are truly sorry.

What changes from now on:
- [a concrete measure, for example: two people read every post before it goes out]
- [another measure, if there really is one]

Comments stay open: we read them and answer your questions.

[First name Last name], [job title], for {{ brand }}
""",
        ),
        template(
            StatementKind.UPDATE,
            Channel.X,
            ("Point de situation (X)", "Update (X)"),
            "Point d'étape : [ce que nous avons appris et fait depuis notre dernier message]. "
            "Nous lisons vos réponses et répondons à vos questions. "
            "Prochain point : {{ next_update_at }}. — {{ brand }}",
            "Where we are: [what we have learnt and done since our last message]. We are "
            "reading your replies and answering your questions. "
            "Next update: {{ next_update_at }}. — {{ brand }}",
        ),
        template(
            StatementKind.REPLY,
            Channel.X,
            ("Réponse à un client mécontent (X)", "Reply to an unhappy customer (X)"),
            "Bonjour, vous avez raison : ce message est choquant et nous en sommes désolés. Il "
            "ne nous ressemble pas. Nos explications sont ici : [lien]. Si vous voulez en "
            "parler, écrivez-nous en privé, nous vous répondrons personnellement. "
            "— [votre prénom]",
            "Hello, you are right to be shocked, and we are sorry. That message is not who we "
            "are. Our explanation is here: [link]. If you would like to talk about it, send "
            "us a private message and we will answer you personally. — [your first name]",
        ),
        template(
            StatementKind.REPLY,
            Channel.X,
            ("Réponse calme à un hater (X)", "Calm reply to a hater (X)"),
            "Bonjour, nous entendons votre colère. Les faits : [ce qui s'est passé et ce que "
            "nous avons fait, sans adjectif]. Nos excuses sont ici : [lien]. Nous restons "
            "disponibles si vous voulez en parler. "
            "— [votre prénom]",
            "Hello, we hear your anger. The facts: [what happened and what we did, no "
            "adjectives]. Our apology is here: [link]. We are here if you want to talk about "
            "it. — [your first name]",
        ),
        troll_briefing(
            "Un message inapproprié a été publié sur un de nos comptes. Nous l'avons reconnu "
            "publiquement. Les comptes parodiques et satiriques vont s'en amuser : ce sont "
            "des trolls au sens de cette note.",
            "An inappropriate message was posted on one of our accounts. We have acknowledged "
            "it publicly. Parody and satire accounts will make fun of it: they are trolls in "
            "the sense of this note.",
        ),
    ],
    "contacts": [
        *COMMITTEE,
        CUSTOMER_SERVICE,
        HR_DIRECTOR,
        LAW_FIRM,
        HOME_COOK,
        REVIEWER,
        FORUM_MODERATOR,
    ],
}


# --- 2. Product defect, complaint wave --------------------------------------------------------

PRODUCT_DEFECT_PLAYBOOK = {
    "name": PRODUCT_DEFECT,
    "description": bilingual(
        "Des clients se plaignent en nombre d'un produit ou d'un service : défaut, panne, "
        "livraison, service après-vente. La sécurité passe avant tout ; ensuite on répond à "
        "chacun, on s'excuse quand les faits sont établis et on dit clairement quelle "
        "solution nous proposons et quand.",
        "Many customers complain about a product or a service: a defect, a breakdown, "
        "delivery, after-sales. Safety comes first; then answer everyone, apologise once the "
        "facts are established, and say clearly what remedy we offer and when.",
    ),
    "categories": [Category.PRODUCT, Category.SERVICE],
    "min_severity": Severity.MODERATE,
    "max_severity": Severity.CRITICAL,
    "policies": {
        Severity.MODERATE: COMMUNICATIONS_ONLY,
        Severity.HIGH: LEGAL_THEN_COMMUNICATIONS,
        Severity.CRITICAL: LEGAL_THEN_COMMUNICATIONS,
    },
    "steps": [
        step(
            Role.LEAD,
            15,
            "Mesurer la vague, ouvrir la cellule / Size the wave, open the cell",
            """
- Combien de messages par rapport à d'habitude, sur quelles plateformes, quel produit,
  quels lots ou quelles commandes ?
- Y a-t-il un risque pour la sécurité (brûlure, blessure, allergie) ? Si oui, le premier
  message dit comment se protéger, avant toute autre chose.
- Suspendre les publications promotionnelles sur ce produit.
""",
            """
- How many messages compared with usual, on which platforms, which product, which
  batches or orders?
- Is there a safety risk (burn, injury, allergy)? If so, the first message says how to
  stay safe, before anything else.
- Pause promotional posts about this product.
""",
        ),
        step(
            Role.DRAFTER,
            20,
            "Rassembler les preuves / Gather the evidence",
            """
- Dans le dossier de preuves : messages représentatifs, photos, numéros de lot, vidéos
  les plus vues avec leur audience.
- Demander au service client le nombre de réclamations et de retours des derniers jours.
""",
            """
- Into the evidence locker: representative posts, photos, batch numbers, the most-viewed
  videos with their audience.
- Ask customer service for the number of complaints and returns over the last days.
""",
        ),
        step(
            Role.SPOKESPERSON,
            30,
            "Publier la déclaration d'attente / Publish the holding statement",
            """
- Sur chaque plateforme où arrivent les plaintes, épinglée.
- Nous avons vu, nous vérifions, voici quoi faire en attendant, prochain point à telle
  heure. Ne pas annoncer de cause ni de solution avant de les connaître.
- En sévérité critique, l'objectif de première réponse est de 15 minutes.
""",
            """
- On every platform where complaints arrive, pinned.
- We have seen it, we are checking, here is what to do meanwhile, next update at a given
  time. Do not announce a cause or a remedy before we know them.
- At critical severity the first-response target is 15 minutes.
""",
        ),
        step(
            Role.LEAD,
            45,
            "Établir les faits avec la qualité et le service client / "
            "Get the facts from quality and customer service",
            """
- Ce que nous savons, ce que nous ne savons pas encore, et quand nous le saurons.
- Depuis quand, combien d'unités, ce que les clients doivent faire dès maintenant.
- Une seule version des faits, partagée par écrit avec toute la cellule.
""",
            """
- What we know, what we do not know yet, and when we will.
- Since when, how many units, what customers should do right now.
- One version of the facts, shared in writing with the whole cell.
""",
        ),
        step(
            Role.DRAFTER,
            60,
            "Répondre aux clients un par un / Answer customers one by one",
            """
- Chaque client mécontent reçoit une réponse personnelle ; numéro de commande et
  coordonnées uniquement en message privé.
- Hater : une réponse calme, factuelle, une seule. Troll : pas de réponse (voir la note
  interne).
- Les mêmes faits que dans nos déclarations, mot pour mot si besoin.
- Noter les questions qui reviennent : elles feront la page de questions-réponses.
""",
            """
- Every unhappy customer gets a personal reply; order numbers and contact details only in
  private messages.
- Hater: one calm, factual reply, only one. Troll: no reply (see the internal briefing).
- The same facts as in our statements, word for word if needed.
- Log recurring questions: they will make the questions-and-answers page.
""",
        ),
        step(
            Role.LEAD,
            90,
            "Informer service client et ambassadeurs / Brief customer service and ambassadors",
            """
- Service client et boutiques : les faits, la déclaration, quoi répondre, à qui passer la
  main. Ils doivent dire la même chose que nous.
- Ambassadeurs : écrire personnellement aux plus actifs, avec les faits et le lien. Pas de
  texte à publier. Les remercier s'ils prennent notre défense.
""",
            """
- Customer service and shops: the facts, the statement, what to answer, who to hand over
  to. They must say what we say.
- Ambassadors: write personally to the most active ones, with the facts and the link. No
  text to post. Thank them if they stand up for us.
""",
        ),
        step(
            Role.APPROVER,
            120,
            "Revue juridique et assureur / Legal and insurer review",
            """
- Dès qu'une blessure est signalée, qu'un défaut est confirmé ou qu'un rappel est
  envisagé : prévenir l'assureur dans les délais du contrat.
- Relire la formulation des excuses et les conditions de remboursement, d'échange ou de
  rappel, et les obligations d'information des autorités s'il y a un risque.
""",
            """
- As soon as an injury is reported, a defect is confirmed or a recall is considered:
  notify the insurer within the policy's deadline.
- Review the wording of the apology and the terms of refund, exchange or recall, and any
  duty to inform the authorities if there is a risk.
""",
        ),
        step(Role.DRAFTER, EVERY_UPDATE, *REGULAR_UPDATE, repeat_minutes=EVERY_UPDATE),
        step(
            Role.SPOKESPERSON,
            6 * 60,
            "Publier les excuses et la solution / Publish the apology and the remedy",
            """
- Quand la cause et la solution sont décidées : excuses signées, ce que nous savons, ce
  que nous faisons, ce que le client doit faire, avec des délais réalistes.
- Ouvrir une page d'information (centre de crise) avec les questions-réponses, et y
  renvoyer toutes les réponses individuelles.
""",
            """
- Once the cause and the remedy are decided: a signed apology, what we know, what we are
  doing, what customers should do, with realistic time frames.
- Open an information page (crisis centre) with questions and answers, and point every
  individual reply to it.
""",
        ),
        step(Role.LEAD, 7 * 24 * 60, *POST_MORTEM),
    ],
    "templates": [
        template(
            StatementKind.HOLDING,
            Channel.X,
            ("Déclaration d'attente (X)", "Holding statement (X)"),
            "Nous avons vu vos messages au sujet de [produit]. Nous lisons chaque "
            "signalement et vérifions avec notre équipe qualité. Par précaution, "
            "n'utilisez pas un produit endommagé. Prochain point ici : {{ next_update_at }}. "
            "— {{ brand }}",
            "We have seen your messages about [product]. We are reading every report and "
            "checking with our quality team. To be safe, please do not use a damaged "
            "product. Next update here: {{ next_update_at }}. — {{ brand }}",
        ),
        template(
            StatementKind.APOLOGY,
            Channel.FACEBOOK,
            ("Excuses et solution (Facebook)", "Apology and remedy (Facebook)"),
            """
À toutes les personnes qui ont acheté [produit] :

Vous avez été nombreux à nous signaler [le problème]. Vous aviez raison, et nous vous
présentons nos excuses : ce n'est pas la qualité que vous attendez de {{ brand }}.

Ce que nous savons : [la cause identifiée, les lots concernés, comment vérifier le vôtre].

Ce que nous faisons : [remboursement, échange ou rappel, avec des délais que nous tiendrons].

Ce que vous pouvez faire : [une démarche simple, le lien vers la page d'information, le
numéro du service client].

Nous lisons tous vos commentaires et messages. Si votre situation n'est pas réglée,
écrivez-nous en message privé avec votre numéro de commande.

[Prénom Nom], [fonction]
""",
            """
To everyone who bought [product]:

Many of you told us about [the problem]. You were right, and we apologise: this is not the
quality you expect from {{ brand }}.

What we know: [the cause we found, the batches concerned, how to check yours].

What we are doing: [refund, exchange or recall, with time frames we will keep].

What you can do: [one simple step, the link to the information page, the customer service
number].

We read all your comments and messages. If your case is not settled, send us a private
message with your order number.

[First name Last name], [job title]
""",
        ),
        template(
            StatementKind.UPDATE,
            Channel.X,
            ("Point de situation (X)", "Update (X)"),
            "Point sur [produit] : [ce qui est nouveau depuis notre dernier message]. Les "
            "réponses à vos questions sont ici : [lien]. Prochain point : {{ next_update_at }}. "
            "— {{ brand }}",
            "Update on [product]: [what is new since our last message]. Answers to your "
            "questions are here: [link]. Next update: {{ next_update_at }}. — {{ brand }}",
        ),
        template(
            StatementKind.UPDATE,
            Channel.CRISIS_CENTER,
            ("Page d'information (centre de crise)", "Information page (crisis centre)"),
            """
[Produit] : ce que vous devez savoir

Mis à jour le [date et heure]. Prochaine mise à jour : {{ next_update_at }}.

Que se passe-t-il ?

[Les faits, tels que nous les connaissons aujourd'hui.]

Mon produit est-il concerné ?

[Comment le vérifier : référence, numéro de lot, date d'achat.]

Que dois-je faire ?

[Les consignes de sécurité, puis la démarche de remboursement, d'échange ou de retour.]

Qui peut m'aider ?

Notre service client : [téléphone, horaires, adresse e-mail]. Vous pouvez aussi nous écrire
en message privé sur nos réseaux sociaux.

Ce qui a changé depuis la dernière mise à jour
- [date] : [ce qui a changé]

{{ brand }}
""",
            """
[Product]: what you need to know

Updated on [date and time]. Next update: {{ next_update_at }}.

What is happening?

[The facts, as we know them today.]

Is my product concerned?

[How to check: model, batch number, purchase date.]

What should I do?

[Safety advice first, then how to get a refund, an exchange or a return.]

Who can help me?

Our customer service: [phone, opening hours, email address]. You can also send us a private
message on our social media accounts.

What changed since the last update
- [date]: [what changed]

{{ brand }}
""",
        ),
        template(
            StatementKind.REPLY,
            Channel.X,
            ("Réponse à un client mécontent (X)", "Reply to an unhappy customer (X)"),
            "Bonjour, nous sommes désolés pour ce problème et merci de nous l'avoir signalé. "
            "Pouvez-vous nous écrire en message privé avec votre numéro de commande ? Nous "
            "regarderons votre situation personnellement. — [votre prénom]",
            "Hello, we are sorry about this and thank you for telling us. Could you send us "
            "a private message with your order number? We will look into your case "
            "personally. — [your first name]",
        ),
        template(
            StatementKind.REPLY,
            Channel.FACEBOOK,
            ("Réponse calme à un hater (Facebook)", "Calm reply to a hater (Facebook)"),
            """
Bonjour, nous comprenons votre colère. Voici les faits tels que nous les connaissons
aujourd'hui : [faits vérifiés, sans adjectif]. Ce que nous faisons : [action en cours].
Tout est détaillé ici : [lien]. Si vous avez vous-même rencontré ce problème, écrivez-nous
en message privé et nous nous en occuperons. — [votre prénom]
""",
            """
Hello, we understand your anger. Here are the facts as we know them today: [checked facts,
no adjectives]. What we are doing: [action under way]. Everything is explained here: [link].
If you have had this problem yourself, send us a private message and we will take care of
it. — [your first name]
""",
        ),
        troll_briefing(
            "Une vague de réclamations vise [produit]. Nos priorités : la sécurité des "
            "clients, puis une réponse à chaque client concerné.",
            "A wave of complaints targets [product]. Our priorities: customer safety, then a "
            "reply to every customer concerned.",
        ),
    ],
    "contacts": [
        *COMMITTEE,
        CUSTOMER_SERVICE,
        QUALITY_MANAGER,
        INSURER,
        LAW_FIRM,
        REVIEWER,
        HOME_COOK,
        FORUM_MODERATOR,
    ],
}


# --- 3. Rumour, fake news and defamation ------------------------------------------------------

RUMOUR_PLAYBOOK = {
    "name": RUMOUR,
    "description": bilingual(
        "Une fausse information, un faux document ou des accusations circulent sur la marque "
        "ou ses équipes. On capture les preuves avant qu'elles disparaissent, on établit les "
        "faits, on les dit simplement, preuves à l'appui, et le service juridique décide "
        "vite des suites : le délai pour agir en diffamation est court.",
        "False information, a forged document or accusations about the brand or its people "
        "are spreading. Capture the evidence before it disappears, establish the facts, say "
        "them simply with proof, and let legal decide quickly what to do: the time limit to "
        "act for defamation is short.",
    ),
    "categories": [Category.RUMOUR],
    "min_severity": Severity.LOW,
    "max_severity": Severity.CRITICAL,
    "policies": {
        Severity.LOW: ONE_APPROVER,
        Severity.MODERATE: LEGAL_THEN_COMMUNICATIONS,
        Severity.HIGH: LEGAL_THEN_COMMUNICATIONS,
        Severity.CRITICAL: LEGAL_THEN_COMMUNICATIONS,
    },
    "steps": [
        step(
            Role.LEAD,
            15,
            "Trouver la source et les relais / Find the source and the relays",
            """
- Quelle est l'affirmation exacte ? Où est apparu le premier message, qui l'a relayé, avec
  quelle audience ?
- Une partie est-elle vraie ? Ne jamais démentir en bloc ce qui est en partie exact.
- Une rumeur qui reste confidentielle peut être amplifiée par un démenti public : dans ce
  cas, répondre seulement aux personnes qui la relaient et garder la déclaration prête.
""",
            """
- What exactly is claimed? Where did the first post appear, who shared it, with what
  audience?
- Is any part of it true? Never deny outright what is partly true.
- A rumour that stays small can be amplified by a public denial: then answer only the
  people sharing it, and keep the statement ready.
""",
        ),
        step(
            Role.DRAFTER,
            20,
            "Capturer les preuves avant qu'elles disparaissent / "
            "Capture the evidence before it disappears",
            """
- Pour chaque publication : capture, adresse, date et heure, compte auteur, nombre
  d'abonnés, ancienneté et description du compte. Les auteurs ferment souvent leur
  compte et nient ensuite.
- Tout va dans le dossier de preuves : c'est lui qui servira devant un juge ou une
  plateforme.
""",
            """
- For every post: a capture, the address, date and time, the author's account, follower
  count, account age and bio. Authors often close their account and deny it afterwards.
- Everything goes into the evidence locker: that is what a judge or a platform will see.
""",
        ),
        step(
            Role.SPOKESPERSON,
            30,
            "Publier la déclaration d'attente / Publish the holding statement",
            """
- Si la rumeur se répand : nous avons vu, nous vérifions, nous dirons clairement ce qui
  est vrai, prochain point à telle heure.
- Si les faits sont déjà établis, passer directement au démenti factuel.
- En sévérité critique, l'objectif de première réponse est de 15 minutes.
""",
            """
- If the rumour is spreading: we have seen it, we are checking, we will say clearly what
  is true, next update at a given time.
- If the facts are already established, go straight to the factual correction.
- At critical severity the first-response target is 15 minutes.
""",
        ),
        step(
            Role.LEAD,
            45,
            "Établir les faits en interne / Establish the facts internally",
            """
- Qui peut confirmer ce qui est vrai (direction, RH, site concerné) ? Quelle preuve
  pouvons-nous montrer (document, chiffre, déclaration signée) ?
- Ce que nous ne pouvons pas dire, et pourquoi.
""",
            """
- Who can confirm what is true (management, HR, the site concerned)? What proof can we
  show (a document, a figure, a signed statement)?
- What we cannot say, and why.
""",
        ),
        step(
            Role.LEAD,
            75,
            "Informer les salariés, leurs représentants et les ambassadeurs / "
            "Brief employees, their representatives and the ambassadors",
            """
- Les salariés doivent apprendre la vérité par nous, pas par un réseau social :
  message interne, puis représentants du personnel.
- Ambassadeurs : les faits et les preuves, jamais un texte à publier ni une demande de
  démentir à notre place.
""",
            """
- Employees must hear the truth from us, not from social media: an internal message,
  then staff representatives.
- Ambassadors: the facts and the proof, never a text to post nor a request to deny on our
  behalf.
""",
        ),
        step(
            Role.APPROVER,
            90,
            "Revue juridique : diffamation, signalements / Legal review: defamation, reports",
            """
- Qualifier : diffamation (un fait précis qui porte atteinte à l'honneur), injure, faux
  document, fausse information. Avec le cabinet d'avocats si besoin.
- En France, l'action en diffamation se prescrit par trois mois à compter de la
  publication : décider tôt s'il faut agir.
- Signaler les contenus illicites aux plateformes par leurs formulaires, preuves jointes.
- Pas de menace de poursuites en public dans l'urgence.
""",
            """
- Qualify it: defamation (a specific allegation harming reputation), insult, forged
  document, false information. With the law firm if needed.
- In France, a defamation claim lapses three months after publication: decide early
  whether to act.
- Report illegal content to the platforms through their forms, with the evidence attached.
- No public threats of legal action in the heat of the moment.
""",
        ),
        step(
            Role.SPOKESPERSON,
            120,
            "Publier le démenti factuel / Publish the factual correction",
            """
- Commencer par le fait exact, pas par la rumeur ; ne la citer qu'une fois, sans la
  reprendre dans le titre.
- Une preuve que chacun peut vérifier vaut mieux que des adjectifs.
- Sur les plateformes où la rumeur circule, et là où nos salariés nous lisent.
""",
            """
- Start with the true fact, not with the rumour; mention the rumour once, never in the
  headline.
- One piece of proof anyone can check is worth more than adjectives.
- On the platforms where the rumour spreads, and where our employees read us.
""",
        ),
        step(Role.DRAFTER, EVERY_UPDATE, *REGULAR_UPDATE, repeat_minutes=EVERY_UPDATE),
        step(
            Role.LEAD,
            48 * 60,
            "Surveiller les résurgences, remercier / Watch for resurgence, thank supporters",
            """
- Les rumeurs reviennent : garder une veille sur les mots-clés et les comptes relais,
  avec le démenti prêt à être republié.
- Remercier les salariés, clients et ambassadeurs qui ont rétabli les faits.
""",
            """
- Rumours come back: keep watching the keywords and relay accounts, with the correction
  ready to post again.
- Thank the employees, customers and ambassadors who set the record straight.
""",
        ),
        step(Role.LEAD, 7 * 24 * 60, *POST_MORTEM),
    ],
    "templates": [
        template(
            StatementKind.HOLDING,
            Channel.X,
            ("Déclaration d'attente (X)", "Holding statement (X)"),
            "Vous êtes nombreux à nous interroger sur une information qui circule à propos "
            "de {{ brand }}. Nous vérifions et vous dirons ici, clairement, ce qui est vrai "
            "et ce qui ne l'est pas. Prochain point : {{ next_update_at }}.",
            "Many of you have asked us about a claim concerning {{ brand }} that is going "
            "around. We are checking, and will tell you here, clearly, what is true and what "
            "is not. Next update: {{ next_update_at }}.",
        ),
        template(
            StatementKind.UPDATE,
            Channel.LINKEDIN,
            ("Démenti factuel (LinkedIn)", "Factual correction (LinkedIn)"),
            """
[Le fait exact, en une phrase. Par exemple : aucune fermeture de site n'est prévue.]

Un [document / message / vidéo] attribué à {{ brand }} circule depuis [date] : il est faux.
[La preuve que chacun peut vérifier.]

Ce qui est vrai : [les faits et les chiffres, avec leur source].

Vos questions sont les bienvenues, ici ou en message privé.

{{ brand }}
""",
            """
[The true fact, in one sentence. For example: no site is going to close.]

A [document / message / video] attributed to {{ brand }} has been circulating since
[date]: it is false. [The proof anyone can check.]

What is true: [the facts and figures, with their source].

Your questions are welcome, here or in a private message.

{{ brand }}
""",
        ),
        template(
            StatementKind.REPLY,
            Channel.X,
            ("Réponse à une personne inquiète (X)", "Reply to a worried customer (X)"),
            "Bonjour, nous comprenons votre inquiétude et merci de nous avoir posé la "
            "question. [Le fait exact, en une phrase.] Tous les détails sont ici : [lien]. "
            "N'hésitez pas si vous avez d'autres questions. — [votre prénom]",
            "Hello, we understand your concern, and thank you for asking us. [The true fact, "
            "in one sentence.] All the details are here: [link]. Do ask if you have any other "
            "questions. — [your first name]",
        ),
        template(
            StatementKind.REPLY,
            Channel.X,
            ("Réponse calme à un hater (X)", "Calm reply to a hater (X)"),
            "Bonjour, cette information est fausse. [Le fait exact et sa preuve, en une "
            "phrase.] Nos explications complètes sont ici : [lien]. Nous restons disponibles "
            "pour en parler. — [votre prénom]",
            "Hello, this information is not true. [The true fact and its proof, in one "
            "sentence.] Our full explanation is here: [link]. We are here if you want to talk "
            "about it. — [your first name]",
        ),
        troll_briefing(
            "Une fausse information circule à notre sujet. La plupart des personnes qui la "
            "relaient sont de bonne foi : on leur répond avec le fait exact. Les comptes "
            "anonymes ou créés pour l'occasion, et les messages identiques publiés en série, "
            "sont capturés et signalés au service juridique, sans réponse.",
            "False information about us is going around. Most people sharing it do so in "
            "good faith: answer them with the true fact. Anonymous or newly created accounts, "
            "and identical messages posted in series, are captured and reported to legal, "
            "without a reply.",
        ),
    ],
    "contacts": [
        *COMMITTEE,
        HR_DIRECTOR,
        STAFF_REPRESENTATIVES,
        LAW_FIRM,
        CUSTOMER_SERVICE,
        EMPLOYEE_AMBASSADOR,
        FORUM_MODERATOR,
        HOME_COOK,
    ],
}

DEFAULT_PLAYBOOKS = [INAPPROPRIATE_POST_PLAYBOOK, PRODUCT_DEFECT_PLAYBOOK, RUMOUR_PLAYBOOK]


# --- Creation ---------------------------------------------------------------------------------


def ensure_default_playbooks(today: date | None = None) -> list[Playbook]:
    """Create the default playbooks that do not exist yet and return those it created.

    A playbook is matched by name only: when one of that name exists, it is left exactly as
    it is, whatever an editor changed in it. Approval policies are looked up by name and
    created only when missing (never modified).
    """
    today = today or timezone.localdate()
    created = []
    with transaction.atomic():
        policies: dict[str, ApprovalPolicy] = {}
        for spec in DEFAULT_PLAYBOOKS:
            if Playbook.objects.filter(name=spec["name"]).exists():
                continue
            try:
                with transaction.atomic():  # a concurrent run may create it first
                    created.append(_create_playbook(spec, today, policies))
            except IntegrityError:
                if not Playbook.objects.filter(name=spec["name"]).exists():
                    raise
    return created


def _policy(name: str, cache: dict[str, ApprovalPolicy]) -> ApprovalPolicy:
    if name not in cache:
        spec = POLICIES[name]
        policy, created = ApprovalPolicy.objects.get_or_create(
            name=name,
            defaults={
                "description": spec["description"],
                "mode": ApprovalPolicy.Mode.ALL,
                # As migration 0002 does: the stock policy is the default if none is.
                "is_default": name == ONE_APPROVER
                and not ApprovalPolicy.objects.filter(is_default=True).exists(),
            },
        )
        if created:
            ApprovalRequirement.objects.bulk_create(
                ApprovalRequirement(policy=policy, step=step_number, function=function)
                for step_number, function in spec["requirements"]
            )
        cache[name] = policy
    return cache[name]


def _create_playbook(spec: dict, today: date, policies: dict) -> Playbook:
    playbook = Playbook.objects.create(
        name=spec["name"],
        description=spec["description"],
        categories=[str(category) for category in spec["categories"]],
        min_severity=spec["min_severity"],
        max_severity=spec["max_severity"],
        brand=BRAND,
        version=1,
        last_reviewed_on=today,
        is_active=True,
    )
    PlaybookStep.objects.bulk_create(
        PlaybookStep(playbook=playbook, order=order, **fields)
        for order, fields in enumerate(spec["steps"], start=1)
    )
    templates = []
    for pair in spec["templates"]:
        for language, name, text in zip(("fr", "en"), pair["names"], pair["texts"], strict=True):
            templates.append(
                StatementTemplate(
                    playbook=playbook,
                    order=len(templates) + 1,
                    name=name,
                    kind=pair["kind"],
                    channel=pair["channel"],
                    language=language,
                    text=text,
                )
            )
    StatementTemplate.objects.bulk_create(templates)
    PlaybookPolicy.objects.bulk_create(
        PlaybookPolicy(playbook=playbook, severity=severity, policy=_policy(name, policies))
        for severity, name in spec["policies"].items()
    )
    Contact.objects.bulk_create(
        Contact(playbook=playbook, order=order, **fields)
        for order, fields in enumerate(spec["contacts"], start=1)
    )
    return playbook
