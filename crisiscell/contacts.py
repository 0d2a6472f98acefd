"""Whom a page sends someone to for a matter of access: read by the error pages
(crisiscell.errors) and by the apps' own pages (listening's campaigns notice), so it
imports nothing of the apps."""

from django.conf import settings


def admins_to_ask() -> list[str]:
    """The site's administrators a page names for a matter of access (a refusal, a page not
    found, a freeze on an incident the person may not see): "Name (address)", or the
    address alone, from settings.CRISISCELL_ADMIN_CONTACT; [] when it is not set. No
    query."""
    return [
        f"{name} ({address})" if name else address
        for name, address in settings.CRISISCELL_ADMIN_CONTACT
    ]
