"""Demo data: one account per role, the default playbooks, and three incidents replayed
through the real actions, so their timelines are hash-chained exactly like live ones. Safe to
run twice.

The accounts carry the e-mails of the default playbooks' crisis committee (their "contacts"
of kind committee), which is how a roster entry finds its account: declaring an incident
from a playbook, the lead can "Staff from the roster" in one step and play the whole golden
hour with these accounts (docs/benchmarks.md, "Golden hour")."""

import io
import textwrap
from contextlib import contextmanager
from datetime import timedelta
from unittest import mock

from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand
from django.db import transaction
from django.db.models import Q
from django.test.utils import override_settings
from django.utils import timezone
from PIL import Image, ImageDraw, ImageFont

from demo import crisiscenter as demo_crisis
from demo import listening as demo_listening
from demo import postmortem as demo_postmortem
from demo import replies as demo_replies
from demo.french import typeset
from incidents import actions
from incidents.evidence import actions as evidence_actions
from incidents.models import Incident
from incidents.playbooks import actions as playbook_actions
from incidents.playbooks.choices import CompletesOn, TaskStatus
from incidents.playbooks.defaults import ensure_default_playbooks
from incidents.playbooks.models import Task
from incidents.playbooks.selectors import playbooks_for
from statements import actions as statement_actions

User = get_user_model()
DEMO_PASSWORD = "crisis-demo"

USERS = [
    # username, first, last, e-mail, staff, what they do in the demo. The committee's e-mails
    # are those of the default playbooks' roster (default_playbooks/*.json).
    ("lead", "Camille", "Laurent", "camille.laurent@example.com", False,
     "crisis lead of the demo incidents"),
    ("drafter", "Sam", "Moreau", "sam.moreau@example.com", False, "drafter (community manager)"),
    ("approver", "Inès", "Bernard", "ines.bernard@example.com", False, "approver (legal)"),
    ("comms", "David", "Keller", "david.keller@example.com", False,
     "approver (communications director)"),
    ("spokesperson", "Léa", "Martin", "lea.martin@example.com", False, "spokesperson"),
    ("ceo", "Paul", "Durand", "paul.durand@example.com", False,
     "approver (executive), in the roster only"),
    ("observer", "Hugo", "Petit", "hugo.petit@example.com", False, "observer (read-only)"),
    ("admin", "Alex", "Admin", "alex.admin@example.com", True,
     "staff + superuser: every incident, admin panel"),
]  # fmt: skip

CELL = [("drafter", "drafter", ""), ("approver", "approver", "legal"),
        ("comms", "approver", "communications"), ("spokesperson", "spokesperson", ""),
        ("observer", "observer", "")]  # fmt: skip

SCENARIOS = [
    {
        "title": "Post insensible publié sur le compte Instagram de la marque",
        "summary": (
            "Un membre de l'équipe a publié depuis le compte officiel une blague sur les "
            "inondations du Sud-Ouest, pensant être sur son compte personnel. Le post a été "
            "capturé et partagé des centaines de fois avant sa suppression."
        ),
        "category": "public_statement",
        "origin": "online",
        "platforms": ["instagram", "x", "press"],
        "severity": 3,
        "started_minutes_ago": 25,
        "steps": [
            ("status", "active", 1),
            ("entry", "key_event", "Capture du post original retrouvée et archivée.", 3),
            (
                "evidence",
                {
                    "kind": "post",
                    "platform": "instagram",
                    "author_handle": "@notre_marque",
                    "author_name": "Notre Marque (compte officiel)",
                    "description": "Capture du post publié par erreur, retrouvée chez un internaute.",
                    "text": "Au moins avec les inondations, plus besoin d'arroser !",
                },
                4,
            ),
            (
                "evidence",
                {
                    "kind": "post",
                    "platform": "x",
                    "author_handle": "@satire_du_jour",
                    "author_name": "La Satire du Jour",
                    "author_followers": 210_000,
                    "author_facts": "Compte parodique créé en 2019, bio : « on rit de tout ».",
                    "description": "Relais de la capture avec moquerie ; 1 400 partages en 10 min.",
                    "text": "Quand le community manager confond son compte perso et la marque...",
                },
                8,
            ),
            (
                "entry",
                "amplification",
                "Un compte satirique (210 k abonnés) relaie la capture : 1 400 partages en 10 minutes.",
                8,
            ),
            (
                "entry",
                "public_reaction",
                "Majorité de messages indignés ; plusieurs clients annoncent se désabonner.",
                12,
            ),
            (
                "entry",
                "decision",
                "Ne pas supprimer les commentaires négatifs. Reconnaître l'erreur dans l'heure.",
                15,
            ),
            (
                "entry",
                "press_contact",
                "Une journaliste d'un quotidien régional demande une réaction d'ici 18 h.",
                20,
            ),
            (
                "statement",
                "holding",
                "instagram",
                "fr",
                "in_review",
                "Nous avons vu le message publié sur notre compte et nous en sommes profondément "
                "désolés. Il ne reflète en rien nos valeurs. Nous revenons vers vous très vite.",
                21,
            ),
        ],
    },
    {
        "title": "Complaint wave: kettle lids cracking after a few uses",
        "summary": (
            "Since Monday, customers post photos of cracked lids on our KX-200 kettle. "
            "A consumer YouTuber's video has passed 300k views; forum threads mention burns."
        ),
        "category": "product",
        "origin": "online",
        "platforms": ["youtube", "facebook", "forum", "x"],
        "severity": 3,
        "started_minutes_ago": 60 * 30,
        "steps": [
            ("status", "active", 5),
            (
                "statement",
                "holding",
                "x",
                "en",
                "published",
                "We've seen your reports about KX-200 kettle lids. We're looking into it now and "
                "will update you here within the hour. Please stop using a cracked kettle.",
                25,
            ),
            (
                "entry",
                "amplification",
                "YouTube review 'Don't buy the KX-200' trending in the home category.",
                40,
            ),
            (
                "entry",
                "public_reaction",
                "About 60% of replies are angry, 30% ask about refunds, 10% defend the brand.",
                90,
            ),
            (
                "entry",
                "supporter",
                "Two long-time ambassadors share their own positive experience and link to support.",
                180,
            ),
            ("severity", 4, 200),
            (
                "entry",
                "decision",
                "Quality team confirms a batch defect; prepare a voluntary recall.",
                600,
            ),
            ("status", "monitoring", 1300),
            ("entry", "note", "Volume of mentions down 70% since the recall page went live.", 1500),
        ],
    },
    {
        "title": "Rumeur : « les usines vont fermer » / Rumour: plants closing",
        "summary": (
            "A fake internal memo claiming both French plants will close spread on TikTok "
            "and LinkedIn. Un faux mémo interne circule ; les syndicats demandent des explications."
        ),
        "category": "rumour",
        "origin": "online",
        "platforms": ["tiktok", "linkedin"],
        "severity": 2,
        "started_minutes_ago": 60 * 24 * 6,
        "steps": [
            ("status", "active", 10),
            # Severity 2: no freeze by default; the lead sets one as the memo spreads.
            ("freeze", True, 12),
            (
                "entry",
                "key_event",
                "Le mémo est un faux : mise en page et signataire inexistants.",
                45,
            ),
            ("crisis_prepare", 20),
            ("crisis_live", 40),
            (
                "statement",
                "update",
                "linkedin",
                "fr",
                "published",
                "Un document présenté comme un mémo interne circule : il est faux. Aucune "
                "fermeture de site n’est prévue. Nos équipes restent à votre écoute.",
                50,
            ),
            *[("crisis_update", language, text, at) for at, language, text in demo_crisis.UPDATES],
            (
                "entry",
                "supporter",
                "Employees post on LinkedIn that the memo is fake, with #WeAreStaying.",
                240,
            ),
            ("status", "monitoring", 600),
            ("crisis_resolve", 60 * 12 + 40),  # after its final update
            ("status", "resolved", 60 * 48),
            ("freeze", False, 60 * 48 + 90),  # reminded at the resolution: lifted
            (
                "entry",
                "note",
                "Retour d'expérience : la veille n'avait pas TikTok dans son périmètre.",
                60 * 50,
            ),
        ],
    },
]
SCENARIOS = typeset(SCENARIOS)  # French typography (demo/french.py)


def demo_post_image(name: str, handle: str, text: str) -> bytes:
    """A plausible screenshot of a social post, drawn here so the demo needs no files."""
    image = Image.new("RGB", (720, 300), "white")
    draw = ImageDraw.Draw(image)
    draw.ellipse((24, 24, 88, 88), fill="#c9d3e0")
    draw.text((104, 30), name, fill="#111", font=ImageFont.load_default(size=24))
    draw.text((104, 62), handle, fill="#667", font=ImageFont.load_default(size=18))
    body = ImageFont.load_default(size=22)
    draw.multiline_text((24, 120), textwrap.fill(text, 55), fill="#111", font=body, spacing=8)
    draw.text(
        (24, 250),
        "1,2 k j'aime · 1 400 partages · 380 commentaires",
        fill="#667",
        font=ImageFont.load_default(size=18),
    )
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


@contextmanager
def clock_at(moment):
    """Replay a scenario at its own time so timestamps look like a real crisis."""
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield


class Command(BaseCommand):
    help = (
        "Create demo accounts (one per role), the default playbooks and three example "
        "incidents. Idempotent."
    )

    def handle(self, *args, **options):
        users = self._users()
        playbooks = ensure_default_playbooks()
        self.stdout.write(f"Default playbooks ready ({len(playbooks)} created).")
        dark_sites = demo_crisis.ensure_templates()
        self.stdout.write(f"Crisis page templates ready ({dark_sites} playbook(s)).")
        created = 0
        for scenario in SCENARIOS:
            # A demo loaded before its texts were typeset has the title with plain spaces.
            plain = scenario["title"].replace("\u00a0", " ").replace("\u202f", " ")
            if Incident.objects.filter(title__in={scenario["title"], plain}).exists():
                continue
            # Reviewer emails of the replayed history would flood the console of `make run`.
            quiet = override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend")
            with quiet, transaction.atomic():
                self._replay(scenario, users)
            created += 1
        kettle = Incident.objects.filter(title__startswith="Complaint wave: kettle lids").first()
        stored = demo_listening.load(users, kettle)
        self.stdout.write(f"Listening demo ready ({stored} mention(s) stored).")
        triaged = demo_replies.load(users, kettle)
        self.stdout.write(f"Reply queue demo ready ({triaged} mention(s) triaged).")
        rumour = Incident.objects.filter(
            Q(title__startswith=typeset("Rumeur : « les usines"))
            | Q(title__startswith="Rumeur : « les usines")
        ).first()
        if rumour is not None:
            self.stdout.write("Crisis center demo ready (an archive): /crisis/rumeur-usines/")
        if demo_postmortem.load(users, rumour):
            self.stdout.write("Post-mortem demo ready (the rumour incident's, signed off).")
        self.stdout.write(self.style.SUCCESS(f"Demo data ready ({created} incident(s) created)."))
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD}):")
        for username, first, last, _email, _staff, role in USERS:
            self.stdout.write(f"  {username:<13} {first} {last} — {role}")
        self.stdout.write(
            "Try the golden hour: as lead, declare a product incident at severity 3 from the "
            'product-defect playbook, then "Staff from the roster" in the crisis cell panel.'
        )

    def _users(self) -> dict:
        users = {}
        for username, first, last, email, staff, _role in USERS:
            user, _ = User.objects.get_or_create(username=username)
            user.first_name, user.last_name = first, last
            user.email = email
            user.is_staff = user.is_superuser = staff
            user.set_password(DEMO_PASSWORD)
            user.save()
            users[username] = user
        return users

    def _replay(self, scenario: dict, users: dict) -> None:
        start = timezone.now() - timedelta(minutes=scenario["started_minutes_ago"])
        lead = users["lead"]
        with clock_at(start):
            incident = actions.incident_declare(
                actor=lead,
                title=scenario["title"],
                summary=scenario["summary"],
                category=scenario["category"],
                origin=scenario["origin"],
                platforms=scenario["platforms"],
                severity=scenario["severity"],
                detected_at=start - timedelta(minutes=20),
            )
            for username, role, function in CELL:
                actions.member_add(
                    incident=incident,
                    actor=lead,
                    user=users[username],
                    role=role,
                    function=function,
                )
            playbook = next(iter(playbooks_for(incident.category, incident.severity)), None)
            if playbook is not None:
                playbook_actions.playbook_apply(incident=incident, actor=lead, playbook=playbook)
        self._work_tasks(incident, users, until=timezone.now() - timedelta(minutes=3))
        authors = [users["drafter"], users["approver"], users["lead"], users["spokesperson"]]
        # In the order they happened: the crisis page's updates are listed apart.
        steps = sorted(scenario["steps"], key=lambda step: step[-1])
        for index, step in enumerate(steps):
            at = start + timedelta(minutes=step[-1])
            with clock_at(at):
                if step[0] == "statement":
                    self._statement(incident, users, *step[1:-1])
                elif step[0] == "crisis_prepare":
                    demo_crisis.prepare(incident, users)
                elif step[0] == "crisis_live":
                    demo_crisis.approve_and_go_live(incident, users)
                elif step[0] == "crisis_resolve":
                    demo_crisis.resolve(incident, users)
                elif step[0] == "crisis_update":
                    demo_crisis.publish_update(incident, users, *step[1:-1])
                elif step[0] == "status":
                    actions.incident_transition(incident=incident, actor=lead, status=step[1])
                elif step[0] == "evidence":
                    self._evidence(incident, users["drafter"], dict(step[1]))
                elif step[0] == "severity":
                    actions.incident_set_severity(incident=incident, actor=lead, severity=step[1])
                elif step[0] == "freeze":
                    actions.incident_set_promotion_freeze(
                        incident=incident, actor=lead, frozen=step[1]
                    )
                else:
                    actions.timeline_add_entry(
                        incident=incident,
                        actor=authors[index % len(authors)],
                        kind=step[1],
                        text=step[2],
                    )

    def _evidence(self, incident, actor, facts):
        text = facts.pop("text")
        image = demo_post_image(facts["author_name"], facts["author_handle"], text)
        evidence_actions.evidence_attach(
            incident=incident,
            actor=actor,
            files=[SimpleUploadedFile("capture.png", image, content_type="image/png")],
            metadata={**facts, "source_url": f"https://example.com/{facts['platform']}/post/1"},
        )

    def _work_tasks(self, incident, users, until):
        """Tick off the checklist's tasks that were due before `until`, at their due time."""
        holders = {
            "lead": users["lead"],
            "drafter": users["drafter"],
            "approver": users["approver"],
            "spokesperson": users["spokesperson"],
        }
        # "Pause scheduled posts" completes itself when the promotion freeze is set (at the
        # declaration of the high-severity incidents, by a step of the scenario otherwise).
        tasks = Task.objects.filter(incident=incident, due_at__lte=until, status=TaskStatus.OPEN)
        for task in tasks.exclude(completes_on=CompletesOn.PROMOTION_FROZEN).order_by("due_at"):
            with clock_at(task.due_at - timedelta(minutes=2)):
                playbook_actions.task_complete(task=task, actor=holders[task.role])

    def _statement(self, incident, users, kind, channel, language, final_status, text):
        statement = statement_actions.statement_create(
            incident=incident,
            actor=users["drafter"],
            kind=kind,
            channel=channel,
            language=language,
            text=text,
        )
        if final_status == "in_review":
            statement_actions.statement_submit(statement=statement, actor=users["drafter"])
            return
        statement = demo_crisis.sign(statement, users)
        statement_actions.statement_publish(
            statement=statement,
            actor=users["spokesperson"],
            url=f"https://example.com/{channel}/posts/{statement.pk}",
        )
