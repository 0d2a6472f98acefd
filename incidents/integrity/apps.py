from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntegrityConfig(AppConfig):
    """The integrity checks over every app's records (above all of them: it reads them all)."""

    name = "incidents.integrity"
    label = "integrity"
    verbose_name = _("Integrity")
