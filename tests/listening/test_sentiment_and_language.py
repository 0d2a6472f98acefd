"""Sentiment and language on our own labelled set (tests/listening/labelled_mentions.tsv,
written for these tests). The floors are the accuracy measured when the lexicons were
chosen (docs/user-guide.md, "Listening"): a library upgrade that flips a score's direction
or range fails here."""

from pathlib import Path

import pytest

from incidents.listening import language, sentiment
from incidents.listening.choices import Sentiment

SET = [
    line.rstrip("\n").split("\t")
    for line in (Path(__file__).parent / "labelled_mentions.tsv").read_text().splitlines(True)
    if not line.startswith("#") and line.strip()
]


def accuracy(lang):
    rows = [(label, text) for code, label, text in SET if code == lang]
    right = sum(sentiment.score(text, lang)[1] == label for label, text in rows)
    return right / len(rows), len(rows)


@pytest.mark.parametrize("lang, floor", [("en", 0.85), ("fr", 0.75)])
def test_accuracy_on_the_labelled_set(lang, floor):
    value, size = accuracy(lang)
    assert size >= 24
    assert value >= floor, f"{lang}: {value:.0%}"


@pytest.mark.parametrize(
    "lang, good, bad",
    [
        ("en", "I love this brand, thank you!", "This is a disgrace, worst service ever."),
        ("fr", "J'adore cette marque, merci !", "C'est une honte, service client nul."),
    ],
)
def test_scores_run_from_negative_to_positive(lang, good, bad):
    good_score, good_label = sentiment.score(good, lang)
    bad_score, bad_label = sentiment.score(bad, lang)
    assert -1 <= bad_score < 0 < good_score <= 1
    assert (good_label, bad_label) == (Sentiment.POSITIVE, Sentiment.NEGATIVE)


@pytest.mark.parametrize("lang", ["de", "es", "", "zz"])
def test_other_languages_are_unknown_never_guessed(lang):
    assert sentiment.score("Das ist eine Schande, nie wieder!", lang) == (None, Sentiment.UNKNOWN)


def test_language_is_detected_on_the_set():
    right = sum(language.detect(text) == code for code, _label, text in SET)
    assert right / len(SET) >= 0.9


@pytest.mark.parametrize("text", ["ok", "lol 😂", "!!!", "", "https://x.co"])
def test_too_short_to_tell_is_not_a_language(text):
    assert language.detect(text) == ""
