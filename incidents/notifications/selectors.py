from django.db.models import QuerySet

from .models import Notification


def unread_count(user) -> int:
    if not user.is_authenticated:
        return 0
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def notifications_of(user) -> QuerySet[Notification]:
    """Newest first, with their incident (one query per page)."""
    return Notification.objects.filter(user=user).select_related("incident")
