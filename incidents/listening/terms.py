"""The words of a signal's mentions, in one place: which words count as terms (the signal's
"top terms"), and the incident category those terms suggest when one is declared from it.

Pure functions of their arguments: no database.
"""

import re
from collections.abc import Iterable

from incidents.choices import Category

# A word of at least four characters (a hashtag or a handle kept whole), apostrophes and
# hyphens inside it.
_WORD = re.compile(r"[#@]?\w[\w'\u2019-]{3,}", re.UNICODE)
# French elisions before a vowel: "c'est" is "est", "l'entreprise" is "entreprise".
_ELISION = re.compile(r"^(?:c|d|j|l|m|n|s|t|qu|jusqu|lorsqu|puisqu)['\u2019]", re.UNICODE)
MIN_LENGTH = 4

# Words that say nothing about what a wave is about, English and French: function words,
# auxiliaries, numbers and fillers (all of at least MIN_LENGTH letters: shorter ones are
# never terms). One list: top terms and the category guess both read through `words`.
STOPWORDS = frozenset(
    [
        "this",
        "that",
        "these",
        "those",
        "with",
        "have",
        "has",
        "had",
        "having",
        "from",
        "they",
        "them",
        "their",
        "theirs",
        "there",
        "here",
        "what",
        "when",
        "where",
        "which",
        "while",
        "your",
        "yours",
        "about",
        "will",
        "would",
        "were",
        "been",
        "being",
        "just",
        "like",
        "more",
        "most",
        "very",
        "some",
        "such",
        "into",
        "onto",
        "over",
        "under",
        "than",
        "then",
        "also",
        "only",
        "even",
        "still",
        "really",
        "much",
        "many",
        "other",
        "others",
        "because",
        "could",
        "should",
        "after",
        "before",
        "again",
        "ever",
        "every",
        "same",
        "each",
        "both",
        "does",
        "doing",
        "done",
        "make",
        "made",
        "said",
        "says",
        "going",
        "gonna",
        "wanna",
        "anyone",
        "someone",
        "something",
        "nothing",
        "everything",
        "thing",
        "things",
        "today",
        "yesterday",
        "tomorrow",
        "yeah",
        "okay",
        "please",
        "thanks",
        "three",
        "four",
        "five",
        "seven",
        "eight",
        "nine",
        "eleven",
        "twelve",
        "twenty",
        "thirty",
        "forty",
        "fifty",
        "hundred",
        "thousand",
        "first",
        "second",
        "third",
        "mine",
        "yours",
        "ours",
        "pour",
        "dans",
        "avec",
        "sont",
        "mais",
        "plus",
        "tout",
        "tous",
        "toute",
        "toutes",
        "nous",
        "vous",
        "leur",
        "leurs",
        "cette",
        "comme",
        "elle",
        "elles",
        "être",
        "fait",
        "faire",
        "encore",
        "aussi",
        "même",
        "quand",
        "alors",
        "donc",
        "chez",
        "sans",
        "sous",
        "avoir",
        "avez",
        "avons",
        "avais",
        "avait",
        "avaient",
        "aurait",
        "devient",
        "deviennent",
        "etait",
        "était",
        "étaient",
        "sera",
        "serait",
        "suis",
        "sommes",
        "êtes",
        "ceux",
        "celle",
        "celles",
        "cela",
        "ceci",
        "celui",
        "rien",
        "très",
        "trop",
        "peu",
        "déjà",
        "après",
        "avant",
        "depuis",
        "entre",
        "votre",
        "notre",
        "vos",
        "nos",
        "mon",
        "ton",
        "son",
        "parce",
        "pourquoi",
        "comment",
        "quoi",
        "quel",
        "quelle",
        "quels",
        "quelles",
        "dont",
        "puis",
        "voilà",
        "voici",
        "juste",
        "vraiment",
        "bien",
        "fois",
        "jour",
        "jours",
        "hier",
        "demain",
        "aujourd'hui",
        "trois",
        "quatre",
        "cinq",
        "sept",
        "huit",
        "neuf",
        "onze",
        "douze",
        "vingt",
        "trente",
        "quarante",
        "cinquante",
        "cent",
        "mille",
        "premier",
        "première",
        "deux",
        "bout",
        "mine",
        "truc",
        "machin",
        "genre",
        "enfin",
        "bref",
        "quoique",
        "ainsi",
        "autre",
        "autres",
        "chaque",
        "aucun",
        "aucune",
    ]
)


def words(text: str) -> set[str]:
    """The distinct terms of a text: folded, French elisions stripped, stop words and words
    under MIN_LENGTH characters left out ("c'est", "trois", "bout" are not terms)."""
    found = set()
    for raw in _WORD.findall(text):
        word = _ELISION.sub("", raw.casefold()).strip("'\u2019-")
        if len(word.lstrip("#@")) >= MIN_LENGTH and word not in STOPWORDS:
            found.add(word)
    return found


# The category declaring from a signal suggests: the first whose words are among the
# signal's top terms (a word of five letters or more also counts the words it starts:
# "rappel", "rappelé"), else Brand. A guess the
# declarer sees and changes; the detector itself knows nothing of categories.
CATEGORY_WORDS = (
    (
        Category.PRODUCT,
        "produit product defect défaut défectueux cassé broken cracked fendu fissuré recall "
        "rappel danger brûlure burns burned fuite leak explose exploded melting melted "
        "fondu toxique toxic",
    ),
    (
        Category.SERVICE,
        "livraison delivery delivered commande order service client customer support "
        "remboursement refund attente waiting retard annulé cancelled panne outage",
    ),
    (Category.RUMOUR, "rumeur rumour rumor fake faux fausse hoax intox complot canular"),
)


def _says(term: str, word: str) -> bool:
    return term == word or (len(word) >= 5 and term.startswith(word))


def guess_category(terms: Iterable[str]) -> str:
    """The category (a Category value) a signal's top terms suggest."""
    terms = [term.lstrip("#@") for term in terms]
    for category, vocabulary in CATEGORY_WORDS:
        if any(_says(term, word) for term in terms for word in vocabulary.split()):
            return category
    return Category.BRAND
