"""Webhook URLs and server-side request forgery.

A URL is http or https with a host. In production it must be https, and every address its host
resolves to must be public (`ipaddress.is_global`): never loopback, private, link-local (cloud
metadata at 169.254.169.254), shared, reserved or multicast. In dev and test, loopback is allowed
(a receiver on the developer's machine), nothing else that is not public. The check runs when the
URL is saved and again before every delivery (DNS may change after registration); redirects are
never followed (jobs/webhooks.py). What is left: a host whose DNS answers differently between the
check and the connection (rebinding within seconds) is not caught; closing that needs connecting
to the checked address itself, which httpx does not offer without a custom transport.
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


def allowed(address: str, *, production: bool) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_global and not ip.is_multicast:
        return True
    return not production and ip.is_loopback


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
