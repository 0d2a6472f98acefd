"""Which network addresses the server may reach on a user's behalf. A URL a user typed (a
page to capture, a chat webhook) must not make the server a way into the network it runs
on (SSRF): only public unicast addresses are allowed; loopback only where a setting says so
(the test suite's local servers). Used by the evidence capture and the chat deliveries.
And which e-mail addresses mail can be sent to (`email_sendable`)."""

import ipaddress
import socket
from urllib.parse import parse_qsl, urlsplit

from django.core.exceptions import ValidationError
from django.core.validators import validate_email


def email_sendable(address: str) -> bool:
    """Whether mail can go to `address`: Django's validator, and its domain encodes (IDNA)
    as the message's headers will need (Django's mail encodes it so). An invisible control
    character in the domain (a right-to-left override) passed the validator, then broke the
    sending."""
    try:
        validate_email(address)
        address.rpartition("@")[2].encode("idna")
    except (ValidationError, UnicodeError):
        return False
    return True


# IPv6 ranges that carry an IPv4 address (RFC 6052 NAT64, its local-use prefix, the
# deprecated IPv4-compatible form): a gateway on the way turns them into that IPv4 address,
# so that address is the one to judge.
NAT64_WELL_KNOWN = ipaddress.ip_network("64:ff9b::/96")
NAT64_LOCAL_USE = ipaddress.ip_network("64:ff9b:1::/48")
IPV4_COMPATIBLE = ipaddress.ip_network("::/96")


def embedded_ipv4(address) -> list:
    """The IPv4 addresses an IPv6 address leads to: IPv4-mapped (::ffff:a.b.c.d), NAT64
    (64:ff9b::a.b.c.d), IPv4-compatible (::a.b.c.d), 6to4 (2002:AABB:CCDD::) and Teredo
    (2001::/32: its server and its obfuscated client address)."""
    if address.version != 6:
        return []
    found = []
    if address.ipv4_mapped:
        found.append(address.ipv4_mapped)
    if address in NAT64_WELL_KNOWN or address in IPV4_COMPATIBLE:
        found.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    if address.sixtofour:
        found.append(address.sixtofour)
    if address.teredo:
        found.extend(address.teredo)
    return found


def address_allowed(address, *, allow_loopback: bool = False) -> bool:
    """May the server connect to this IP address (an `ipaddress` object)?"""
    if address.version == 6 and address.ipv4_mapped:
        address = address.ipv4_mapped  # the same socket: the IPv4 rules, loopback setting too
    if address.is_loopback:
        return allow_loopback
    if address.version == 6:
        if address in NAT64_LOCAL_USE:
            return False  # a site's own translator: whatever it embeds is local
        # Loopback reached through a translator is never the test suite's local server.
        if any(not (v4.is_global and not v4.is_multicast) for v4 in embedded_ipv4(address)):
            return False
    return address.is_global and not address.is_multicast


def points_inside(host: str, port: int, *, allow_loopback: bool = False) -> bool:
    """Does `host` (a name or an address, as typed) lead to an address the server must not
    reach? A name that does not resolve leads nowhere: False (the caller's connection will
    fail on its own). Resolves through the system's DNS (one lookup)."""
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError, ValueError):
        return False
    return any(
        not address_allowed(
            ipaddress.ip_address(info[4][0].split("%")[0]), allow_loopback=allow_loopback
        )
        for info in infos
    )


# Query parameters by which Apprise is told to contact another server than the URL's host
# (an e-mail target's smtp=…): always checked, whatever their value looks like.
SERVER_PARAMETERS = frozenset({"smtp", "host", "server", "hostname", "proxy"})


def url_points_inside(url: str, *, allow_loopback: bool = False) -> bool:
    """Does a server a URL names resolve to an address the server must not reach: its host,
    and any host its query names (`mailto://user:pw@example.com?smtp=10.0.0.5`: Apprise
    connects to the smtp= one)? URLs that hold a token where a host would be (Apprise's
    slack://TOKEN/...) name no server that resolves: they go to their service's own
    public endpoint. An authority holding two "@" counts as inside: Apprise takes the host
    after the first (`json://x@127.0.0.1:8822@example.com/`), urlsplit after the last."""
    try:
        parts = urlsplit(url)
        if parts.netloc.count("@") > 1:
            return True
        hosts = [parts.hostname or ""]
        try:
            port = parts.port or 443
        except ValueError:  # tgram://BOT:TOKEN/... : not a port
            port = 443
        query = parse_qsl(parts.query, keep_blank_values=False)
    except ValueError:
        return False
    for key, value in query:
        named = value.strip().strip("[]")
        if key.lower() in SERVER_PARAMETERS or _looks_like_a_host(named):
            hosts.append(named.rsplit(":", 1)[0] if named.count(":") == 1 else named)
    return any(points_inside(host, port, allow_loopback=allow_loopback) for host in hosts if host)


# The Apprise services a chat address may use: each either speaks to its vendor's fixed
# public endpoint or to the host written in the URL (checked above). Others can take an
# endpoint in their path or query (acs://…/intranet.example/…) that no check reads.
CHAT_SCHEMES = frozenset(
    {
        "slack", "msteams", "mmost", "mmosts", "tgram", "discord", "gchat", "pover",
        "rocket", "rockets", "matrix", "matrixs", "ntfy", "ntfys", "gotify", "gotifys",
        "signal", "signals", "workflow", "workflows", "json", "jsons", "form", "forms",
        "xml", "xmls", "mailto", "mailtos", "twilio", "vonage", "nexmo", "sinch",
        "clicksend", "bulksms", "msg91",
    }
)  # fmt: skip


def chat_scheme_allowed(url: str) -> bool:
    try:
        return urlsplit(url).scheme.lower() in CHAT_SCHEMES
    except ValueError:
        return False


def sender_points_inside(sender, *, allow_loopback: bool = False) -> bool:
    """Does the server a parsed sender will connect to (an Apprise plugin: its `host` and
    `port` as Apprise itself read the URL) lead inside? Checked beside url_points_inside,
    which reads the URL as urlsplit does: the two readings differed (two @ in the
    authority)."""
    host = str(getattr(sender, "host", "") or "").strip("[]")
    try:
        port = int(getattr(sender, "port", None) or 443)
    except (TypeError, ValueError):
        port = 443
    return bool(host) and points_inside(host, port, allow_loopback=allow_loopback)


def _looks_like_a_host(value: str) -> bool:
    """A name or an address ("mail.example.com", "10.0.0.5", "::1", "localhost"), not an
    e-mail address, a path or a plain word."""
    if not value or "@" in value or "/" in value:
        return False
    return value.lower() == "localhost" or "." in value or ":" in value
