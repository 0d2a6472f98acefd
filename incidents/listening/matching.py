"""Which watches a post matches: the watches' terms compiled once into one regular
expression per watch, run over the post's text folded to lower case without accents.

A keyword or phrase matches on word boundaries ("dior" does not match "adorable"), a
hashtag as `#tag`, a handle when the brand's account wrote the post or the post names it
(`@handle`). An exclusion that matches vetoes the watch. A watch restricted to languages
or platforms skips the others; a post whose language is unknown is not skipped.
"""

import re
import unicodedata
from dataclasses import dataclass

_MARKS = re.compile("[\u0300-\u036f]")


def fold(text: str) -> str:
    """Lower case without accents: "Élysée" -> "elysee"."""
    return _MARKS.sub("", unicodedata.normalize("NFKD", text.casefold()))


def clean_terms(values, *, prefix: str = "") -> list[str]:
    """Terms as stored: stripped, without the `#`/`@` a person may type, deduplicated."""
    seen, terms = set(), []
    for value in values:
        term = " ".join(str(value).split())
        term = term.lstrip(prefix) if prefix else term
        if term and fold(term) not in seen:
            seen.add(fold(term))
            terms.append(term)
    return terms


def _alternation(patterns: list[str]) -> re.Pattern | None:
    if not patterns:
        return None
    # Longest first, so a phrase wins over the word it starts with.
    return re.compile("|".join(sorted(patterns, key=len, reverse=True)))


def _word(term: str) -> str:
    # Spaces in a phrase match any run of spaces in the post.
    body = r"\s+".join(re.escape(part) for part in fold(term).split())
    return rf"(?<![\w#@]){body}(?!\w)"


@dataclass(frozen=True)
class _Compiled:
    watch_id: int
    include: re.Pattern | None
    exclude: re.Pattern | None
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
        handles = [fold(h) for h in clean_terms(watch.handles, prefix="@")]
        include = [_word(term) for term in clean_terms(watch.keywords)]
        hashtags = clean_terms(watch.hashtags, prefix="#")
        include += [rf"#{re.escape(fold(tag))}(?!\w)" for tag in hashtags]
        include += [rf"(?<![\w@])@{re.escape(handle)}(?![\w.])" for handle in handles]
        return _Compiled(
            watch_id=watch.id,
            include=_alternation(include),
            exclude=_alternation([_word(term) for term in clean_terms(watch.exclusions)]),
            handles=frozenset(handles),
            languages=frozenset(watch.languages),
            platforms=frozenset(watch.platforms),
        )

    def match(self, *, text: str, platform: str, language: str = "", author: str = "") -> list[int]:
        folded = fold(text)
        author = fold(author.lstrip("@"))
        matched = []
        for watch in self._watches:
            if watch.platforms and platform not in watch.platforms:
                continue
            if watch.languages and language and language not in watch.languages:
                continue
            hit = (author and author in watch.handles) or (
                watch.include is not None and watch.include.search(folded)
            )
            if hit and not (watch.exclude is not None and watch.exclude.search(folded)):
                matched.append(watch.watch_id)
        return matched
