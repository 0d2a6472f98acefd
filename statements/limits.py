"""Platform length limits, counted the way each platform counts, and the thread-splitting
suggestion for X. One rule: the actions, the statement page, the playbook preview and the
editor's live counter (which asks `statement-length`) all count here.

X counts after Unicode NFC with its published weighting (twitter-text configuration v3,
through `twitter-text-parser`, the Python port of X's own library): most CJK characters and
emoji count 2, every URL counts 23 whatever its length. Mastodon counts grapheme clusters
(what a reader sees as one character: an emoji with its skin tone or a family joined by
ZWJ is 1) after replacing each http(s) URL by 23 characters and each remote mention
`@user@instance` by `@user` (its StatusLengthValidator). Bluesky counts grapheme clusters
(its 300-grapheme limit). The other channels count characters (after NFC).
"""

import hashlib
import math
import re
import threading
import unicodedata

from twitter_text import extract_urls_with_indices, parse_tweet

from incidents.text import nfc

from .models import CHANNEL_LIMITS, THREADABLE, Channel

_WEIGHTED = {Channel.X}
_URL = re.compile(r"https?://\S+", re.IGNORECASE)


def normalize(text: str) -> str:
    """The text as stored and counted: NFC, "\\n" line endings, stripped."""
    return nfc(text)


def length(text: str, channel: str) -> int:
    """The text's length as the channel counts it. X's weighted count (twitter-text, the
    dear part of a statements list) is cached per text digest (only X weighs): it depends on
    nothing else."""
    text = normalize(text)
    if channel in _WEIGHTED:
        return _weighted_length(hashlib.blake2b(text.encode()).digest(), text)
    if channel == Channel.MASTODON:
        return graphemes(_mastodon_countable(text))
    if channel == Channel.BLUESKY:
        return graphemes(text)
    return len(text)


# Mastodon: an URL counts 23 whatever its length; a remote mention counts its local part.
MASTODON_URL_LENGTH = 23
_MASTODON_MENTION = re.compile(
    r"(?<![=/\w])@(([a-z0-9_]+(?:[a-z0-9_.-]+[a-z0-9_]+)?)(?:@[\w.-]+\w)?)", re.IGNORECASE
)


def _mastodon_countable(text: str) -> str:
    """The text as Mastodon counts it: each URL with a protocol (found the way Mastodon
    finds them, with twitter-text's extractor) as 23 characters, `@user@domain` as
    `@user`."""
    pieces, last = [], 0
    for found in extract_urls_with_indices(text):
        start, end = found["indices"]
        if not found["url"].lower().startswith(("http://", "https://")):
            continue
        pieces += [text[last:start], "x" * MASTODON_URL_LENGTH]
        last = end
    pieces.append(text[last:])
    return _MASTODON_MENTION.sub(lambda m: "@" + m.group(2), "".join(pieces))


def _is_extend(cp: int, ch: str) -> bool:
    """Joins the character before it (UAX #29 Extend, SpacingMark, ZWJ): combining marks,
    variation selectors, emoji skin tones, tag characters, the zero-width joiner."""
    return (
        unicodedata.category(ch) in ("Mn", "Me", "Mc")
        or cp == 0x200D
        or 0x1F3FB <= cp <= 0x1F3FF
        or 0xE0020 <= cp <= 0xE007F
    )


def _pictographic(cp: int, ch: str) -> bool:
    return cp >= 0x2000 and unicodedata.category(ch) == "So"


def _hangul(cp: int) -> str:
    if 0x1100 <= cp <= 0x115F:
        return "L"
    if 0x1160 <= cp <= 0x11A7:
        return "V"
    if 0x11A8 <= cp <= 0x11FF:
        return "T"
    if 0xAC00 <= cp <= 0xD7A3:
        return "LV" if (cp - 0xAC00) % 28 == 0 else "LVT"
    return ""


_HANGUL_JOINS = {
    ("L", "L"), ("L", "V"), ("L", "LV"), ("L", "LVT"),
    ("LV", "V"), ("LV", "T"), ("V", "V"), ("V", "T"), ("LVT", "T"), ("T", "T"),
}  # fmt: skip


def graphemes(text: str) -> int:
    """How many grapheme clusters the text holds, by the rules of UAX #29 that matter for
    a post: combining marks and variation selectors, emoji modifiers and ZWJ sequences,
    flags (regional indicator pairs), tag sequences, Hangul jamo. Without a dependency:
    the standard library has no grapheme segmentation."""
    count = 0
    prev_cp, prev_ch = -1, ""
    after_zwj_pictographic = False  # the previous cluster is a pictograph then a ZWJ
    regional_run = 0
    for ch in text:
        cp = ord(ch)
        regional = 0x1F1E6 <= cp <= 0x1F1FF
        joins = count > 0 and (
            _is_extend(cp, ch)
            or (after_zwj_pictographic and _pictographic(cp, ch))
            or (regional and regional_run % 2 == 1)
            or (_hangul(prev_cp), _hangul(cp)) in _HANGUL_JOINS
        )
        if not joins:
            count += 1
        after_zwj_pictographic = cp == 0x200D and (
            _pictographic(prev_cp, prev_ch)
            or after_zwj_pictographic
            or _is_extend(prev_cp, prev_ch)
        )
        regional_run = regional_run + 1 if regional else 0
        prev_cp, prev_ch = cp, ch
    return count


# Keyed on the text's digest, not the text: texts of up to 50,000 characters would keep
# megabytes alive. Bounded: the oldest goes first once full.
_lengths: dict[bytes, int] = {}
_LENGTHS_MAX = 4096
_evicting = threading.Lock()


def _weighted_length(digest: bytes, text: str) -> int:
    found = _lengths.get(digest)
    if found is None:
        found = parse_tweet(text).weightedLength
        with _evicting:  # request threads share it
            if len(_lengths) >= _LENGTHS_MAX:
                _lengths.pop(next(iter(_lengths)), None)  # the oldest: bounded, FIFO
            _lengths[digest] = found
    return found


def over_limit(text: str, channel: str) -> int:
    """How much too long the text is for the channel, as it counts (0 when it fits)."""
    limit = CHANNEL_LIMITS.get(channel)
    return max(0, length(text, channel) - limit) if limit else 0


def is_threadable(channel: str) -> bool:
    return channel in THREADABLE


def split_thread(text: str, limit: int, channel: str = Channel.X) -> list[str]:
    """Split into posts numbered "(1/3)" that each fit in `limit` as `channel` counts,
    cutting between sentences when possible, then between words, and inside a word only
    when it is longer than a post; never inside a URL. The room kept for the numbering
    grows with the number of posts (" (12/120)")."""

    def size(piece: str) -> int:
        return length(piece, channel)

    # Every post holds at most `limit`, so there are at least size/limit of them: start
    # with that many digits rather than packing the whole text again for each digit.
    digits = len(str(max(1, math.ceil(size(normalize(text)) / limit))))
    while True:
        budget = limit - len(f" ({'9' * digits}/{'9' * digits})")
        posts = _pack(normalize(text), budget, size)
        if len(str(len(posts))) <= digits:
            break
        digits += 1
    total = len(posts)
    if total <= 1:
        return posts
    return [f"{post} ({n}/{total})" for n, post in enumerate(posts, 1)]


def _pack(text: str, budget: int, size) -> list[str]:
    sentences = re.split(r"(?<=[.!?…])\s+", text)
    pieces = [piece for sentence in sentences for piece in _fit(sentence, budget, size)]
    posts, current = [], ""
    for piece in pieces:
        candidate = f"{current} {piece}".strip()
        if size(candidate) <= budget:
            current = candidate
        else:
            if current:
                posts.append(current)
            current = piece
    if current:
        posts.append(current)
    return posts


def _fit(sentence: str, budget: int, size) -> list[str]:
    """A sentence as pieces that fit `budget`, in order. A URL is never cut (it counts the
    same whatever its length); any other word longer than a post is."""
    if size(sentence) <= budget:
        return [sentence]
    out, current = [], ""
    for word in sentence.split():
        if size(word) > budget and not _URL.fullmatch(word):
            if current:
                out.append(current)
            chunks = _cut(word, budget, size)
            out.extend(chunks[:-1])
            current = chunks[-1]
            continue
        candidate = f"{current} {word}".strip()
        if size(candidate) <= budget:
            current = candidate
        else:
            if current:
                out.append(current)
            current = word
    if current:
        out.append(current)
    return out


def _cut(word: str, budget: int, size) -> list[str]:
    """A word longer than a post, in the longest pieces that fit."""
    chunks, current = [], ""
    for ch in word:
        if current and size(current + ch) > budget:
            chunks.append(current)
            current = ch
        else:
            current += ch
    chunks.append(current)
    return chunks
