"""The outbox's post sender for Mastodon and Bluesky (registered in apps.py).

Called by the outbox's worker with no transaction open and no lock held. It reads the
message's Publication, checks the statement may still go out (still approved at that
revision), decrypts the account's secret, posts `message.body` (the approved revision's
exact text, copied when it was queued) through the platform's module, then records the
post (`actions.publication_posted`). It raises the outbox's `PermanentError` when trying
again cannot help (refused token, text too long, the answered post not found, the
statement changed) and `SendError` otherwise (network, timeout, 5xx, rate limit with its
Retry-After). Reasons are one sentence, never holding the secret.
"""

import logging
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _

from incidents.outbox.senders import PermanentError, SendError, one_line, what

from .. import crypto
from ..choices import PublicationStatus

logger = logging.getLogger("incidents.publishing")


@dataclass(frozen=True)
class Posted:
    id: str  # Mastodon: the status id on the instance; Bluesky: the record's AT URI
    url: str  # the post's web address


@dataclass(frozen=True)
class Post:
    """What a platform module posts."""

    text: str
    key: str  # the idempotency key (the outbox message's)
    created_at: object  # the message's creation time (datetime): Bluesky's record key
    in_reply_to: str  # "" or the answered post's URL, URI or id
    language: str  # ISO 639-1, "" when unknown
    timeout: float


class Refused(Exception):
    """A platform module's failure, before the outbox's wording: `permanent`, `reason`
    (a short sentence, without the secret) and `retry_after` (seconds or None)."""

    def __init__(self, reason: str, *, permanent: bool, retry_after: float | None = None):
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
        self.retry_after = retry_after


def send(message) -> None:
    from .. import actions
    from ..models import Publication

    publication = (
        Publication.objects.select_related("statement", "account")
        .filter(message_id=message.pk)
        .first()
    )
    if publication is None:
        raise PermanentError(_("%(what)s not sent: no publication asks for it") % _what(message))
    if publication.status == PublicationStatus.SENT:
        return  # posted and recorded; only the outbox's own record was lost
    why_not = actions.still_publishable(publication)
    if why_not:
        raise PermanentError(
            _("%(what)s not sent: %(reason)s") % {**_what(message), "reason": why_not}
        )
    account = publication.account
    try:
        secret = crypto.decrypt(account.secret_encrypted)
    except crypto.Unreadable:
        raise PermanentError(
            _(
                "%(what)s not sent: the account's token cannot be decrypted (the key changed): "
                "enter it again in the admin"
            )
            % _what(message)
        ) from None
    post = Post(
        text=message.body,
        key=message.key,
        created_at=message.created_at,
        in_reply_to=publication.in_reply_to,
        language=publication.statement.language,
        timeout=settings.PUBLISHING_TIMEOUT,
    )
    try:
        posted = _module(account.platform).post(account, secret, post)
    except Refused as refusal:
        reason = one_line(refusal.reason.replace(secret, "…"))
        text = _("%(what)s not sent: %(reason)s") % {**_what(message), "reason": reason}
        if refusal.permanent:
            raise PermanentError(text) from None
        raise SendError(text, retry_after=refusal.retry_after) from None
    actions.publication_posted(publication=publication, post_id=posted.id, post_url=posted.url)


def _what(message) -> dict:
    return {"what": what(message)}


def _module(platform: str):
    from . import bluesky, mastodon

    return {"mastodon": mastodon, "bluesky": bluesky}[platform]
