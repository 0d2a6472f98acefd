"""Platform length limits and the thread-splitting suggestion for X."""

import re

from .models import CHANNEL_LIMITS, THREADABLE


def normalize(text: str) -> str:
    return (text or "").replace("\r\n", "\n").strip()


def over_limit(text: str, channel: str) -> int:
    """How many characters too long the text is for the channel (0 when it fits)."""
    limit = CHANNEL_LIMITS.get(channel)
    return max(0, len(text) - limit) if limit else 0


def split_thread(text: str, limit: int) -> list[str]:
    """Split on sentence, then word boundaries into posts numbered "(1/3)" that each fit."""
    suffix_room = len(" (99/99)")
    budget = limit - suffix_room
    pieces = re.split(r"(?<=[.!?…])\s+", text.strip())
    words = [w for piece in pieces for w in _fit(piece, budget)]
    posts, current = [], ""
    for piece in words:
        candidate = f"{current} {piece}".strip()
        if len(candidate) <= budget:
            current = candidate
        else:
            posts.append(current)
            current = piece
    if current:
        posts.append(current)
    total = len(posts)
    return [f"{post} ({n}/{total})" for n, post in enumerate(posts, 1)] if total > 1 else posts


def _fit(sentence: str, budget: int) -> list[str]:
    if len(sentence) <= budget:
        return [sentence]
    out, current = [], ""
    for word in sentence.split():
        while len(word) > budget:  # a URL or a very long word: cut it
            out.append(word[:budget])
            word = word[budget:]
        candidate = f"{current} {word}".strip()
        if len(candidate) <= budget:
            current = candidate
        else:
            out.append(current)
            current = word
    if current:
        out.append(current)
    return out


def is_threadable(channel: str) -> bool:
    return channel in THREADABLE
