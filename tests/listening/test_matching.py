from types import SimpleNamespace

import pytest

from incidents.listening.matching import Matcher, fold


def watch(id=1, **terms):
    base = dict(keywords=[], exclusions=[], hashtags=[], handles=[], languages=[], platforms=[])
    return SimpleNamespace(id=id, **{**base, **terms})


def test_fold_removes_case_and_accents():
    assert fold("ÉLYSÉE Ça") == "elysee ca"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("J'adore MAISON   lumiere", [1]),  # case, accents, spaces
        ("maisonlumière", []),  # word boundaries
        ("#BoycottLumière maintenant", [1]),
        ("#BoycottLumiereNow", []),  # another hashtag
        ("merci @maisonlumiere.bsky.social", [1]),
        ("email@maisonlumiere.bsky.social.example", []),
        ("Maison Lumière et la lumière du jour", []),  # the exclusion vetoes
        ("rien à voir", []),
    ],
)
def test_terms(text, expected):
    matcher = Matcher(
        [
            watch(
                keywords=["Maison Lumière"],
                exclusions=["lumière du jour"],
                hashtags=["#boycottlumiere"],
                handles=["@maisonlumiere.bsky.social"],
            )
        ]
    )
    assert matcher.match(text=text, platform="x") == expected


def test_a_post_by_the_brand_matches_its_handle():
    matcher = Matcher([watch(handles=["MaisonLumiere.bsky.social"])])
    assert matcher.match(text="Hello", platform="bluesky", author="@maisonlumiere.bsky.social")


def test_language_and_platform_restrictions():
    matcher = Matcher(
        [
            watch(1, keywords=["lumiere"], languages=["fr"]),
            watch(2, keywords=["lumiere"], platforms=["mastodon"]),
        ]
    )
    assert matcher.match(text="lumiere", platform="x", language="fr") == [1]
    assert matcher.match(text="lumiere", platform="x", language="en") == []
    # An unknown language is not a reason to miss a post.
    assert matcher.match(text="lumiere", platform="mastodon", language="") == [1, 2]


def test_a_language_given_as_a_function_is_read_only_where_it_decides():
    """The import's preview passes the detector itself: it runs only for a post that a
    watch naming languages matches otherwise, and decides as a code would."""
    matcher = Matcher([watch(1, keywords=["lumiere"], languages=["fr"]), watch(2, keywords=["kx"])])
    asked = []

    def detected(code):
        return lambda: asked.append(code) or code

    assert matcher.match(text="kx", platform="x", language=detected("en")) == [2]
    assert matcher.match(text="rien", platform="x", language=detected("en")) == []
    assert asked == []  # no watch naming languages matched either post
    assert matcher.match(text="lumiere kx", platform="x", language=detected("en")) == [2]
    assert matcher.match(text="lumiere", platform="x", language=detected("fr")) == [1]
    assert matcher.match(text="lumiere", platform="x", language=detected("")) == [1]
    assert asked == ["en", "fr", ""]


def test_a_phrase_and_the_word_it_starts_with_both_match():
    matcher = Matcher([watch(1, keywords=["lumiere"]), watch(2, keywords=["lumiere cosmetics"])])
    assert matcher.match(text="Lumiere Cosmetics recall", platform="x") == [1, 2]


def test_phrases_match_whole_words_in_order_whatever_the_punctuation():
    matcher = Matcher([watch(keywords=["L'Oréal Paris"]), watch(2, keywords=["oreal"])])
    assert matcher.match(text="Chez L\u2019OREAL, PARIS !", platform="x") == [1, 2]
    assert matcher.match(text="Paris L'Oréal", platform="x") == [2]
    assert matcher.match(text="lorealparis", platform="x") == []
