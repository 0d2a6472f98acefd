"""Chat and SMS targets are Apprise URLs (`slack://...`, `mmost://...`, `tgram://...`,
`json://host/path`...). They hold secrets (tokens, webhook keys): stored as typed, never
shown whole (`mask`), never logged, never in an API answer. Validating one parses it with
Apprise (nothing is sent) and looks its server up: one that leads to a private or local
network address is refused (incidents.addresses), and delivery checks it again."""

import logging
import threading
from urllib.parse import urlsplit

import apprise
from django.conf import settings
from django.utils.translation import gettext as _

from incidents.addresses import (
    CHAT_SCHEMES,
    chat_scheme_allowed,
    sender_points_inside,
    url_points_inside,
)
from incidents.errors import InvalidInput

MAX_URL = 1000
MAX_LABEL = 100

_validating = threading.local()


class _QuietWhileValidating(logging.Filter):
    """Apprise logs a URL it cannot parse ("Unparseable URL slack://tok..."): a mistyped URL
    still holds its secret, so nothing Apprise says while we validate reaches the logs."""

    def filter(self, record):
        return not getattr(_validating, "active", False)


logging.getLogger("apprise").addFilter(_QuietWhileValidating())


def service_of(url: str) -> str:
    """The service an Apprise URL speaks to ("Slack", "Telegram", "JSON"...).

    Raises InvalidInput (400) with a sentence for people when the URL is empty, too long,
    holds spaces or control characters, or is not one Apprise can send to."""
    url = url or ""
    if not url.strip():
        raise InvalidInput(_("Enter the chat address (an Apprise URL, e.g. slack://…)."))
    if len(url) > MAX_URL:
        raise InvalidInput(
            _("A chat address is limited to %(n)s characters.") % {"n": f"{MAX_URL:,}"}
        )
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        raise InvalidInput(_("A chat address has no spaces or line breaks."))
    if "://" in url and not chat_scheme_allowed(url):
        raise InvalidInput(
            _(
                "Crisis Cell does not send to this kind of chat address. Use one of: "
                "%(schemes)s (Apprise URLs)."
            )
            % {"schemes": ", ".join(f"{s}://" for s in sorted(CHAT_SCHEMES))}
        )
    _validating.active = True
    try:
        notifier = apprise.Apprise()
        accepted = notifier.add(url)
        count = len(notifier)
        plugin = notifier[0] if accepted and count else None
    except Exception:
        plugin, count = None, 0
    finally:
        _validating.active = False
    if count > 1:
        # Apprise reads "a://x,b://y" as two addresses and sends to both: only the first
        # would be checked below (one went into the server's own network).
        raise InvalidInput(_("Enter one chat address: this one holds several."))
    if plugin is None:
        raise InvalidInput(
            _(
                "This is not a chat address Crisis Cell can send to. Use an Apprise URL "
                "such as slack://…, msteams://…, mmost://…, tgram://… or json://host/path."
            )
        )
    if urlsplit(url).netloc.count("@") > 1:
        # Read two ways (Apprise: the host after the first @; the check: after the last).
        raise InvalidInput(
            _("A chat address names one server: write an @ inside a name or password as %40.")
        )
    loopback = settings.CHAT_ALLOW_LOOPBACK
    if url_points_inside(url, allow_loopback=loopback) or sender_points_inside(
        plugin, allow_loopback=loopback
    ):
        raise InvalidInput(
            _(
                "This chat address points to a private or local network address: Crisis "
                "Cell does not send there."
            )
        )
    return str(getattr(plugin, "service_name", "") or urlsplit(url).scheme)[:50]


def mask(url: str) -> str:
    """What people see of a chat address: its scheme and, when it names a server (a dot, an
    IP address, localhost), that server, then "…". Tokens that Apprise puts where a host
    would be (slack://TOKEN/..., tgram://BOT:TOKEN/...) are never shown."""
    try:
        parts = urlsplit(url)
        scheme, host = parts.scheme, parts.hostname or ""
    except ValueError:
        return "…"
    if not scheme:
        return "…"
    if "." in host or host == "localhost":
        return f"{scheme}://{host}/…"
    return f"{scheme}://…"


def scrub(text: str, url: str, replacement: str) -> str:
    """`text` with any copy of the secret URL replaced (an error message that quotes it)."""
    return text.replace(url, replacement) if url else text
