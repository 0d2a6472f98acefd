"""Posting on Bluesky with the official `atproto` library: a session
(`com.atproto.server.createSession`, kept per account in the worker's memory), then
`com.atproto.repo.createRecord` of an `app.bsky.feed.post`.

Bluesky takes no idempotency key: the record key (`rkey`) is derived from the outbox
message instead, a TID (13 characters of base32-sortable) made of the message's creation
time and a hash of its key, the same on every attempt. A retry after a post the worker
did not hear back about asks for the same record key: the service refuses a second record
there, and the post already made is read (`getRecord`) and counted as this one.

A reply names its parent and its thread's root by URI and CID: the parent is read with
`com.atproto.repo.getRecord` (from an `at://` URI or a `https://bsky.app/profile/…/post/…`
address); the root is the parent's own root, or the parent when it starts the thread.
"""

import hashlib
import re
import threading
from datetime import UTC, datetime, timedelta

from django.utils.translation import gettext as _

from . import Post, Posted, Refused

COLLECTION = "app.bsky.feed.post"
_TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_AT_URI = re.compile(r"at://([^/\s]+)/app\.bsky\.feed\.post/([A-Za-z0-9._:~-]{1,512})")
_WEB_URL = re.compile(
    r"https://(?:[a-z0-9.-]+\.)?bsky\.app/profile/([^/\s]+)/post/([A-Za-z0-9._:~-]{1,512})/?"
)
_LINK = re.compile(r"https?://[^\s<>\"]+[^\s<>\".,;:!?)\]']")

# Sessions per (account, secret's digest), reused across posts: createSession is rate
# limited far more strictly than posting. Per worker process; a refused session is dropped.
_sessions: dict[tuple, str] = {}
_sessions_lock = threading.Lock()


def record_key(created_at: datetime, key: str) -> str:
    """The TID of this message: microseconds since 1970 and a 10-bit "clock id" from the
    key's hash, 64 bits (top bit 0) in 13 base32-sortable characters."""
    micros = (created_at - _EPOCH) // timedelta(microseconds=1)
    clock = int.from_bytes(hashlib.sha256(key.encode()).digest()[:2], "big") % 1024
    number = ((micros & ((1 << 53) - 1)) << 10) | clock
    return "".join(_TID_ALPHABET[(number >> (5 * i)) & 31] for i in reversed(range(13)))


def link_facets(text: str) -> list[dict]:
    """Links as Bluesky shows them clickable: byte ranges of the UTF-8 text."""
    facets = []
    for match in _LINK.finditer(text):
        start = len(text[: match.start()].encode())
        facets.append(
            {
                "index": {"byteStart": start, "byteEnd": start + len(match.group().encode())},
                "features": [{"$type": "app.bsky.richtext.facet#link", "uri": match.group()}],
            }
        )
    return facets


def parse_post_reference(reference: str) -> tuple[str, str] | None:
    """(repo: a DID or handle, rkey) of an AT URI or a bsky.app post address."""
    match = _AT_URI.fullmatch(reference) or _WEB_URL.fullmatch(reference)
    return (match.group(1), match.group(2)) if match else None


def post(account, secret: str, post: Post) -> Posted:
    from atproto_client import exceptions as x
    from atproto_core.exceptions import AtProtocolError

    try:
        return _post(account, secret, post)
    except x.UnauthorizedError:
        raise Refused(
            _(
                "the service refused the handle or app password (401): "
                "enter them again in the admin"
            ),
            permanent=True,
        ) from None
    except x.RateLimitExceededError as error:
        raise Refused(
            _("the service limits the rate of posts (429): tried again later"),
            permanent=False,
            retry_after=error.retry_after,
        ) from None
    except x.BadRequestError as error:
        raise Refused(
            _("the service refused the post: %(detail)s") % {"detail": _detail(error)},
            permanent=True,
        ) from None
    except x.InvokeTimeoutError:
        raise Refused(
            _("the service did not answer within %(seconds)s s") % {"seconds": post.timeout},
            permanent=False,
        ) from None
    except x.NetworkError as error:
        if error.response is None:
            raise Refused(_("the service is unreachable"), permanent=False) from None
        raise Refused(
            _("the service answered %(detail)s") % {"detail": _detail(error)}, permanent=False
        ) from None
    except AtProtocolError as error:  # 5xx and the rest: worth another try
        raise Refused(
            _("the service failed: %(detail)s") % {"detail": _detail(error)}, permanent=False
        ) from None


def _detail(error) -> str:
    text = str(error) or type(error).__name__
    return text[:200]


def _post(account, secret: str, post: Post) -> Posted:
    from atproto import Client
    from atproto_client import exceptions as x
    from atproto_client.request import Request

    cache_key = (account.pk, hashlib.sha256(secret.encode()).hexdigest())
    for fresh in (False, True):
        client = Client(
            base_url=account.base_url.rstrip("/") + "/xrpc", request=Request(timeout=post.timeout)
        )
        reused = _session(client, account, secret, cache_key, fresh=fresh)
        try:
            return _create(client, client._session.did, post)
        except x.UnauthorizedError:
            _forget(cache_key)
            if not reused:
                raise
            # The kept session was revoked or expired: once more with a new one.
    raise AssertionError("unreachable")


def _create(client, did: str, post: Post) -> Posted:
    from atproto_client import exceptions as x

    rkey = record_key(post.created_at, post.key)
    record = {
        "$type": COLLECTION,
        "text": post.text,
        "createdAt": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
    }
    if post.language:
        record["langs"] = [post.language]
    facets = link_facets(post.text)
    if facets:
        record["facets"] = facets
    if post.in_reply_to:
        record["reply"] = _reply_ref(client, post.in_reply_to)
    data = {"repo": did, "collection": COLLECTION, "rkey": rkey, "record": record}
    try:
        uri = client.com.atproto.repo.create_record(data).uri
    except (x.BadRequestError, x.NetworkError) as error:
        # "Record already exists": an earlier attempt made it; anything else stands.
        if getattr(error, "response", None) is None:
            raise
        uri = _existing(client, did, rkey)
        if uri is None:
            raise
    return Posted(id=uri, url=f"https://bsky.app/profile/{did}/post/{rkey}")


def _session(client, account, secret: str, cache_key, *, fresh: bool) -> bool:
    """Sign the client in, with the kept session unless `fresh`; True when it was reused."""
    with _sessions_lock:
        saved = None if fresh else _sessions.get(cache_key)
    if saved:
        try:
            client.login(session_string=saved, fetch_bsky_profile=False)
            return True
        except Exception:  # unreadable or past refreshing: a new one below
            _forget(cache_key)
    client.login(account.handle, secret, fetch_bsky_profile=False)
    with _sessions_lock:
        _sessions[cache_key] = client.export_session_string()
    return False


def _forget(cache_key) -> None:
    with _sessions_lock:
        _sessions.pop(cache_key, None)


def forget_sessions() -> None:
    with _sessions_lock:
        _sessions.clear()


def _get(obj, name):
    return obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)


def _reply_ref(client, reference: str) -> dict:
    from atproto_client import exceptions as x

    parsed = parse_post_reference(reference)
    if parsed is None:
        raise Refused(
            _("“%(post)s” is not the address of a Bluesky post") % {"post": reference[:200]},
            permanent=True,
        )
    repo, rkey = parsed
    try:
        parent = client.com.atproto.repo.get_record(
            {"repo": repo, "collection": COLLECTION, "rkey": rkey}
        )
    except x.BadRequestError:
        raise Refused(
            _("the post to answer (%(post)s) was not found") % {"post": reference[:200]},
            permanent=True,
        ) from None
    parent_ref = {"uri": parent.uri, "cid": parent.cid}
    reply = _get(parent.value, "reply")
    root = _get(reply, "root") if reply else None
    root_ref = {"uri": _get(root, "uri"), "cid": _get(root, "cid")} if root else parent_ref
    return {"root": root_ref, "parent": parent_ref}


def _existing(client, did: str, rkey: str) -> str | None:
    from atproto_client import exceptions as x

    try:
        found = client.com.atproto.repo.get_record(
            {"repo": did, "collection": COLLECTION, "rkey": rkey}
        )
    except x.BadRequestError:
        return None
    return found.uri
