"""The demo's listening data: a watch on the demo brand's kettle, four days of French and
English mentions (our own wording, from templates with a seeded RNG, so every run writes
the same posts and a second run stores nothing), the complaint wave's spike, the signal it
opened and its mentions attached to the demo incident declared from it."""

import random
from dataclasses import replace
from datetime import timedelta

from django.contrib.auth.models import Permission
from django.utils import timezone

from demo.french import typeset
from incidents.listening import actions, detection
from incidents.listening.choices import SignalKind, Source
from incidents.listening.ingest import MentionData
from incidents.listening.models import ExpectedBurst, Mention, Signal, Watch

WATCH = "Bouilloire KX-200 / KX-200 kettle"
# The KX-200 watch's topic watch: the whole kettle conversation (other brands' kettles too),
# so the kettle incident's post-mortem has a share of voice.
TOPIC_WATCH = "Bouilloires / kettles (marché)"
# Who each watch's signals alert (its "Who is alerted"): the lead, and on the brand's own
# watch the community manager who watches the platforms; people who may read listening
# data (PERMISSIONS).
ALERTED = {WATCH: ["lead", "drafter"], TOPIC_WATCH: ["lead"]}
PERMISSIONS = {
    "lead": ["view_mention", "view_watch", "change_watch", "add_mention"],
    "drafter": ["view_mention", "view_watch"],
    # The communications director follows the brand's reputation: may be alerted too.
    "comms": ["view_mention", "view_watch"],
    "observer": ["view_mention", "view_watch"],
}

CALM_FR = [
    "Ma bouilloire KX-200 tient toujours le coup après deux ans, rien à redire.",
    "Quelqu'un a testé la KX-200 ? Je cherche une bouilloire silencieuse.",
    "Le thé du matin avec la KX-200, petit plaisir simple.",
    "Livraison rapide pour ma KX-200, emballage correct.",
    "La KX-200 chauffe vite mais le bouton est un peu dur.",
    "Bon rapport qualité-prix pour la bouilloire KX-200.",
]
CALM_FR = typeset(CALM_FR)  # French typography (demo/french.py)
CALM_EN = [
    "Still happy with my KX-200 kettle, boils fast and looks great.",
    "Anyone compared the KX-200 with the older model? Thinking of upgrading.",
    "KX-200 arrived today, nice design, quick boil.",
    "The KX-200 kettle is a bit loud but does the job.",
    "Great customer service when my KX-200 base stopped working, replaced in a week.",
    "Morning tea sorted thanks to the KX-200.",
]
SPIKE_FR = [
    "Le couvercle de ma KX-200 s'est fendu au bout de trois utilisations, c'est dangereux !",
    "Ma KX-200 a le couvercle fissuré, de l'eau bouillante partout. Inadmissible.",
    "Encore une KX-200 avec le couvercle cassé… la marque va réagir quand ?",
    "J'ai failli me brûler avec ma KX-200, le couvercle a cédé. Honteux.",
    "Vous aussi vous avez un couvercle fendu sur la KX-200 ? Ça devient grave.",
    "Remboursement demandé pour ma KX-200 défectueuse, aucune réponse pour l'instant.",
]
SPIKE_FR = typeset(SPIKE_FR)  # French typography (demo/french.py)
SPIKE_EN = [
    "My KX-200 lid cracked after three uses. Boiling water everywhere. Terrible.",
    "Another cracked KX-200 lid, this is dangerous and nobody is answering.",
    "Watched the video about the KX-200 lids, mine is cracked too. Awful quality.",
    "Nearly burned my hand when the KX-200 lid split. Stop selling this kettle!",
    "Is there a recall for the KX-200? The lid on mine broke this morning.",
    "Sent photos of my broken KX-200 lid to support, still waiting. Disappointed.",
]
MARKET_FR = [
    "Quelle bouilloire choisir pour une petite cuisine ? Je compare trois modèles.",
    "Ma vieille bouilloire en inox a vingt ans et marche toujours.",
    "Les bouilloires à température réglable valent-elles le prix ?",
    "Détartrer sa bouilloire au vinaigre blanc : ça marche très bien.",
]
MARKET_FR = typeset(MARKET_FR)  # French typography (demo/french.py)
MARKET_EN = [
    "Which kettle do you recommend for green tea? Looking at gooseneck kettles.",
    "Our glass kettle looks lovely but shows every bit of limescale.",
    "Cordless kettles are such a small thing that makes mornings easier.",
    "Finally replaced the office kettle, the new one is much quieter.",
]
NAMES = ["claire", "marc", "julie", "tom", "nadia", "lucas", "emma", "hugo", "sofia", "paul",
         "amelie", "ben", "chloe", "dan", "elise", "felix", "gina", "ivan"]  # fmt: skip
PLATFORMS = ["x", "facebook", "instagram", "bluesky", "mastodon", "forum"]


def _post(rng, index, when, texts, language) -> MentionData:
    platform = rng.choice(PLATFORMS)
    name = rng.choice(NAMES)
    handle = f"{name}{rng.randint(1, 99)}"
    return MentionData(
        platform=platform,
        external_id=f"demo-kx200-{index}",
        text=rng.choice(texts),
        posted_at=when,
        url=f"https://example.com/{platform}/{handle}/{index}",
        author_handle=f"@{handle}",
        author_name=name.capitalize(),
        author_followers=int(rng.paretovariate(1.2) * 80),
        language=language,
        likes=rng.randint(0, 40),
        reposts=rng.randint(0, 10),
    )


def load(users: dict, incident) -> int:
    """Fill the demo watch; `incident` is the kettle complaint wave (or None). Returns the
    mentions newly stored. Idempotent."""
    for username, codenames in PERMISSIONS.items():
        users[username].user_permissions.add(
            *Permission.objects.filter(content_type__app_label="listening", codename__in=codenames)
        )
    lead = type(users["lead"]).objects.get(pk=users["lead"].pk)  # fresh permission cache
    now = timezone.now()
    start = now - timedelta(days=4)
    # Set up when its four days of posts begin: the detector judges no minute before a
    # watch existed (detection.judged_from), so the demo's signal comes after it too.
    topic = Watch.objects.filter(name=TOPIC_WATCH).first() or actions.watch_create(
        actor=lead,
        now=start,
        name=TOPIC_WATCH,
        brand="Kettle market",
        keywords=["bouilloire", "bouilloires", "kettle", "kettles"],
        languages=["fr", "en"],
    )
    watch = Watch.objects.filter(name=WATCH).first() or actions.watch_create(
        actor=lead,
        now=start,
        name=WATCH,
        brand="Demo kettles",
        keywords=["KX-200", "KX200", "bouilloire KX", "kettle KX"],
        exclusions=["KX-2000"],
        languages=["fr", "en"],
        topic_watch=topic,
    )
    if watch.topic_watch_id is None:  # a database loaded before topic watches existed
        actions.watch_update(watch=watch, actor=lead, topic_watch=topic)
    for demo_watch in (topic, watch):
        if not demo_watch.subscribers.exists():  # new, or loaded before the demo set them
            alerted = [users[username] for username in ALERTED[demo_watch.name]]
            actions.watch_update(watch=demo_watch, actor=lead, subscribers=alerted)
    spike_at = (incident.detected_at if incident else now - timedelta(hours=31)) - timedelta(
        minutes=40
    )
    rng = random.Random(14)
    posts, spike = [], []
    for index in range(420):  # background: about four an hour, quieter at night
        when = start + timedelta(minutes=rng.uniform(0, 4 * 24 * 60))
        if when.hour < 7 and rng.random() < 0.7:
            when += timedelta(hours=8)
        if when >= now:
            when = now - timedelta(minutes=rng.uniform(1, 600))
        french = rng.random() < 0.55
        posts.append(
            _post(rng, index, when, CALM_FR if french else CALM_EN, "fr" if french else "en")
        )
    for index in range(420, 600):  # the spike: 180 posts in three hours, mostly angry
        when = spike_at + timedelta(minutes=rng.expovariate(1 / 50))
        french = rng.random() < 0.5
        texts = (
            (SPIKE_FR if french else SPIKE_EN)
            if rng.random() < 0.85
            else (CALM_FR if french else CALM_EN)
        )
        data = _post(rng, index, min(when, now), texts, "fr" if french else "en")
        posts.append(data)
        spike.append(data.external_id)
    rng = random.Random(15)  # its own: the same posts whatever the time of day
    for index in range(300):  # the rest of the kettle market: about three an hour
        when = start + timedelta(minutes=rng.uniform(0, 4 * 24 * 60 - 1))
        french = rng.random() < 0.55
        data = _post(rng, index, when, MARKET_FR if french else MARKET_EN, "fr" if french else "en")
        posts.append(replace(data, external_id=f"demo-kettles-{index}"))
    result = actions.mentions_ingest(mentions=posts, source=Source.IMPORT, actor=lead)
    _demo_campaign(watch, now, lead)
    spike_mentions = Mention.objects.filter(external_id__in=spike).order_by("posted_at")
    _demo_signal(watch, spike_mentions, spike_at, incident, lead)
    if incident is not None:
        ids = list(spike_mentions.filter(incident=None).values_list("pk", flat=True))
        for chunk in range(0, len(ids), actions.MAX_ATTACH):
            actions.mentions_attach(
                mention_ids=ids[chunk : chunk + actions.MAX_ATTACH], incident=incident, actor=lead
            )
    return result.stored


def _demo_campaign(watch, now, lead) -> None:
    """A planned campaign on the watch, declared with its size: next Friday's promotion
    (about three times the usual mentions) raises no signal, a crisis well beyond it would."""
    if watch.expected_bursts.exists():
        return
    friday = timezone.localtime(now).replace(hour=8, minute=0, second=0, microsecond=0)
    friday += timedelta(days=(4 - friday.weekday()) % 7 or 7)
    actions.expected_burst_save(
        burst=ExpectedBurst(
            watch=watch,
            starts_at=friday,
            ends_at=friday + timedelta(hours=12),
            expected_size=3,
            note=typeset("Promotion du vendredi : -30 % sur la KX-200"),
        ),
        actor=lead,
    )


def _demo_signal(watch, spike_mentions, spike_at, incident, lead) -> None:
    """The signal the spike opened, through the detector's own actions (as if it had run
    then): opened 18 minutes into the spike, closed six hours later, and the kettle
    incident, declared by hand meanwhile, recorded as its incident."""
    if Signal.objects.filter(watch=watch).exists():
        return
    reading = detection.Reading(
        minute=0,
        observed=96,
        expected=4.0,
        deviations=11.5,
        volume_alert=True,
        volume_elevated=True,
        negative_share=0.78,
        baseline_negative_share=0.12,
        tone_shift=0.66,
        tone_alert=False,
        tone_elevated=True,
        severity=3,
        trigger=(20, 54, 1.3),  # the reason the signal gives: 54 in 20 minutes, 1.3 expected
    )
    signal = actions.signal_open(
        watch=watch,
        kind=SignalKind.VOLUME,
        started_at=spike_at,
        reading=reading,
        now=spike_at + timedelta(minutes=18),
    )
    if incident is not None:
        actions.signal_close(signal=signal, now=spike_at + timedelta(hours=6))
        actions.signal_link(signal=signal, incident=incident, actor=lead, now=incident.declared_at)
