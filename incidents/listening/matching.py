"""Which watches a post matches: the post is folded (lower case, no accents) and cut into
tokens once; each watch's terms were cut the same way when the matcher was built, so
matching is set lookups, whatever the number of terms.

A keyword or phrase matches whole words in order ("dior" does not match "adorable", "maison
lumière" matches "Maison  Lumière" and "maison, lumière"), a hashtag as `#tag`, a handle
when the brand's account wrote the post or the post names it (`@handle`). An exclusion that
matches vetoes the watch. A watch restricted to languages or platforms skips the others; a
post whose language is unknown is not skipped.
"""

import re
import unicodedata
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator

_MARKS = re.compile("[\u0300-\u036f]")
# Characters that show nothing (zero-width spaces and joiners, soft hyphens, byte order
# marks, variation selectors, fillers, tags, invisible operators) or turn the text's
# direction (bidirectional marks, embeddings, overrides, isolates): a post holding them
# reads as the word without them ("boy\u200bcott" is "boycott"), so folding drops them. A
# watch's name or term may not hold them (hidden_characters), but for the joiners that
# Persian, Indic scripts and emoji need (ZWNJ, ZWJ: dropped alike on both sides).
_INVISIBLE = re.compile(
    "[\u00ad\u034f\u0600-\u0605\u061c\u06dd\u070f\u08e2\u115f\u1160\u17b4\u17b5"
    "\u180b-\u180f\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\u3164"
    "\ufe00-\ufe0f\ufeff\uffa0\ufff9-\ufffb\U000110bd\U000110cd\U00013430-\U0001343f"
    "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f"
    "\U000e0100-\U000e01ef]"
)
_JOINERS = frozenset("\u200c\u200d")
# Unicode categories refused in a watch's names and terms besides _INVISIBLE: control
# characters (Cc), format characters (Cf), lone surrogates (Cs: no database stores them).
HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs"})
# Alphabets whose letters look alike, and the letters of each that look like another's
# (Cyrillic and Greek capitals and small letters drawn as Latin ones, the Latin letters
# drawn as theirs): a word of one alphabet holding such a letter of another is a classic
# spoof ("Maison" whose M is the Cyrillic U+041C), never a brand's spelling; a letter that
# looks like no Latin one is a real use (the Greek μ of "µm", Δ of "ΔT", Ω of "10kΩ").
LOOKALIKE_SCRIPTS = ("LATIN", "CYRILLIC", "GREEK")
_LOOKALIKES = frozenset(
    "АВЕЅІЈКМНОРСТУХЁЇаеѕіјорсуххёїԁԛԝһӏүҮԌԍ"  # Cyrillic
    "ΑΒΕΖΗΙΚΜΝΟΡΤΥΧϜαικνορυχϲϳ"  # Greek
    "ABCEHIJKMNOPSTXYZabceijopsuvxy"  # Latin, looking like Cyrillic or Greek ones
)
# A handle may hold dots and dashes (maisonlumiere.bsky.social), never end with one.
_TOKENS = re.compile(r"@\w(?:[\w.\-]*\w)?|#\w+|\w+")
# Phrases longer than this many words are cut there (a keyword is a few words).
MAX_PHRASE_WORDS = 6


def fold(text: str) -> str:
    """Lower case without accents: "Élysée" -> "elysee", "Œuvre" -> "oeuvre"; compatibility
    forms as their plain letters (a full-width or mathematical bold "KX200" is "kx200":
    NFKD before the case is folded, else a bold "B" would stay "B"), invisible characters
    dropped. The one rule of the watches' terms, the posts they are matched against and
    the search box."""
    if text.isascii():
        return text.lower()
    # Unicode's compatibility caseless match: NFKD, case folded, NFKD again.
    text = unicodedata.normalize("NFKD", text).casefold()
    # œ and æ: no decomposition takes them apart, and "cœur" is written "coeur" as often.
    text = _INVISIBLE.sub("", text.replace("œ", "oe").replace("æ", "ae"))
    return _MARKS.sub("", unicodedata.normalize("NFKD", text))


def compatible(text: str) -> str:
    """`text` with its compatibility forms as their plain characters (NFKC: full-width
    letters and signs as their plain ones), its accents kept: a term as stored and shown."""
    return text if text.isascii() else unicodedata.normalize("NFKC", text)


def _hidden(char: str) -> bool:
    return char not in _JOINERS and (
        unicodedata.category(char) in HIDDEN_CATEGORIES or bool(_INVISIBLE.match(char))
    )


def hidden_characters(text: str) -> list[str]:
    """The characters of `text` that show nothing or turn its direction (a zero-width
    space, a right-to-left override, a variation selector, a control character; not the
    joiners ZWNJ and ZWJ), each once."""
    if text.isascii() and text.isprintable():
        return []
    return list(dict.fromkeys(char for char in text if _hidden(char)))


def visible(text: str) -> str:
    """`text` with each hidden character written as its code ("boy⟨U+200B⟩cott"): how a
    message quotes a refused text without hiding or turning the sentence around it."""
    if not hidden_characters(text):
        return text
    return "".join(f"⟨U+{ord(char):04X}⟩" if _hidden(char) else char for char in text)


def _script(char: str) -> str | None:
    name = unicodedata.name(char, "")
    script = name.split(" ", 1)[0]
    return script if script in LOOKALIKE_SCRIPTS else None


def mixed_script_word(text: str) -> tuple[str, list[tuple[str, str]]] | None:
    """The first word of `text` whose letters are of one of LOOKALIKE_SCRIPTS but for
    some that look like its own letters and are of another (a Cyrillic U+041C for the M of
    "Maison"),
    as (the word, [(letter, its script: "CYRILLIC", "GREEK" or "LATIN")]), or None. Read as
    the matcher reads it: compatibility forms as plain letters, accents and invisible
    characters left out (an invisible mark between two letters does not split a word)."""
    if text.isascii():
        return None
    plain = unicodedata.normalize("NFD", unicodedata.normalize("NFKC", _INVISIBLE.sub("", text)))
    plain = "".join(char for char in plain if not unicodedata.combining(char))
    for word in re.findall(r"\w+", plain):
        scripts = [(char, _script(char)) for char in word if char.isalpha()]
        counts = {}
        for _char, script in scripts:
            if script:
                counts[script] = counts.get(script, 0) + 1
        if len(counts) < 2:
            continue
        # The word's alphabet is the one most of its letters are in (Latin on a tie).
        main = max(counts, key=lambda script: (counts[script], script == "LATIN"))
        odd = [
            (char, script)
            for char, script in scripts
            if script and script != main and char in _LOOKALIKES
        ]
        if odd:
            return word, list(dict.fromkeys(odd))
    return None


def fold_with_offsets(text: str) -> tuple[str, list[int]]:
    """fold(text) and, for each of its characters, the index in `text` of the character it
    comes from (folding maps each character on its own: "Œ" -> "oe" from one, an accent's
    combining mark -> nothing)."""
    if text.isascii():
        return text.lower(), list(range(len(text)))
    pieces, offsets = [], []
    for index, char in enumerate(text):
        piece = fold(char)
        pieces.append(piece)
        offsets.extend([index] * len(piece))
    return "".join(pieces), offsets


def clean_terms(values, *, prefix: str = "") -> list[str]:
    """Terms as stored: compatibility forms as their plain characters (compatible: a
    full-width "#KX" is the plain "#KX"), stripped, without the `#`/`@` a person may type,
    deduplicated."""
    seen, terms = set(), []
    for value in values:
        term = " ".join(compatible(str(value)).split())
        term = term.lstrip(prefix) if prefix else term
        if term and fold(term) not in seen:
            seen.add(fold(term))
            terms.append(term)
    return terms


def term_words(term: str) -> list[str]:
    """A term's words, folded: "L'Oréal  Paris" -> ["l", "oreal", "paris"]."""
    return re.findall(r"\w+", fold(term))


def is_findable(term: str, prefix: str) -> bool:
    """Whether a hashtag (`prefix` "#") or handle ("@"), as clean_terms stores it, can
    match: a hashtag is one token of a post (post_terms reads "#kx-200" as "#kx"); a handle
    is a post's author ("user@instance" on Mastodon) or one token, never two words."""
    if prefix == "@":
        return not any(char.isspace() for char in term)
    return _TOKENS.fullmatch(prefix + fold(term)) is not None


def phrase(term: str) -> str:
    """A keyword as the post's word sequence it must equal: "L'Oréal  Paris" -> "l oreal paris"
    (its first MAX_PHRASE_WORDS words: actions.clean_watch refuses longer keywords)."""
    return " ".join(term_words(term)[:MAX_PHRASE_WORDS])


def post_terms(text: str) -> set[str]:
    """Everything a watch term can equal in `text`: each run of 1..MAX_PHRASE_WORDS
    consecutive words, and each #hashtag and @handle."""
    found = set()
    words = []
    for token in _TOKENS.findall(fold(text)):
        if token[0] in "#@":
            found.add(token)
        else:
            words.append(token)
    found.update(words)
    for size in range(2, MAX_PHRASE_WORDS + 1):
        for start in range(len(words) - size + 1):
            found.add(" ".join(words[start : start + size]))
    return found


@dataclass(frozen=True)
class _Compiled:
    watch_id: int
    include: frozenset
    exclude: frozenset
    handles: frozenset
    languages: frozenset
    platforms: frozenset


class Matcher:
    """Built from watches (objects with id, keywords, exclusions, hashtags, handles,
    languages, platforms); `match(...)` returns the ids of the watches a post matches."""

    def __init__(self, watches):
        self._watches = [self._compile(watch) for watch in watches]

    @staticmethod
    def _compile(watch) -> _Compiled:
        handles = {fold(h) for h in clean_terms(watch.handles, prefix="@")}
        include = {phrase(term) for term in clean_terms(watch.keywords)}
        include |= {"#" + fold(tag) for tag in clean_terms(watch.hashtags, prefix="#")}
        include |= {"@" + handle for handle in handles}
        include.discard("")
        exclude = {phrase(term) for term in clean_terms(watch.exclusions)} - {""}
        return _Compiled(
            watch_id=watch.id,
            include=frozenset(include),
            exclude=frozenset(exclude),
            handles=frozenset(handles),
            languages=frozenset(watch.languages),
            platforms=frozenset(watch.platforms),
        )

    def match(self, *, text: str, platform: str, language="", author: str = "") -> list[int]:
        """The ids of the watches the post matches. `language`: the post's language code
        ("" unknown: it passes every watch's languages), or a function returning it, called
        only when a watch naming languages matches the post otherwise (the import's
        preview detects languages only where they decide)."""
        terms = None
        author = fold(author.lstrip("@"))
        matched = []
        for watch in self._watches:
            if watch.platforms and platform not in watch.platforms:
                continue
            if terms is None:
                terms = post_terms(text)
            hit = (author and author in watch.handles) or not watch.include.isdisjoint(terms)
            if not hit or not watch.exclude.isdisjoint(terms):
                continue
            if watch.languages:
                if callable(language):
                    language = language()
                if language and language not in watch.languages:
                    continue
            matched.append(watch.watch_id)
        return matched


# The stream's search box takes at most MAX_SEARCH characters and reads MAX_SEARCH_TERMS
# terms of them (words, "phrases", exclusions; an OR joins two into one).
MAX_SEARCH = 200
MAX_SEARCH_TERMS = 8

# A query's tokens: "a phrase" (closed or not), or a run of anything but spaces; either
# may start with "-" (an exclusion).
_QUERY_TOKENS = re.compile(r'(-?)"([^"]*)"?|(\S+)')
# Where a folded word switches between letters and digits: "kx200" is "kx" then "200".
_LETTERS_DIGITS = re.compile(r"\d+|[^\W\d]+")


@dataclass(frozen=True)
class _Term:
    first: str  # its first letters or digits: a substring test before the pattern
    pattern: re.Pattern


def _term(text: str, *, phrase: bool) -> _Term | None:
    """A word typed (or a "phrase") as a pattern on folded text: it begins a word of the
    post, its words in order. Within a word, and between the words of one unquoted token
    ("kx-200", "l'oréal"), any punctuation or none ("KX200", "KX-200", "kx 200",
    "L'Oréal", "Loreal"); between a phrase's words, at least a space or a sign. A run of
    digits begins where letters end ("200" finds "KX200")."""
    words = [_LETTERS_DIGITS.findall(word) for word in re.findall(r"\w+", fold(text))]
    words = [pieces for pieces in words if pieces]
    if not words:
        return None
    between = r"\W+" if phrase else r"\W*"
    body = between.join(r"\W*".join(re.escape(piece) for piece in pieces) for pieces in words)
    first = words[0][0]
    start = r"(?<!\d)" if first[0].isdigit() else r"(?<![^\W\d_])"  # not inside a word
    return _Term(first, re.compile(start + body))


def search_refused(query: str) -> str | None:
    """Why a typed search is not applied: longer than MAX_SEARCH characters (Django's
    length message, as the Listening page's field says it), or None. A shared address can
    carry what the box's maxlength never lets anyone type."""
    try:
        MaxLengthValidator(MAX_SEARCH)(query)
    except ValidationError as error:
        return error.messages[0]
    return None


class TextSearch:
    """The mention stream's search box, folded as the watches' terms are: each word typed
    must begin a word of the post, its author's handle or name, in any order ("rembours
    colis" finds "Colis jamais arrivé, pas de remboursement"; "ecoclean" finds
    "#EcoClean"; "kx200" finds "KX-200"). "a phrase" keeps its words together and in
    order, `-word` excludes the posts that have it, `lid OR couvercle` takes either.
    At most MAX_SEARCH_TERMS terms (`truncated` says when more were typed). Falsy when
    nothing searchable was typed."""

    def __init__(self, query: str):
        self._clauses: list[list[_Term]] = []  # all of them, each one of its terms
        self._exclusions: list[_Term] = []  # none of them
        self.truncated = False
        either = last_positive = False
        for minus, quoted, bare in _QUERY_TOKENS.findall(query):
            if bare == "OR":
                either = last_positive
                continue
            negative = bool(minus) or (bare.startswith("-") and len(bare) > 1)
            term = _term(
                quoted or bare.removeprefix("-") if negative else quoted or bare, phrase=not bare
            )
            if term is None:
                either = False
                continue
            if len(self._exclusions) + sum(map(len, self._clauses)) == MAX_SEARCH_TERMS:
                self.truncated = True
                break
            if negative:
                self._exclusions.append(term)
            elif either:
                self._clauses[-1].append(term)
            else:
                self._clauses.append([term])
            either, last_positive = False, not negative

    def __bool__(self) -> bool:
        return bool(self._clauses or self._exclusions)

    def matches(self, *texts: str) -> bool:
        folded = fold(" ".join(texts))

        def found(term):  # a plain substring test first: 30x cheaper, and mostly false
            return term.first in folded and term.pattern.search(folded) is not None

        return all(any(found(t) for t in clause) for clause in self._clauses) and not any(
            found(t) for t in self._exclusions
        )

    def spans(self, text: str) -> list[tuple[int, int]]:
        """Where the terms searched for occur in `text` (not the excluded ones), as
        (start, end) indices of `text`, in order, not overlapping: what a page marks. A
        term begins a word, so the mark runs to the word's end ("rembours" marks
        "remboursement"), with the accents written after its last letter."""
        folded, offsets = fold_with_offsets(text)
        found = []
        for term in (term for clause in self._clauses for term in clause):
            if term.first in folded:
                found.extend(
                    (offsets[m.start()], offsets[m.end() - 1] + 1)
                    for m in term.pattern.finditer(folded)
                    if m.end() > m.start()
                )
        merged: list[tuple[int, int]] = []
        for start, end in sorted(found):
            while end < len(text) and (text[end].isalnum() or unicodedata.combining(text[end])):
                end += 1
            if merged and start <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
            else:
                merged.append((start, end))
        return merged
