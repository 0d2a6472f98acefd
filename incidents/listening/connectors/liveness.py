"""How a collector says it is alive, and when the Listening page takes it for stopped: one
rule for the writer (the collectors, `common.Collector.heartbeat`) and the reader
(`selectors.source_problems`). Settings and the model's
limits only: the page imports it without the collectors.

Every collector writes its `CollectorState` rows (by the names below) at least every
HEARTBEAT_SECONDS, idle or not, matching posts or not: when it starts (before any request,
so that a configured source without a row was never in the configuration of a collector
that ran), between two sources or two pages of a pass, and while it waits (the interval,
a backoff, a rate limit). A heartbeat is one UPDATE of `updated_at` per source, outside
any transaction: no lock is held while the network is waited on. What may come between
two heartbeats is one request, whose whole answer is bounded (FETCH_READS_IN read
timeouts), and the storing of its posts.
"""

import hashlib
import json
import re
from datetime import timedelta
from urllib.parse import urlsplit

from incidents.models import Platform

from ..models import MAX_URL

# A remote's whole answer (status line, headers and body) must come within this many times
# the timeout of one read: a server that sends a byte now and then restarts each read's
# timeout, and would hold the collector (and every source after it) for as long as it likes.
FETCH_READS_IN = 3

HEARTBEAT_SECONDS = 60.0
# A polling collector is taken for stopped after this many of its passes' intervals, or of
# its heartbeats (and one whole answer), whichever is longer, with no news: a collector run
# from cron (`--once`) should have its interval set to the cron's period.
MISSED = 3
# Jetstream's collector writes its cursor every few seconds while connected, and records
# each failed connection (its backoff is at most two minutes).
JETSTREAM_STALE = timedelta(minutes=5)

BLUESKY_STATE = "bluesky:jetstream"
# The process that collects each kind of source (what an administrator checks).
COMMANDS = {"bluesky": "listen_bluesky", "mastodon": "listen_mastodon", "feed": "listen_feeds"}


# What no address holds and no database column can: a control character (C0, DEL, C1:
# PostgreSQL refuses a NUL in a text, SQLite's json_each cuts a name at it) or a lone
# surrogate (a byte of the environment that is not UTF-8, or a JSON "\udcff"), which no
# database encodes.
_UNSTORABLE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")

# Bad entries a refusal names, one a line; past it, how many more.
MAX_PROBLEMS_SAID = 10


def is_http_url(value) -> bool:
    """Whether a configured address (LISTENING_FEEDS' url, LISTENING_MASTODON's base_url) is
    an http(s) URL: a text without a control character or a lone surrogate (`_UNSTORABLE`),
    that urllib splits ("http://[::1" it cannot) with that scheme. The collectors refuse
    any other, and the Listening page never sends one to the database
    (selectors.source_problems)."""
    if not isinstance(value, str) or _UNSTORABLE.search(value):
        return False
    try:
        return urlsplit(value).scheme in ("http", "https")
    except ValueError:
        return False


def entry_name(setting: str, number: int, count: int) -> str:
    """How a message to the operator names an item of a collector's setting ("LISTENING_FEEDS,
    entry 2 of 3"): counted from 1, as the Listening page counts them ("the feed no. 2 of
    the configuration"), and said in words, since `LISTENING_FEEDS[2]` reads as Python's
    index from 0. The collectors' refusals (feeds.feeds_from, mastodon.instances_from) and
    so the settings check (listening.W001, W002) use it."""
    return f"{setting}, entry {number} of {count}"


def address_problem(item, key: str) -> str | None:
    """What is wrong with the address of a configured source (an item of LISTENING_FEEDS,
    `key` "url", or of LISTENING_MASTODON, "base_url"), as the end of a sentence that
    `entry_name` starts; None when it is an http(s) URL (`is_http_url`). The address is
    never quoted: it may hold a password or a token."""
    if not isinstance(item, dict):
        return f'must be a JSON object with its "{key}", not {_json_kind(item)}'
    value = item.get(key)
    if value is None:
        return f"{key} is missing"
    if isinstance(value, str) and not value.strip():
        return f"{key} is empty"
    if isinstance(value, str) and _UNSTORABLE.search(value):
        return f"{key} holds a control character or a byte that is not UTF-8"
    return None if is_http_url(value) else f"{key} must be an http(s) URL"


def refusal(problems: list[str]) -> str:
    """A collector's refusal of its setting (ValueError of feeds.feeds_from,
    mastodon.instances_from, and so the settings check's warning): the sentence of each bad
    entry, one a line, at most MAX_PROBLEMS_SAID, then how many more."""
    said = problems[:MAX_PROBLEMS_SAID]
    if len(problems) > MAX_PROBLEMS_SAID:
        said.append(f"And {len(problems) - MAX_PROBLEMS_SAID} more entries with a problem.")
    return "\n".join(said)


def unknown_keys(config, setting: str, known: tuple[str, ...]) -> list[str]:
    """A sentence for each object of a collector's setting (a list) with keys its collector
    does not read (a misspelled "platfrom" would leave the default): the entry
    (`entry_name`) and its unknown keys, quoted (a key is not secret), each in at most
    MAX_KEY_SHOWN characters; every such entry (`refusal` bounds what is said). The
    collector logs them and runs; the settings check warns (listening.W003)."""
    if not isinstance(config, list):
        return []
    found = []
    for number, item in enumerate(config, start=1):
        if not isinstance(item, dict):
            continue
        unknown = [_key_shown(key) for key in item if key not in known]
        if unknown:
            found.append(
                f"{entry_name(setting, number, len(config))}: unknown "
                f"{'key' if len(unknown) == 1 else 'keys'} {', '.join(unknown)}, ignored "
                f"(it reads {', '.join(known)})."
            )
    return found


MAX_KEY_SHOWN = 40


def _key_shown(key: str) -> str:
    """A key as JSON writes it (quoted, a control character or a lone surrogate escaped),
    cut to MAX_KEY_SHOWN characters."""
    shown = json.dumps(key)
    return shown if len(shown) <= MAX_KEY_SHOWN else f'{shown[: MAX_KEY_SHOWN - 2]}…"'


def _json_kind(value) -> str:
    """What a JSON value is, in words ("a list", "a text"...)."""
    kinds = ((bool, "true or false"), (str, "a text"), (int | float, "a number"),
             (list, "a list"), (dict, "an object"))  # fmt: skip
    if value is None:
        return "null"
    return next((kind for type_, kind in kinds if isinstance(value, type_)), "a value")


def feed_platform(item: dict) -> str | None:
    """The platform of a configured feed's posts (an item of LISTENING_FEEDS): its
    "platform", a Platform value, press when it gives none (absent, null or ""); None
    when it is anything else (not a string, or not one of Platform's values, "PRESS" or
    "tiktokk"). One rule for the collector, which refuses such a setting (feeds.feeds_from),
    and the pages, which say the feed's posts may be missing without naming a platform
    (selectors.source_problems: it collects nothing, and its posts could be of any one)."""
    value = item.get("platform")
    if value is None or value == "":
        return Platform.PRESS
    return value if isinstance(value, str) and value in Platform.values else None


def feed_state(url: str) -> str:
    """The `CollectorState` name of a feed (`bounded_name`)."""
    return bounded_name(f"feed:{url}")


def instance_state(base_url: str) -> str:
    """The `CollectorState` name of a Mastodon instance (its address without a final /;
    `bounded_name`)."""
    return bounded_name(f"mastodon:{base_url.rstrip('/')}")


def bounded_name(name: str) -> str:
    """A source's name within what `CollectorState.name` holds (MAX_URL): one too long is
    its start and a SHA-256 of the whole, the same every time, so the collector writes and
    the page reads the same row (a longer address is collected, not refused)."""
    return name if len(name) <= MAX_URL else shortened(name, MAX_URL)


def shortened(value: str, limit: int) -> str:
    """`value` in `limit` characters, the same every time it is seen: its start, "#" and a
    SHA-256 of the whole (a source's name here, a post's overlong id in common.bounded)."""
    digest = hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()
    return f"{value[: limit - len(digest) - 1]}#{digest}"


def stale_after(interval: float, timeout: float) -> timedelta:
    """How long a polling collector (passes every `interval` seconds, `timeout` seconds per
    read) may go without writing a source's row before that source is taken for not
    collected: MISSED intervals, and at least MISSED heartbeats and one whole answer."""
    beats = MISSED * HEARTBEAT_SECONDS + FETCH_READS_IN * timeout
    return timedelta(seconds=max(MISSED * interval, beats))
