"""Platform length limits and the thread-splitting suggestion for X."""

import re

from .models import CHANNEL_LIMITS, THREADABLE


def normalize(text: str) -> str:
    return (text or "").replace("\r\n", "\n").strip()


def over_limit(text: str, channel: str) -> int:
    """How many characters too long the text is for the channel (0 when it fits)."""
    limit = CHANNEL_LIMITS.get(channel)
    return max(0, len(text) - limit) if limit else 0


def is_threadable(channel: str) -> bool:
    return channel in THREADABLE


def split_thread(text: str, limit: int) -> list[str]:
    """Split into posts numbered "(1/3)" that each fit in `limit`, cutting between sentences
    when possible, then between words, and inside a word only when it is longer than a post.
    The room kept for the numbering grows with the number of posts (" (12/120)")."""
    digits = 1
    while True:
        budget = limit - len(f" ({'9' * digits}/{'9' * digits})")
        posts = _pack(text.strip(), budget)
        if len(str(len(posts))) <= digits:
            break
        digits += 1
    total = len(posts)
    if total <= 1:
        return posts
    return [f"{post} ({n}/{total})" for n, post in enumerate(posts, 1)]


def _pack(text: str, budget: int) -> list[str]:
    sentences = re.split(r"(?<=[.!?…])\s+", text)
    pieces = [piece for sentence in sentences for piece in _fit(sentence, budget)]
    posts, current = [], ""
    for piece in pieces:
        candidate = f"{current} {piece}".strip()
        if len(candidate) <= budget:
            current = candidate
        else:
            posts.append(current)
            current = piece
    if current:
        posts.append(current)
    return posts


def _fit(sentence: str, budget: int) -> list[str]:
    """A sentence as pieces no longer than `budget`, in order."""
    if len(sentence) <= budget:
        return [sentence]
    out, current = [], ""
    for word in sentence.split():
        if len(word) > budget:  # a URL or a very long word: cut it, keeping the order
            if current:
                out.append(current)
            chunks = [word[i : i + budget] for i in range(0, len(word), budget)]
            out.extend(chunks[:-1])
            current = chunks[-1]
            continue
        candidate = f"{current} {word}".strip()
        if len(candidate) <= budget:
            current = candidate
        else:
            out.append(current)
            current = word
    if current:
        out.append(current)
    return out
