from django.db.models import QuerySet

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
