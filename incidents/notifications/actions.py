"""Writes of the bell. `notify` is called by producers inside their own transaction (task
reminders today), so a notification exists exactly when the event that caused it does."""

from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from incidents import events

from .models import MAX_SUBJECT, Notification

NOTIFICATIONS_CHANGED = "notifications-changed"


def notify(
    *,
    users: Iterable,
    kind: str,
    subject: str,
    url: str,
    incident=None,
    now=None,
    announce: bool = True,
    body: str = "",
    actor=None,
) -> int:
    """One notification per user (duplicates in `users` count once); each person's open
    pages refresh their bell after commit. A producer writing many at once passes
    `announce=False` and calls `announce_to` once at the end. `body` is the longer text an
    e-mail or chat message carries (the statement's text, say); `actor` is who caused it.
    Returns how many were written."""
    now = now or timezone.now()
    recipients = {user.pk: user for user in users}
    Notification.objects.bulk_create(
        Notification(
            user=user,
            incident=incident,
            kind=kind,
            subject=subject[:MAX_SUBJECT],
            url=url,
            created_at=now,
        )
        for user in recipients.values()
    )
    if announce:
        transaction.on_commit(lambda: announce_to(recipients))
    return len(recipients)


def announce_to(user_ids: Iterable[int]) -> None:
    """Tell each person's open pages to refresh their bell (one message per person)."""
    for user_id in set(user_ids):
        events.publish_user_signal(user_id, NOTIFICATIONS_CHANGED)


@transaction.atomic
def notifications_mark_read(*, user, ids=None) -> int:
    """Mark the user's unread notifications (or only `ids` of them) read; returns how many."""
    qs = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    return qs.update(read_at=timezone.now())
