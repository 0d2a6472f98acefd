"""Posting on Mastodon with Mastodon.py: `status_post(text, in_reply_to_id=...,
idempotency_key=..., language=...)`.

The idempotency key (the outbox message's key, the same on every attempt) makes Mastodon
answer a repeated request with the status it already made instead of a second one (the
instance keeps keys for an hour). A reply needs the answered status's id *on the brand's
instance*: a mention collected elsewhere is named by its URL or URI, which
`search_v2(url, resolve=True)` turns into the local id (the instance fetches the post if
it does not know it yet); a bare number is taken as a local id already.
"""

import re
import time
from email.utils import parsedate_to_datetime

from django.utils.translation import gettext as _
from mastodon import (
    Mastodon,
    MastodonAPIError,
    MastodonError,
    MastodonNetworkError,
    MastodonNotFoundError,
    MastodonRatelimitError,
    MastodonServerError,
    MastodonUnauthorizedError,
)

from . import Post, Posted, Refused

_LOCAL_ID = re.compile(r"[0-9]{1,30}")


def post(account, secret: str, post: Post) -> Posted:
    api = Mastodon(
        api_base_url=account.base_url,
        access_token=secret,
        ratelimit_method="throw",  # the outbox waits, not the worker
        request_timeout=post.timeout,
        version_check_mode="none",
        user_agent="CrisisCell-publishing",
    )
    last = {}
    # Mastodon.py drops a 429's Retry-After: keep the last answer's headers to read it.
    api.session.hooks["response"].append(lambda response, *a, **k: last.update(r=response))
    try:
        reply_to = _local_id(api, post.in_reply_to, account) if post.in_reply_to else None
        status = api.status_post(
            post.text,
            in_reply_to_id=reply_to,
            idempotency_key=post.key,
            language=post.language or None,
        )
    except MastodonRatelimitError:
        headers = last["r"].headers if "r" in last else {}
        raise Refused(
            _("the instance limits the rate of posts (429): tried again later"),
            permanent=False,
            retry_after=retry_after(headers),
        ) from None
    except MastodonUnauthorizedError:
        raise Refused(
            _("the instance refused the access token (401): enter a new one in the admin"),
            permanent=True,
        ) from None
    except MastodonNotFoundError:
        raise Refused(
            _("the instance has no such API (404): check its address"), permanent=True
        ) from None
    except MastodonServerError as error:
        raise Refused(
            _("the instance failed (%(status)s)") % {"status": _status(error)}, permanent=False
        ) from None
    except MastodonAPIError as error:
        code = _status(error)
        detail = error.args[3] if len(error.args) > 3 and error.args[3] else ""
        if code == 403:
            reason = _("the access token may not post (403): give it the write:statuses scope")
        elif code == 422:
            reason = _("the instance refused the post: %(detail)s") % {"detail": detail or code}
        else:
            reason = _("the instance answered %(status)s %(detail)s") % {
                "status": code,
                "detail": detail,
            }
        raise Refused(reason, permanent=code not in (408, 409, 425)) from None
    except MastodonNetworkError as error:
        timed_out = "timed out" in str(error).lower() or "timeout" in str(error).lower()
        reason = (
            _("the instance did not answer within %(seconds)s s") % {"seconds": post.timeout}
            if timed_out
            else _("the instance is unreachable")
        )
        raise Refused(reason, permanent=False) from None
    except MastodonError as error:
        raise Refused(str(error), permanent=False) from None
    return Posted(id=str(status["id"]), url=status.get("url") or status.get("uri") or "")


def _local_id(api, reference: str, account) -> str:
    if _LOCAL_ID.fullmatch(reference):
        return reference
    # exclude_unreviewed (hashtags only) off: its version check recurses without end in
    # Mastodon.py 2.x when the instance's version was not read first.
    found = api.search_v2(reference, resolve=True, result_type="statuses", exclude_unreviewed=False)
    statuses = found.get("statuses") or []
    if not statuses:
        raise Refused(
            _("the post to answer (%(post)s) was not found from %(instance)s")
            % {"post": reference[:200], "instance": account.base_url},
            permanent=True,
        )
    return str(statuses[0]["id"])


def _status(error) -> int:
    try:
        return int(error.args[1])
    except (IndexError, TypeError, ValueError):
        return 0


def retry_after(headers) -> float | None:
    """Seconds to wait from a 429's `Retry-After` (seconds or an HTTP date), else from
    Mastodon's `X-RateLimit-Reset` (an ISO date); None when neither says."""
    value = (headers.get("Retry-After") or "").strip()
    if value.isdigit():
        return float(value)
    if value:
        try:
            return max(parsedate_to_datetime(value).timestamp() - time.time(), 0.0)
        except (TypeError, ValueError):
            pass
    reset = headers.get("X-RateLimit-Reset")
    if reset:
        from datetime import datetime

        try:
            return max(datetime.fromisoformat(reset).timestamp() - time.time(), 0.0)
        except ValueError:
            return None
    return None
