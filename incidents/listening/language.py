"""Language of a mention, detected with py3langid (langid.py's model, shipped with the
package: nothing is downloaded)."""

from functools import cache

# Below this normalized probability the answer is a guess: the mention's language stays "".
# The model knows 97 languages, and on a post of a line its neighbours (Nigerian Pidgin
# beside English; Walloon, Occitan, Romanian beside French) take a share even when the top
# answer is right: at 0.50, 13 of 40 short English and French complaints stayed without a
# language (so without a tone). At 0.30 our short posts are read right 38/40 times and
# none of the other languages' is taken for English or French (tests/listening/
# labelled_short_posts.tsv); of ~5,000 short interface texts in other languages (Django's
# translations) 4 were, against 2 at 0.50.
MIN_PROBABILITY = 0.30
# Shorter texts (letters only) are too short to tell ("ok", "lol", an emoji).
MIN_LETTERS = 12


@cache
def _codes() -> frozenset[str]:
    """The language codes a mention can carry: the identifier's 97, and the languages
    Django knows (what a platform may name)."""
    from django.conf.locale import LANG_INFO

    return frozenset(_identifier().nb_classes) | {code.split("-")[0] for code in LANG_INFO}


def is_code(code: str) -> bool:
    """Whether `code` (lower case) is a language's ISO 639 code: "fr", "en", "pcm"..."""
    return code in _codes()


@cache
def _identifier():
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def detect(text: str) -> str:
    """The ISO 639-1 code of `text` ("fr", "en", ...), or "" when it cannot be told."""
    if sum(ch.isalpha() for ch in text) < MIN_LETTERS:
        return ""
    code, probability = _identifier().classify(text)
    return code if probability >= MIN_PROBABILITY else ""
