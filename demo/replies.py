"""The demo's reply queue: on the kettle incident, a dozen posts of the last hours written
for it (our own wording, French and English: customers, an occasional hater, a persistent
one, a troll, two defenders, a journalist, an influencer), stored and attached through the
listening actions, then triaged and worked through the reply queue's actions: a troll
marked "no answer", customers answered privately or handed to customer service, a defender
thanked, a journalist and a customer claimed; a customer answered by a published reply
(drafted from the queue, approved, published by the spokesperson: the mention is
"answered") and an occasional hater's reply waiting in review. The spike's other mentions
stay to triage. The playbook's English reply template for an unhappy customer is approved in
advance by legal then communications, so the customer on Mastodon can be answered from it
without a new approval. Idempotent: nothing is done when the incident already has a
triage."""

from datetime import timedelta

from django.utils import timezone

from demo.french import typeset
from incidents.listening import actions as listening_actions
from incidents.listening.choices import Source
from incidents.listening.ingest import MentionData
from incidents.listening.models import Mention
from incidents.replies import actions
from incidents.replies.models import Triage
from statements import actions as statement_actions
from statements import preapproval

# (key, platform, handle, name, followers, follows brand, replied to brand, verified,
#  language, minutes ago, text)
POSTS = [
    ("customer-fr", "x", "@claire_b", "Claire B.", 310, True, True, False, "fr", 170,
     "@DemoKettles le couvercle de ma KX-200 est fendu après une semaine, comment obtenir "
     "un remplacement ?"),
    ("customer-en", "facebook", "@tom.w", "Tom W.", 140, True, True, False, "en", 160,
     "Lid cracked on my KX-200 after a week. Who do I contact for a refund?"),
    ("customer-sav", "forum", "@nadia75", "Nadia", 45, False, False, False, "fr", 150,
     "Toujours aucune réponse du SAV pour ma KX-200 cassée, ça fait dix jours."),
    ("customer-open", "instagram", "@marc.cuisine", "Marc", 2300, False, False, False, "en",
     95, "My KX-200 lid split this morning and I nearly burned my hand. What should I do?"),
    ("customer-mastodon", "mastodon", "@jo@mastodon.example", "Jo", 430, True, True, False,
     "en", 30, "@demokettles@mastodon.example second KX-200 lid cracked this month. Is there "
     "a recall or do I just throw it away?"),
    ("hater-occasional", "x", "@ben_rants", "Ben", 820, False, False, False, "en", 120,
     "Honestly this brand is a disgrace, selling dangerous kettles and saying nothing."),
    ("hater-1", "x", "@anti_kx", "Stop KX", 1900, False, False, False, "fr", 140,
     "Encore eux. Des bouilloires dangereuses vendues par des menteurs."),
    ("hater-2", "x", "@anti_kx", "Stop KX", 1900, False, False, False, "fr", 90,
     "Ils vont encore nous dire que tout va bien. Marque de menteurs."),
    ("hater-3", "x", "@anti_kx", "Stop KX", 1900, False, False, False, "fr", 40,
     "Troisième jour, toujours rien. Boycott des bouilloires KX-200, minables."),
    ("troll", "tiktok", "@kettle_clown", "lolz", 60, False, False, False, "en", 110,
     "lol just boil your tea on a campfire, clowns"),
    ("defender-fr", "facebook", "@sophie.l", "Sophie L.", 520, True, False, False, "fr", 100,
     "J'ai une KX-200 depuis deux ans, jamais eu de problème, et le service client m'a "
     "toujours répondu. Du calme."),
    ("defender-en", "bluesky", "@dana.bsky.social", "Dana", 760, False, False, False, "en", 70,
     "They replaced my KX-200 lid in three days, great support. People are overreacting."),
    ("press", "x", "@l_dupont_conso", "Léa Dupont — Le Quotidien Conso", 24_000, False, False,
     True, "fr", 60, "Journaliste au Quotidien de la Conso, j'enquête sur les couvercles de "
     "la KX-200. Qui peut me répondre côté marque ?"),
    ("influencer", "youtube", "@homegadgets", "Home Gadgets", 120_000, False, False, True,
     "en", 50, "40 of you sent me photos of cracked KX-200 lids. Demo Kettles, what is going on?"),
]  # fmt: skip
POSTS = typeset(POSTS)  # French typography (demo/french.py)

# key -> (who, author type, needs an answer, then: ("decide", outcome, reason) |
# ("thank", note) | ("claim",) | None)
WORK = {
    "customer-fr": ("drafter", "unhappy_customer", "yes", ("claim",)),
    "customer-en": ("drafter", "unhappy_customer", "yes",
                    ("decide", "private", "Replacement form sent by private message.")),
    "customer-sav": ("drafter", "unhappy_customer", "yes",
                     ("decide", "customer_service", "Ticket opened with customer service.")),
    "customer-open": ("drafter", "unhappy_customer", "yes", None),
    "customer-mastodon": ("drafter", "unhappy_customer", "yes", None),
    "hater-occasional": ("drafter", "hater_occasional", "yes", None),
    "hater-3": ("lead", "hater_persistent", "yes", None),
    "troll": ("drafter", "troll", "no",
              ("decide", "no_answer", "Provocation without a question; post kept as is.")),
    "defender-fr": ("drafter", "defender", "no", ("thank", "Thanked in reply.")),
    "defender-en": ("drafter", "defender", "no", None),
    "press": ("spokesperson", "press", "yes", ("claim",)),
    "influencer": ("lead", "influencer", "yes", None),
}  # fmt: skip
WORK = typeset(WORK)  # French typography (demo/french.py)


def load(users: dict, incident) -> int:
    """Store, attach and work the demo's reply queue on `incident` (the kettle complaint
    wave). Returns the number of triages written (0 when done before)."""
    if incident is None or Triage.objects.filter(incident=incident).exists():
        return 0
    now = timezone.now()
    lead = type(users["lead"]).objects.get(pk=users["lead"].pk)  # fresh permission cache
    posts = [
        MentionData(
            platform=platform,
            external_id=f"demo-replies-{key}",
            text=text,
            posted_at=now - timedelta(minutes=ago),
            url=f"https://example.com/{platform}/{handle.lstrip('@')}/{key}",
            author_handle=handle,
            author_name=name,
            author_url=f"https://example.com/{platform}/{handle.lstrip('@')}",
            author_followers=followers,
            author_verified=verified,
            author_follows_brand=follows,
            reply_to_brand=replied,
            language=language,
        )
        for key, platform, handle, name, followers, follows, replied, verified, language, ago,
        text in POSTS
    ]  # fmt: skip
    listening_actions.mentions_ingest(mentions=posts, source=Source.IMPORT, actor=None)
    mentions = {
        m.external_id.removeprefix("demo-replies-"): m
        for m in Mention.objects.filter(external_id__startswith="demo-replies-")
    }
    free = [m.pk for m in mentions.values() if m.incident_id is None]
    if free:
        listening_actions.mentions_attach(mention_ids=free, incident=incident, actor=lead)
    written = 0
    for key, (who, author_type, needs, then) in WORK.items():
        actor, mention = users[who], mentions[key]
        actions.triage_set(
            incident=incident,
            mention=mention,
            actor=actor,
            author_type=author_type,
            needs_answer=needs,
            suggested=author_type,
        )
        written += 1
        if then is None:
            continue
        if then[0] == "claim":
            actions.claim(incident=incident, mention=mention, actor=actor)
        elif then[0] == "decide":
            actions.decide(
                incident=incident, mention=mention, actor=actor, outcome=then[1], reason=then[2]
            )
        else:
            actions.thank(incident=incident, mention=mention, actor=actor, note=then[1])
    _replies(users, incident, mentions)
    _preapprove(users, incident)
    return written


# The product-defect playbook's template (default_playbooks/product-defect.json).
PREAPPROVED_TEMPLATE = "Pre-approvable reply to an unhappy customer (Mastodon)"


def _preapprove(users: dict, incident) -> None:
    """Legal, then communications, approve the English reply template for an unhappy
    customer in advance (whoever the incident's policy awaits, in turn)."""
    state = next(
        (
            s
            for s in preapproval.template_states(incident)
            if s.template.name == PREAPPROVED_TEMPLATE
        ),
        None,
    )
    if state is None:  # another playbook
        return
    for who in ("approver", "comms"):
        if preapproval.preapprove_refusal(users[who], incident, state) is None:
            statement_actions.template_preapprove(
                incident=incident,
                template_id=state.template.pk,
                actor=users[who],
                fingerprint=state.fingerprint,
            )
            state = preapproval.template_state(incident, state.template.pk)


# key -> (reply text, how far it goes)
REPLIES = {
    "customer-open": (
        "@marc.cuisine We are sorry, and glad you are not hurt. Please stop using the kettle: "
        "send us a private message with your order number and we replace it this week.",
        "published",
    ),
    "hater-occasional": (
        "@ben_rants You are right to expect answers. Cracked KX-200 lids are being replaced "
        "free of charge; what we know so far is on our crisis page, updated every hour.",
        "in_review",
    ),
}
REPLIES = typeset(REPLIES)  # French typography (demo/french.py)


def _replies(users: dict, incident, mentions: dict) -> None:
    """Replies written from the queue by the drafter and taken through statements' own
    workflow: one published (the mention is then answered), one waiting in review."""
    drafter = users["drafter"]
    for key, (text, until) in REPLIES.items():
        statement = actions.reply_write(
            incident=incident, mention=mentions[key], actor=drafter, text=text
        )
        statement = statement_actions.statement_submit(statement=statement, actor=drafter)
        if until == "in_review":
            continue
        # Legal, then communications: the kettle incident's policy.
        for who in ("approver", "comms"):
            if statement.status != "approved":
                statement = statement_actions.statement_approve(
                    statement=statement, actor=users[who], revision=statement.revision
                )
        if statement.status != "approved":  # a policy the demo does not know
            continue
        statement_actions.statement_publish(
            statement=statement,
            actor=users["spokesperson"],
            url="https://example.com/instagram/demokettles/reply-marc",
        )
