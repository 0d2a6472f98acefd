from django.db import models
from django.utils.translation import gettext_lazy as _


class NotificationKind(models.TextChoices):
    """What a notification tells. A new producer adds its kinds here."""

    DUE_SOON = "due_soon", _("Due in 5 minutes")
    OVERDUE = "overdue", _("Overdue")
