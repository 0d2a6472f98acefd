"""What a crisis room's posts mean that the general lexicons miss.

VADER's lexicons were built from general social-media text: "hand" is warm ("give a
hand"), "obtenir" (to get) is glad, and a product that cracked, leaked or burned someone
carries no tone at all, so a complaint about a defect reads neutral or even positive. These
entries are added to (or, with None, removed from) the lexicons when the analyzers load
(sentiment.py). Valences use VADER's scale (-4 to 4; its word "bad" is -2.5). French keys
are written without accents, as vadersentiment-fr looks words up.

Chosen by what the words mean in complaints about a brand, not to fit a test set; the
effect is measured on both labelled sets (tests/listening/, docs/user-guide.md).
"""

ENGLISH = {
    # A product that failed, or hurt someone.
    "cracked": -1.9,
    "cracking": -1.7,
    "cracks": -1.5,
    "split": -1.2,
    "burned": -1.9,
    "burnt": -1.9,
    "burns": -1.6,
    "scalded": -2.2,
    "leaking": -1.6,
    "leaks": -1.4,
    "overheating": -1.8,
    "overheated": -1.8,
    "melted": -1.5,
    "exploded": -2.0,
    "explode": -1.8,
    "explodes": -1.8,
    "exploding": -1.8,
    "defect": -1.9,
    "defects": -1.9,
    "unsafe": -2.1,
    "sparks": -1.2,
    # "Customer service is a joke": mockery in a complaint, not a laugh.
    "joke": -1.0,
    # A call to stop buying.
    "boycott": -1.8,
    "boycotting": -1.8,
    # Mockery.
    "clown": -1.5,
    "clowns": -1.8,
    # In a crisis thread "lol" laughs at the brand more often than with it; "unbelievable"
    # is outrage; "hand" is a body part.
    "lol": None,
    "unbelievable": -1.5,
    "hand": None,
}

FRENCH = {
    "fendu": -1.9,
    "fendue": -1.9,
    "fissure": -1.6,  # fissure, fissuré
    "fissuree": -1.6,
    "fuit": -1.4,
    "fuient": -1.4,
    "fuite": -1.4,
    "fuites": -1.4,
    "fondu": -1.2,  # "le couvercle a fondu" (a cheese's "fondu" is praise: a food brand's
    # watch pays for it, as for "brûlé")
    "surchauffe": -1.8,
    "brule": -1.9,  # brûlé
    "crame": -1.6,  # cramé (slang: burnt)
    "cramee": -1.6,
    "fondre": -1.2,  # "a fait fondre la prise"
    "incendie": -2.0,
    "etincelles": -1.2,
    "retard": -1.2,  # a late delivery, a delayed refund
    "explose": -2.0,  # explosé
    "explosee": -2.0,
    "brulee": -1.9,
    "brulure": -2.1,
    "brulures": -2.1,
    "casses": -2.1,
    "cassees": -2.1,
    "defectueux": -1.9,
    "defectueuse": -1.9,
    "panne": -1.6,
    "rouille": -1.2,
    "boycott": -1.8,
    "boycottez": -1.8,
    "remboursez": -1.0,  # the demand; not "remboursement", whose absence ("toujours pas de
    # remboursement") VADER's negation would turn into praise
    "clown": -1.5,
    "clowns": -1.8,
    # "lol"/"mdr" mock more than they laugh along; "obtenir" (to get) and "simple" carry
    # no tone in "comment obtenir un remplacement" or "un plaisir simple".
    "lol": None,
    "mdr": None,
    "obtenir": None,
    "simple": None,
    # "concerne" is warm in the French lexicon (a translation of "concerned"?): "le rappel
    # concerne aussi le modèle noir" is a plain question.
    "concerne": None,
    # The French lexicon's "prise" (a plug, a taking) is +2.4 and "nouveau" is negative:
    # "a fait fondre la prise" read as praise, a new product's launch as a complaint.
    "prise": None,
    "nouveau": None,
    # "sur" (on) is +0.4, as if it were "sûr" (sure): "des fuites sur les bouilloires"
    # read as praise ("sûr" itself reads as "sure": sentiment.py). "svp" (please) is +1.3:
    # a demand ("Remboursement svp !") is no praise. "foncez" (go for it) is negative, as
    # if from "foncer" (to darken): a promotion's "foncez !" read as a complaint.
    "sur": None,
    "svp": None,
    "foncez": None,
    "nouvelle": None,
    "nouveaux": None,
    "nouvelles": None,
}

SUPPLEMENTS = {"en": ENGLISH, "fr": FRENCH}


def apply(lexicon: dict, language: str) -> None:
    """Add `language`'s entries to an analyzer's lexicon (word -> valence), in place."""
    for word, valence in SUPPLEMENTS.get(language, {}).items():
        if valence is None:
            lexicon.pop(word, None)
        else:
            lexicon[word] = valence
