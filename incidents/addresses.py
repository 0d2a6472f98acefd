"""Which network addresses the server may reach on a user's behalf. A URL a user typed (a
page to capture, a chat webhook) must not make the server a way into the network it runs
on (SSRF): only public unicast addresses are allowed; loopback only where a setting says so
(the test suite's local servers). Used by the evidence capture and the chat deliveries."""

import ipaddress
import socket
from urllib.parse import urlsplit

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


def url_points_inside(url: str, *, allow_loopback: bool = False) -> bool:
    """Does the server a URL names resolve to an address the server must not reach? URLs
    that hold a token where a host would be (Apprise's slack://TOKEN/...) name no server
    that resolves: they go to their service's own public endpoint."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        try:
            port = parts.port or 443
        except ValueError:  # tgram://BOT:TOKEN/... : not a port
            port = 443
    except ValueError:
        return False
    return bool(host) and points_inside(host, port, allow_loopback=allow_loopback)
