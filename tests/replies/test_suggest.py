"""The suggested type: simple, explainable signals, in French and English."""

import pytest
from django.utils import translation

from crisiscell.typography import french_spacing
from incidents.replies.suggest import Signals, suggest


@pytest.mark.parametrize(
    ("signals", "author_type", "needs"),
    [
        (Signals("Le couvercle de ma KX-200 est fendu, comment être remboursé ?", -0.3),
         "unhappy_customer", "yes"),
        (Signals("My lid cracked after a week. Who do I contact for a refund?", -0.4),
         "unhappy_customer", "yes"),
        (Signals("Marque de menteurs et d'escrocs.", -0.8), "troll", "no"),
        (Signals("lol clowns, boil your tea on a campfire", -0.2), "troll", "no"),
        (Signals("Encore eux. Des menteurs.", -0.7, author_posts=4), "hater_persistent", "yes"),
        # A hater gets one calm answer: answered on another post, this one needs none.
        (Signals("Encore eux. Des menteurs.", -0.7, author_posts=4, author_answered=True),
         "hater_persistent", "no"),
        (Signals("Honestly the worst company ever.", -0.8, author_posts=2, author_answered=True),
         "hater_occasional", "no"),
        # A customer may well need a second answer.
        (Signals("Still no refund for my cracked lid?", -0.5, author_posts=2, author_answered=True),
         "unhappy_customer", "yes"),
        (Signals("This brand is a disgrace, selling dangerous kettles.", -0.8),
         "unhappy_customer", "yes"),  # "dangerous" is a complaint: it deserves an answer
        (Signals("Honestly the worst company ever, I am so angry.", -0.8),
         "hater_occasional", "yes"),
        (Signals("Jamais eu de problème avec eux, merci pour le suivi. Du calme.", 0.6),
         "defender", "no"),
        (Signals("Great support, people are overreacting.", 0.7), "defender", "no"),
        (Signals("Journaliste, j'enquête sur la KX-200.", 0.0, followers=24_000, verified=True),
         "press", "yes"),
        (Signals("A new kettle video is up!", 0.1, followers=120_000), "influencer", "yes"),
        (Signals("Tea time with the KX-200.", 0.0), "neutral", "no"),
        # Someone hurt by the product is outraged, not a troll to leave unanswered.
        (Signals("J'ai failli me brûler avec ma KX-200, le couvercle a cédé. Honteux.", -0.6),
         "unhappy_customer", "yes"),
        (Signals("Honteux. Boycott.", -0.7), "hater_occasional", "yes"),
        # Delivery is a topic, not a complaint.
        (Signals("Livraison rapide pour ma KX-200, emballage correct.", 0.0), "neutral", "no"),
    ],
)  # fmt: skip
def test_the_suggestion_follows_the_signals(signals, author_type, needs):
    suggestion = suggest(signals)
    assert (suggestion.author_type, suggestion.needs_answer) == (author_type, needs)
    assert suggestion.reason  # always says why


def test_the_reason_names_the_signals_in_plain_words():
    suggestion = suggest(
        Signals(
            "Remboursement ? Toujours aucune réponse, c'est une arnaque",
            -0.72,
            author_posts=2,
            followers=1200,
            follows_brand=True,
        )
    )
    with translation.override("en"):
        reason = suggest(
            Signals(
                "Remboursement ? Toujours aucune réponse, c'est une arnaque",
                -0.72,
                author_posts=2,
                followers=1200,
                follows_brand=True,
            )
        ).reason
    assert suggestion.author_type == "unhappy_customer"
    assert "very negative tone (-0.72)" in reason
    assert "“remboursement”" in reason and "“aucune reponse”" in reason
    assert "insults: “arnaque”" in reason
    assert "asks a question" in reason
    assert "2 posts by this author in this incident" in reason
    assert "1,200 followers" in reason
    assert "follows the brand" in reason


def test_the_reason_is_translated():
    with translation.override("fr"):
        reason = suggest(Signals("Where is my refund?", -0.5, follows_brand=True)).reason
    assert "suit la marque" in reason
    assert "pose une question" in reason


def test_words_match_whole_words_without_accents_or_case():
    # "Cassée" folds to "cassee"; "cassette" is not "casse".
    assert suggest(Signals("Ma bouilloire est CASSÉE", 0.0)).author_type == "unhappy_customer"
    assert suggest(Signals("Une cassette audio", 0.0)).author_type == "neutral"


def test_the_reasons_read_as_french_in_french():
    """The "Why" line wrote "(-0.84)", "19,823" and “fuit” in a French page."""
    signals = Signals("Ma bouilloire fuit, c'est dangereux.", -0.84, followers=19_823)
    with translation.override("fr"):
        reason = suggest(signals).reason
    assert "(-0,84)" in reason
    assert "19\N{NO-BREAK SPACE}823" in reason or "19\N{NARROW NO-BREAK SPACE}823" in reason
    assert french_spacing("« fuit »") in reason and french_spacing(" ; ") in reason
    with translation.override("en"):
        reason = suggest(signals).reason
    assert "(-0.84)" in reason and "19,823 followers" in reason and "“fuit”" in reason
