"""Language of a mention, detected with py3langid (langid.py's model, shipped with the
package: nothing is downloaded)."""

from functools import cache

# Below this normalized probability the answer is a guess: the mention's language stays "".
MIN_PROBABILITY = 0.50
# Shorter texts (letters only) are too short to tell ("ok", "lol", an emoji).
MIN_LETTERS = 12


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
