"""The demo's post-mortem: on the resolved rumour incident ("the plants will close"), the
posts of the rumour and of its denial (our own wording, French and English, from a seeded
RNG: the same every run), attached through the listening action so the reaction chart has
something to show, then a post-mortem written by the lead with its lessons and three
action items (one done, one dropped with its reason, one open), signed off. Idempotent:
nothing is done when the incident already has a post-mortem."""

import random
from datetime import timedelta

from django.utils import timezone

from demo.french import typeset
from incidents.listening import actions as listening_actions
from incidents.listening.choices import Source
from incidents.listening.ingest import MentionData
from incidents.listening.models import Mention
from incidents.postmortems import actions
from incidents.postmortems.choices import Decision, PostmortemStatus
from incidents.postmortems.models import Postmortem

RUMOUR_FR = [
    "Les deux usines vont fermer, le mémo a fuité. Scandaleux, ils mentent aux salariés.",
    "Fermeture des usines : la direction cache tout, c'est honteux.",
    "Encore une boîte qui ferme en France en douce. Dégoûtant.",
    "Le mémo sur la fermeture des sites est partout sur TikTok, personne ne dément ?",
]
RUMOUR_FR = typeset(RUMOUR_FR)  # French typography (demo/french.py)
RUMOUR_EN = [
    "Leaked memo: both French plants closing. Shameful way to treat workers.",
    "They are closing the plants and lying about it. Disgusting.",
    "Is the plant closure memo real? Nobody from the company is answering.",
]
AFTER_FR = [
    "Bonne nouvelle, le mémo était un faux, merci pour la réponse rapide.",
    "Les salariés confirment : aucune fermeture. Merci pour la transparence.",
    "#OnReste : fiers de notre usine, le mémo était faux.",
    "Démenti clair de l'entreprise, tant mieux pour les équipes.",
]
AFTER_FR = typeset(AFTER_FR)  # French typography (demo/french.py)
AFTER_EN = [
    "Good to see a clear denial, the memo was fake. Thanks for the quick answer.",
    "Employees say no plant is closing. Glad it was just a fake.",
]
NAMES = ["lea", "marc", "sofia", "yanis", "claire", "tom", "ines", "paul", "nora", "hugo"]

SUMMARY = (
    "Un faux mémo interne annonçant la fermeture des deux usines françaises a circulé sur "
    "TikTok puis LinkedIn. Le démenti publié 50 minutes après la déclaration a fait "
    "retomber le volume dans l'heure ; les salariés ont relayé #OnReste.\n"
    "A fake internal memo announcing the closure of both French plants spread on TikTok, "
    "then LinkedIn. The denial, out 50 minutes after the declaration, brought the volume "
    "down within the hour; employees shared #WeAreStaying."
)
SUMMARY = typeset(SUMMARY)  # French typography (demo/french.py)
WENT_WELL = (
    "- Le faux a été établi vite (mise en page, signataire inexistant).\n"
    "- The denial was short, factual and approved on the first pass."
)
WENT_WELL = typeset(WENT_WELL)  # French typography (demo/french.py)
WENT_WRONG = (
    "- La veille ne couvrait pas TikTok : la rumeur y tournait depuis des heures.\n"
    "- The unions heard it from social media before hearing it from us."
)
WENT_WRONG = typeset(WENT_WRONG)  # French typography (demo/french.py)
LUCKY = "Des salariés ont démenti d'eux-mêmes avant notre message / Employees denied it first."
LUCKY = typeset(LUCKY)  # French typography (demo/french.py)
FACTORS = (
    "Pas de canal interne rapide vers les salariés ; TikTok hors du périmètre de veille.\n"
    "No fast internal channel to employees; TikTok outside the listening scope."
)
FACTORS = typeset(FACTORS)  # French typography (demo/french.py)


def _mentions(incident) -> list[MentionData]:
    rng = random.Random(17)
    start = incident.detected_at - timedelta(minutes=90)
    denial = incident.first_response_at or incident.declared_at + timedelta(minutes=50)
    posts = []
    for index in range(90):
        before = index < 55
        if before:
            when = start + timedelta(minutes=rng.uniform(0, (denial - start).total_seconds() / 60))
            french = rng.random() < 0.6
            texts = RUMOUR_FR if french else RUMOUR_EN
        else:
            when = denial + timedelta(minutes=rng.expovariate(1 / 120))
            french = rng.random() < 0.6
            texts = AFTER_FR if french else AFTER_EN
        name = rng.choice(NAMES)
        handle = f"{name}{rng.randint(1, 99)}"
        platform = rng.choice(["tiktok", "linkedin", "x"])
        posts.append(
            MentionData(
                platform=platform,
                external_id=f"demo-rumour-{index}",
                text=rng.choice(texts),
                posted_at=when,
                url=f"https://example.com/{platform}/{handle}/{index}",
                author_handle=f"@{handle}",
                author_name=name.capitalize(),
                author_followers=int(rng.paretovariate(1.2) * 120),
                language="fr" if french else "en",
            )
        )
    return posts


def load(users: dict, incident) -> bool:
    """Write and sign off the rumour incident's post-mortem (None: nothing). Returns whether it was
    written now."""
    if incident is None or Postmortem.objects.filter(incident=incident).exists():
        return False
    lead = type(users["lead"]).objects.get(pk=users["lead"].pk)  # fresh permission cache
    listening_actions.mentions_ingest(
        mentions=_mentions(incident), source=Source.IMPORT, actor=None
    )
    ids = list(
        Mention.objects.filter(
            external_id__startswith="demo-rumour-", incident__isnull=True
        ).values_list("pk", flat=True)[: listening_actions.MAX_ATTACH]
    )
    if ids:
        listening_actions.mentions_attach(mention_ids=ids, incident=incident, actor=lead)
    postmortem = actions.postmortem_create(incident=incident, actor=lead)
    actions.postmortem_write(
        postmortem=postmortem,
        actor=lead,
        base_version=postmortem.text_version,
        summary=SUMMARY,
        went_well=WENT_WELL,
        went_wrong=WENT_WRONG,
        lucky=LUCKY,
        factors=FACTORS,
    )
    today = timezone.localdate()
    done = actions.item_add(
        postmortem=postmortem,
        actor=lead,
        title="Ajouter TikTok à la veille / Add TikTok to the listening scope",
        owner=users["drafter"],
        due_date=today,
    )
    actions.item_update(item=done, actor=users["drafter"], base_version=done.version, status="done")
    dropped = actions.item_add(
        postmortem=postmortem,
        actor=lead,
        title="Faire valider chaque mémo par un tampon numérique / Stamp every internal memo",
        owner=users["comms"],
        due_date=today + timedelta(days=14),
    )
    actions.item_update(
        item=dropped,
        actor=lead,
        base_version=dropped.version,
        status="dropped",
        reason="Remplacé par le canal interne ci-dessous / Replaced by the internal channel.",
    )
    actions.item_add(
        postmortem=postmortem,
        actor=lead,
        title="Canal d'alerte interne vers tous les salariés / Internal alert channel to staff",
        owner=users["comms"],
        due_date=today + timedelta(days=30),
    )
    # Signed off under the incident's policy (legal, then communications where it asks):
    # the demo's first frozen version, with its figures.
    actions.postmortem_submit(postmortem=postmortem, actor=lead)
    for approver in (users["approver"], users["comms"]):
        postmortem.refresh_from_db()
        if postmortem.status == PostmortemStatus.SIGNED_OFF:
            break
        actions.postmortem_review(
            postmortem=postmortem,
            actor=approver,
            revision=postmortem.revision,
            decision=Decision.APPROVED,
        )
    return True
