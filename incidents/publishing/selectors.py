"""Reads of publishing, each a bounded number of queries."""

from incidents.outbox.choices import Status as MessageStatus

from .models import BrandAccount, Publication

MAX_SHOWN = 20  # publications of one statement a page or an answer lists (there are few)


def can_post_on(platform: str) -> bool:
    """Whether a statement can be posted on `platform` (a listening Platform or statements
    Channel value, e.g. "mastodon") through publishing: an active brand account exists for
    it. One query; False for a platform publishing has no connector for."""
    return BrandAccount.objects.filter(platform=platform, active=True).exists()


def publications_of(statement) -> list[Publication]:
    """The statement's publications, newest first, with their account and outbox message
    (one query)."""
    return list(
        Publication.objects.filter(statement=statement)
        .select_related("account", "message", "requested_by")
        .order_by("-requested_at", "-pk")[:MAX_SHOWN]
    )


def retrying(publication: Publication) -> str:
    """While queued: the outbox's last error when an attempt failed and another is due
    ("" otherwise)."""
    message = publication.message
    if publication.status != "queued" or message is None:
        return ""
    return message.last_error if message.status == MessageStatus.PENDING else ""


def next_attempt_at(publication: Publication):
    message = publication.message
    if retrying(publication):
        return message.next_attempt_at
    return None
