from django.db.models import QuerySet
from django.utils.translation import gettext as _

from incidents.outbox.choices import Channel, Status
from incidents.outbox.selectors import undelivered_for

from .chat import mask, scrub
from .models import ChatTarget, Notification, NotificationPreference


def unread_count(user) -> int:
    if not user.is_authenticated:
        return 0
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def notifications_of(user, *, unread_only: bool = False) -> QuerySet[Notification]:
    """Newest first, with their incident (one query per page)."""
    qs = Notification.objects.filter(user=user).select_related("incident")
    return qs.filter(read_at__isnull=True) if unread_only else qs


def preferences_of(user) -> NotificationPreference:
    """The person's preferences, or the defaults (an unsaved row) when they set none."""
    return NotificationPreference.objects.filter(user=user).first() or NotificationPreference(
        user=user
    )


def chat_targets_of(user) -> QuerySet[ChatTarget]:
    """The person's own chat targets, oldest first."""
    return ChatTarget.objects.filter(user=user)


def cell_channels(incident) -> QuerySet[ChatTarget]:
    """The chat channels of an incident's cell, oldest first."""
    return ChatTarget.objects.filter(incident=incident)


def member_warnings(incident) -> dict[int, list[str]]:
    """What the cell panel says beside a member the outbox could not reach (so someone
    phones them): `{user_id: [text]}`, one line per channel, the latest failure's reason.
    Never the recipient itself (a chat URL holds a token). One query."""
    warnings: dict[int, dict[str, str]] = {}
    for message in undelivered_for(incident):
        if message.user_id is None or message.channel in warnings.get(message.user_id, {}):
            continue  # newest first: the latest failure per channel says it
        channel = message.get_channel_display()
        reason = message.last_error or _("no reason given")
        if message.channel == Channel.CHAT:
            reason = scrub(reason, message.recipient, mask(message.recipient))
        if message.status == Status.FAILED:
            text = _("Not reached (%(channel)s): %(reason)s. Phone them.")
        else:
            text = _("Not reached yet (%(channel)s), retrying: %(reason)s")
        warnings.setdefault(message.user_id, {})[message.channel] = text % {
            "channel": channel,
            "reason": reason,
        }
    return {user_id: list(texts.values()) for user_id, texts in warnings.items()}
