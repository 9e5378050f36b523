"""Webhook URLs and server-side request forgery.

A URL is http or https with a host. In production it must be https, and every address its host
resolves to must be public (`ipaddress.is_global`): never loopback, private, link-local (cloud
metadata at 169.254.169.254), shared, reserved or multicast. In dev and test, loopback is allowed
(a receiver on the developer's machine), nothing else that is not public. The check runs when the
URL is saved and again before every delivery (DNS may change after registration); redirects are
never followed (jobs/webhooks.py). The delivery connects only to addresses checked in the same
resolution (jobs/webhooks.py's resolver refuses the others), so a host whose DNS answers differently
between the check and the connection (rebinding) reaches nothing it may not.

An IPv6 address that embeds an IPv4 one is judged by that IPv4 address too (else ::ffff:127.0.0.1
would reach the loopback the check refuses): IPv4-mapped
(::ffff:a.b.c.d), IPv4-compatible (::a.b.c.d), IPv4-translated (::ffff:0:a.b.c.d), NAT64
(64:ff9b::a.b.c.d; the local-use 64:ff9b:1::/48 is never public), 6to4 (2002:aabb:ccdd::) and
Teredo (2001:0::, server and client).
"""
from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

from server.domain.core.errors import DomainError
from server.enums import ErrorCode

MAX_LENGTH = 2000


def _refuse(message: str) -> DomainError:
    return DomainError(ErrorCode.INVALID_INPUT, message, "url")


def parse(url: str, *, production: bool) -> tuple[str, str, int]:
    """(url, host, port) of a well-formed webhook URL, or INVALID_INPUT."""
    url = url.strip()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise _refuse("Enter a valid URL.") from None
    if parts.scheme not in ("http", "https") or not parts.hostname or len(url) > MAX_LENGTH:
        raise _refuse("Enter an http:// or https:// URL.")
    if production and parts.scheme != "https":
        raise _refuse("Webhook URLs must use https.")
    if parts.username or parts.password:
        raise _refuse("Leave credentials out of the URL.")
    return url, parts.hostname, port or (443 if parts.scheme == "https" else 80)


#: IPv6 networks whose last 32 bits are an IPv4 address (RFC 4291 compatible, RFC 6145 translated,
#: RFC 6052 NAT64 well-known prefix).
EMBEDDING_LOW_32 = [ipaddress.IPv6Network("::/96"), ipaddress.IPv6Network("::ffff:0:0:0/96"),
                    ipaddress.IPv6Network("64:ff9b::/96")]
LOCAL_NAT64 = ipaddress.IPv6Network("64:ff9b:1::/48")


def embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address carries (see the module's docstring)."""
    found = [ip.ipv4_mapped] if ip.ipv4_mapped is not None else []
    if ip.sixtofour is not None:
        found.append(ip.sixtofour)
    if ip.teredo is not None:
        found.extend(ip.teredo)
    if any(ip in network for network in EMBEDDING_LOW_32) and not (ip.is_loopback or ip.is_unspecified):
        found.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return found


def _allowed_ip(ip: ipaddress.IPv4Address | ipaddress.IPv6Address, production: bool) -> bool:
    if ip.is_global and not ip.is_multicast:
        return True
    return not production and ip.is_loopback


def allowed(address: str, *, production: bool) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        if ip in LOCAL_NAT64:
            return False
        embedded = embedded_ipv4(ip)
        if embedded:
            return all(_allowed_ip(v4, production) for v4 in embedded)
    return _allowed_ip(ip, production)


async def resolve(host: str, port: int) -> list[str]:
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise _refuse(f"The host {host} does not resolve.") from None
    return sorted({info[4][0] for info in infos})


async def check(url: str, *, production: bool) -> str:
    """The URL as stored, when it may be called: well-formed, and every address of its host allowed."""
    url, host, port = parse(url, production=production)
    addresses = await resolve(host, port)
    refused = [a for a in addresses if not allowed(a, production=production)]
    if refused or not addresses:
        raise _refuse(f"The host {host} resolves to an address webhooks may not call ({', '.join(refused)}).")
    return url
