"""Sentiment of a mention from lexicon libraries that ship their data: vaderSentiment for
English, vadersentiment-fr for French. Both return VADER's `compound` score in [-1, 1]
(negative is negative: checked by tests/listening/test_sentiment_and_language.py on our
own labelled sets), with the crisis room's words added (lexicon.py); other languages get
UNKNOWN, never a guess.

A post of several sentences is scored sentence by sentence and the compounds averaged, as
VADER's authors advise for paragraphs: VADER's negation looks three words back across
full stops, so "Third day, still nothing. Boycott ..." read "nothing" as negating
"boycott" (a positive post).

VADER's cost grows with the square of a sentence's words, and it reads each emoji as its
description (three to six words): a post of 1,000 😀 cost 1.4 s, and a bulk body of a few
hundred bytes minutes of CPU. So a post keeps its first MAX_EMOJI emoji (more tell nothing
more of its tone), and a sentence longer than MAX_WORDS words is scored in parts of that
size: a post costs a few milliseconds at most, whatever it holds."""

import re
import warnings
from functools import cache

from . import lexicon
from .choices import Sentiment

# Pictographs, dingbats and symbols (the emoji VADER describes in words), and the cap.
EMOJI = re.compile("[\u2190-\u2bff\U0001f000-\U0001faff]")
MAX_EMOJI = 20
MAX_WORDS = 40
# VADER's own thresholds for its compound score.
POSITIVE_FROM = 0.05
NEGATIVE_TO = -0.05
LANGUAGES = ("en", "fr")
# A sentence ends at . ! ? or an ellipsis followed by a space, or at a line break.
SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")
# VADER strips ASCII punctuation from words: typographic marks glued to a word ("cassé…",
# "«nul»", "c\u2019est") would hide it from the lexicon.
TYPOGRAPHY = str.maketrans(
    {
        "\u2026": "...",  # ellipsis
        "\u2019": "'",  # typographic apostrophes
        "\u2018": "'",
        "\u00ab": '"',  # « »
        "\u00bb": '"',
        "\u201c": '"',  # “ ”
        "\u201d": '"',
    }
)


@cache
def _analyzer(language: str):
    if language == "en":
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        analyzer = SentimentIntensityAnalyzer()
    else:
        analyzer = _french_analyzer()
    lexicon.apply(analyzer.lexicon, language)  # the crisis room's words (lexicon.py)
    return analyzer


# VADER's contrast rule: the words before "but" count half, those after it half as much
# again ("joli mais le couvercle a fondu" is a complaint).
BEFORE_BUT, AFTER_BUT = 0.5, 1.5
SURE = re.compile(r"\bsûr\b", re.IGNORECASE)


def _french_analyzer():
    with warnings.catch_warnings():
        # vadersentiment-fr imports fuzzywuzzy, which warns about its pure-Python
        # matcher; polarity_scores never uses it.
        warnings.simplefilter("ignore", UserWarning)
        from vaderSentiment_fr.vaderSentiment import SentimentIntensityAnalyzer, SentiText

    class FrenchAnalyzer(SentimentIntensityAnalyzer):
        """vadersentiment-fr with VADER's "but" rule for "mais", which its polarity_scores
        leaves out (the call is commented out; its own _but_check also misplaces equal
        valences). The library reads an emoji as its French description: 🌽's, "epi de
        mais", is spelt "maïs" here, so it is no contrast. It looks words up without their
        accents, so "sûr" (sure, safe) would read as "sur" (on, taken out of the lexicon:
        lexicon.py): it reads as "sure", the same adjective's entry."""

        def __init__(self):
            super().__init__()
            self.emoji_words = {
                emoji: " ".join("maïs" if word == "mais" else word for word in words.split())
                for emoji, words in self.emojis.items()
                if "mais" in words.split()
            }

        def polarity_scores(self, text):
            for emoji, words in self.emoji_words.items():
                text = text.replace(emoji, f" {words} ")
            return super().polarity_scores(SURE.sub("sure", text))

        def score_valence(self, sentiments, text):
            if "mais" in text.lower():
                words = [word.lower() for word in SentiText(text).words_and_emoticons]
                if "mais" in words:
                    at = words.index("mais")
                    sentiments = [
                        value * (BEFORE_BUT if i < at else AFTER_BUT if i > at else 1)
                        for i, value in enumerate(sentiments)
                    ]
            return super().score_valence(sentiments, text)

    return FrenchAnalyzer()


def label_of(score: float | None) -> str:
    if score is None:
        return Sentiment.UNKNOWN
    if score >= POSITIVE_FROM:
        return Sentiment.POSITIVE
    if score <= NEGATIVE_TO:
        return Sentiment.NEGATIVE
    return Sentiment.NEUTRAL


def score(text: str, language: str) -> tuple[float | None, str]:
    """(compound score in [-1, 1] or None, Sentiment label) of `text` in `language`."""
    if language not in LANGUAGES or not text.strip():
        return None, Sentiment.UNKNOWN
    analyzer = _analyzer(language)
    sentences = [
        part
        for sentence in SENTENCE_END.split(_fewer_emoji(text).translate(TYPOGRAPHY))
        for part in _parts(sentence)
    ]
    if not sentences:  # emoji beyond the cap only
        return None, Sentiment.UNKNOWN
    total = sum(analyzer.polarity_scores(part)["compound"] for part in sentences)
    compound = round(total / len(sentences), 4)
    return compound, label_of(compound)


def _fewer_emoji(text: str) -> str:
    """`text` with its first MAX_EMOJI emoji only."""
    if len(EMOJI.findall(text)) <= MAX_EMOJI:
        return text
    seen = 0

    def first_ones(match):
        nonlocal seen
        seen += 1
        return match.group() if seen <= MAX_EMOJI else ""

    return EMOJI.sub(first_ones, text)


def _parts(sentence: str) -> list[str]:
    """A sentence in parts of at most MAX_WORDS words (the sentence itself, mostly)."""
    words = sentence.split()
    if len(words) <= MAX_WORDS:
        return [sentence] if words else []
    return [" ".join(words[at : at + MAX_WORDS]) for at in range(0, len(words), MAX_WORDS)]
