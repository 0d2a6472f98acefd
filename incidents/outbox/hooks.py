"""Where the apps built on the outbox plug in, from their `AppConfig.ready()` (no models
imported here: safe to import while the apps load).

- `register_failure_handler(fn)`: `fn(messages: list[OutboundMessage])` is called with the
  messages that just failed for good (after their last attempt, or at once for a
  permanent refusal), in the transaction that marks them failed, `incident`, `user` and
  `sender` loaded. The notifications app registers one that tells the incident's lead.
- `register_post_sender(platform, fn)`: how a platform post (Channel.POST) is sent.
"""

import logging
from collections.abc import Callable

from django.db import transaction

logger = logging.getLogger("incidents.outbox")

_failure_handlers: list[Callable] = []
_post_senders: dict[str, Callable] = {}


def register_failure_handler(handler: Callable) -> None:
    """Call `handler(messages)` whenever messages fail for good. A handler that raises is
    logged and undoes neither the failure nor the other handlers' work (each runs in its
    own savepoint)."""
    if handler not in _failure_handlers:
        _failure_handlers.append(handler)


def unregister_failure_handler(handler: Callable) -> None:
    if handler in _failure_handlers:
        _failure_handlers.remove(handler)


def failed(messages: list) -> None:
    """Tell every registered handler about these failed messages."""
    if not messages:
        return
    for handler in list(_failure_handlers):
        try:
            with transaction.atomic():
                handler(messages)
        except Exception:
            logger.exception("Outbox failure handler %r raised", handler)


def register_post_sender(platform: str, sender: Callable) -> None:
    """`sender(message: OutboundMessage) -> None` posts `message.body` for the rows whose
    `recipient` is "<platform>" or "<platform>:<account or target>". It raises
    `senders.PermanentError` when trying again cannot help and `senders.SendError` (or
    anything else) when it may.

    It MUST give the platform `message.key` as its idempotency key (Mastodon's
    `Idempotency-Key` header, for instance): a worker killed after the platform accepted
    the post sends it again once its lease has run out, and only the key turns that into a
    no-op (at most one post)."""
    _post_senders[platform] = sender


def post_sender(platform: str) -> Callable | None:
    return _post_senders.get(platform)
