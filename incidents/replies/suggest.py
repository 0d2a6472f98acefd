"""A suggested author type for a mention, from simple signals a person can check: the
sentiment score, words of complaint, insult, praise or press, a question, how often the
author posted in this incident, their reach, whether they follow the brand and are
verified. Pure: no database, no network; the caller passes what it read.

The suggestion is only shown, with its reasons in plain words; a person confirms it or
picks another type (actions.triage_set). The word lists are short and our own (French and
English); they are matched as whole words on the text folded to lower case without
accents, so "remboursé" and "Rembourse" both match "rembourse".
"""

import re
from dataclasses import dataclass, field

from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext

from incidents.listening.matching import fold

from .choices import AuthorType, NeedsAnswer

# Reach above which an author is an influencer whatever they say, and the reach a verified
# account needs to be one; press words count from PRESS_REACH (or verified).
INFLUENCER_REACH = 50_000
VERIFIED_INFLUENCER_REACH = 10_000
PRESS_REACH = 2_000
# Posts by the same author in the incident from which a hostile author is "persistent".
PERSISTENT_POSTS = 3
# VADER compound thresholds (listening/sentiment.py uses ±0.05 for its labels).
NEGATIVE = -0.05
POSITIVE = 0.05
VERY_NEGATIVE = -0.6


def words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Folded (lower case, no accents). Phrases are matched as consecutive words.
COMPLAINT_WORDS = words(
    """
    casse cassee fendu fendue fissure fissuree panne defectueux defectueuse defaut
    rembourse remboursement rembourser echange garantie retard sav reclamation plainte
    brule brulee bruler brulure brulures fuite fuit surchauffe blesse blessee blessure cede
    dangereux dangereuse
    broken cracked crack leak leaking faulty defective refund refunded replace replacement
    warranty late delayed burned burnt burn hurt injured overheating melted dangerous
    complaint support
    """
)
COMPLAINT_PHRASES = ("service client", "pas de reponse", "aucune reponse", "customer service",
                     "no answer", "still waiting", "toujours rien", "toujours pas")  # fmt: skip
INSULT_WORDS = words(
    """
    nuls nul minables minable escrocs escroc voleurs voleur menteurs menteur pourris pourri
    clowns clown arnaque arnaqueurs incompetents incompetent debiles debile
    crooks crook liars liar scam scammers clowns garbage trash idiots idiot incompetent
    morons moron frauds fraud
    """
)
# Outrage is not trolling: someone hurt by a product says "honteux" too. These words make
# a post hostile (a hater when no complaint comes with it), never a troll on their own.
OUTRAGE_WORDS = words(
    """
    honte honteux honteuse scandale scandaleux ridicule ridicules boycott inadmissible
    inacceptable
    shame shameful disgrace disgraceful pathetic outrageous unacceptable boycott
    """
)
PRAISE_WORDS = words(
    """
    merci bravo adore excellent excellente genial geniale fidele confiance injuste exagere
    exageree calmez soutien
    thanks thank love great excellent loyal trust unfair overreacting
    """
)
PRAISE_PHRASES = ("toujours ete", "jamais eu de probleme", "always been", "never had a problem",
                  "calm down", "du calme")  # fmt: skip
PRESS_WORDS = words(
    """
    journaliste redaction redacteur enquete article reportage interview
    journalist reporter newsroom editor article story interview investigation
    """
)
QUESTION_WORDS = words(
    """
    comment pourquoi quand combien ou est-ce quel quelle quels quelles
    how why when where what which can could will is are
    """
)
_WORDS = re.compile(r"\w+(?:-\w+)?")
SHOWN_WORDS = 3


@dataclass(frozen=True)
class Signals:
    """What the suggestion reads about one mention. `author_posts` counts the mentions of
    the same author (platform and handle) attached to the same incident, this one included;
    `author_answered`: another of them was answered (publicly, privately or by customer
    service) or has a reply on its way."""

    text: str
    sentiment_score: float | None = None
    author_posts: int = 1
    followers: int | None = None
    follows_brand: bool | None = None
    verified: bool | None = None
    reply_to_brand: bool = False
    author_answered: bool = False

    @classmethod
    def of(cls, mention, author_posts: int = 1, author_answered: bool = False) -> "Signals":
        return cls(
            text=mention.text,
            sentiment_score=mention.sentiment_score,
            author_posts=author_posts,
            author_answered=author_answered,
            followers=mention.author_followers,
            follows_brand=mention.author_follows_brand,
            verified=mention.author_verified,
            reply_to_brand=mention.reply_to_brand,
        )


@dataclass(frozen=True)
class Suggestion:
    """`author_type` (AuthorType), `needs_answer` (NeedsAnswer) and `reasons`, short
    sentences in the active language; `reason` joins them."""

    author_type: str
    needs_answer: str
    reasons: tuple[str, ...] = field(default=())

    @property
    def reason(self) -> str:
        return pgettext("between the reasons of a suggestion", "; ").join(self.reasons)

    @property
    def label(self) -> str:
        return AuthorType(self.author_type).label


def _found(words: list[str], text: str, vocabulary, phrases=()) -> list[str]:
    hits = [w for w in words if w in vocabulary]
    padded = f" {' '.join(words)} "
    hits += [p for p in phrases if f" {p} " in padded]
    return list(dict.fromkeys(hits))  # once each, in order


def _quoted(words: list[str]) -> str:
    return ", ".join(_("“%(word)s”") % {"word": w} for w in words[:SHOWN_WORDS])


def _is_question(text: str, words: list[str]) -> bool:
    return "?" in text or (bool(words) and words[0] in QUESTION_WORDS)


def suggest(signals: Signals) -> Suggestion:
    """The suggested type, whether it needs an answer, and why. Rules, first match wins:
    press words from a verified or known account -> press; a very large audience ->
    influencer; insults without a complaint or a question -> troll (a persistent hater if
    they keep coming back; outrage alone is not an insult); hostile and back again and
    again -> persistent hater; a hater already answered on another post needs no other
    answer (the default playbooks: "one answer, one only");
    words of support in a positive tone -> defender; a complaint or a question -> unhappy
    customer; insults or a negative tone -> occasional hater; praise or a positive tone ->
    defender; else neutral."""
    words = _WORDS.findall(fold(signals.text))
    complaint = _found(words, signals.text, COMPLAINT_WORDS, COMPLAINT_PHRASES)
    insult = _found(words, signals.text, INSULT_WORDS)
    outrage = _found(words, signals.text, OUTRAGE_WORDS)
    praise = _found(words, signals.text, PRAISE_WORDS, PRAISE_PHRASES)
    press = _found(words, signals.text, PRESS_WORDS)
    question = _is_question(signals.text, words)
    score = signals.sentiment_score
    followers = signals.followers or 0
    negative = score is not None and score <= NEGATIVE
    positive = score is not None and score >= POSITIVE
    persistent = signals.author_posts >= PERSISTENT_POSTS

    reasons: list[str] = []
    if score is not None:
        tone = (
            _("very negative tone")
            if score <= VERY_NEGATIVE
            else _("negative tone")
            if negative
            else _("positive tone")
            if positive
            else _("neutral tone")
        )
        shown = ("+" if score > 0 else "") + number_format(score, 2)  # "-0,84" in French
        reasons.append(f"{tone} ({shown})")
    if complaint:
        reasons.append(_("words of complaint: %(words)s") % {"words": _quoted(complaint)})
    if insult:
        reasons.append(_("insults: %(words)s") % {"words": _quoted(insult)})
    if outrage:
        reasons.append(_("words of outrage: %(words)s") % {"words": _quoted(outrage)})
    if praise:
        reasons.append(_("words of support: %(words)s") % {"words": _quoted(praise)})
    if press:
        reasons.append(_("press words: %(words)s") % {"words": _quoted(press)})
    if question:
        reasons.append(_("asks a question"))
    if signals.author_posts > 1:
        reasons.append(
            ngettext(
                "%(n)s post by this author in this incident",
                "%(n)s posts by this author in this incident",
                signals.author_posts,
            )
            % {"n": signals.author_posts}
        )
    if signals.author_answered:
        reasons.append(_("already answered on another post"))
    if signals.followers is not None:
        reasons.append(
            ngettext("%(n)s follower", "%(n)s followers", followers)
            % {"n": number_format(followers, 0, force_grouping=True)}
        )
    if signals.verified:
        reasons.append(_("verified account"))
    if signals.follows_brand:
        reasons.append(_("follows the brand"))
    if signals.reply_to_brand:
        reasons.append(_("replied to the brand"))

    def result(author_type, needs):
        return Suggestion(author_type, needs, tuple(reasons))

    # A hater gets one calm answer, not a debate in ten messages.
    hater_needs = NeedsAnswer.NO if signals.author_answered else NeedsAnswer.YES

    if press and (signals.verified or followers >= PRESS_REACH):
        return result(AuthorType.PRESS, NeedsAnswer.YES)
    if followers >= INFLUENCER_REACH or (
        signals.verified and followers >= VERIFIED_INFLUENCER_REACH
    ):
        return result(AuthorType.INFLUENCER, NeedsAnswer.YES)
    if insult and not complaint and not question:
        if persistent:
            return result(AuthorType.HATER_PERSISTENT, hater_needs)
        return result(AuthorType.TROLL, NeedsAnswer.NO)
    if (negative or insult or outrage) and persistent:
        return result(AuthorType.HATER_PERSISTENT, hater_needs)
    if praise and positive:
        return result(AuthorType.DEFENDER, NeedsAnswer.NO)
    if complaint or (question and not positive):
        return result(AuthorType.UNHAPPY_CUSTOMER, NeedsAnswer.YES)
    if insult or outrage or negative:
        return result(AuthorType.HATER_OCCASIONAL, hater_needs)
    if praise or positive:
        return result(AuthorType.DEFENDER, NeedsAnswer.NO)
    return result(AuthorType.NEUTRAL, NeedsAnswer.NO)
