"""Outbound URLs a studio admin may set (lead webhooks): no server-side request forgery.

A webhook URL must be https, name a host, and carry no user name or password. Every
address its host resolves to must be a public (global) address: private, loopback,
link-local (cloud metadata services), shared, multicast and reserved ranges are refused,
at the time it is set (literal addresses) and again before every request (names, which
may resolve elsewhere later). `allow_loopback` (a setting for tests and local trials)
lets loopback addresses through, over plain http too. Redirects are never followed,
and the request goes to the address that was checked (`pinned`), never to a new lookup."""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx


class UnsafeUrl(ValueError):
    """The URL may not be called from the service; the message says why. `transient`:
    the host did not resolve (it may later)."""

    def __init__(self, message: str, *, transient: bool = False) -> None:
        super().__init__(message)
        self.transient = transient


# full stops that IDNA turns into "." when a name is resolved
IDEOGRAPHIC_DOTS = str.maketrans({"\u3002": ".", "\uff0e": ".", "\uff61": "."})
NAT64 = ipaddress.IPv6Network("64:ff9b::/96")  # the well-known prefix embeds an IPv4


def _resolved_form(host: str) -> str:
    """The name as a resolver reads it: IDNA full stops as dots, no trailing root dot."""
    return host.translate(IDEOGRAPHIC_DOTS).rstrip(".")


def _loopback_name(host: str) -> bool:
    host = _resolved_form(host)
    return host == "localhost" or host.endswith(".localhost")


def _literal(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address a host that is an address literal names, in any form the resolver
    also takes (`127.1`, `0x7f000001`, `2130706433`, `0177.0.0.1`), else None."""
    host = _resolved_form(host)
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except (OSError, UnicodeError, ValueError):
        return None


def check_url(url: str, *, allow_loopback: bool = False) -> str:
    """Syntax and literal-address checks; answers the URL. Raises UnsafeUrl."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeUrl("not a valid URL") from exc
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("https", "http") or not host:
        raise UnsafeUrl("the URL must be https://host/...")
    if parts.username is not None or parts.password is not None:
        raise UnsafeUrl("the URL may not contain a user name or password")
    loopback = _loopback_name(host) or _is_loopback_literal(host)
    if parts.scheme == "http" and not (allow_loopback and loopback):
        raise UnsafeUrl("the URL must use https")
    if _loopback_name(host) and not allow_loopback:
        raise UnsafeUrl("the URL may not point at this server")
    literal = _literal(host)
    if literal is not None:
        _check_address(literal, allow_loopback)
    if port == 0:
        raise UnsafeUrl("port 0 is not a port")
    return url


def _is_loopback_literal(host: str) -> bool:
    literal = _literal(host)
    return literal is not None and literal.is_loopback


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one carries to (mapped, NAT64, 6to4, Teredo client)."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.sixtofour is not None:
        return ip.sixtofour
    return None if ip.teredo is None else ip.teredo[1]


def _check_address(ip: ipaddress.IPv4Address | ipaddress.IPv6Address, allow_loopback: bool):
    if isinstance(ip, ipaddress.IPv6Address):
        ip = _embedded_ipv4(ip) or ip
    if ip.is_loopback and allow_loopback:
        return
    if not ip.is_global or ip.is_multicast:
        raise UnsafeUrl(f"the URL's host is a private or reserved address ({ip})")


def resolve_checked(url: str, *, allow_loopback: bool = False) -> str:
    """Resolves the URL's host now and refuses if any address is not public; answers
    the first address, which the caller must connect to (`pinned`): resolving the name
    again to connect would let a DNS answer with a short TTL pass this check with a
    public address and then aim the request at a private one (DNS rebinding).
    Blocking: run it in a thread. Raises UnsafeUrl (also when the name does not resolve)."""
    parts = urlsplit(check_url(url, allow_loopback=allow_loopback))
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise UnsafeUrl(
            f"the URL's host does not resolve ({exc.strerror or exc})", transient=True
        ) from exc
    addresses = [info[4][0].split("%", 1)[0] for info in infos]
    for address in addresses:
        try:
            _check_address(ipaddress.ip_address(address), allow_loopback)
        except UnsafeUrl:
            # not which address: the delivery log would map the inside network's names
            raise UnsafeUrl("the URL's host resolves to a private or reserved address") from None
    if not addresses:
        raise UnsafeUrl("the URL's host resolves to no address", transient=True)
    return addresses[0]


@dataclass(frozen=True)
class Pinned:
    """A request aimed at one checked address: `url` names the address, `host` is the
    Host header and `sni` the TLS server name (certificates are still checked against
    the URL's own host name)."""

    url: str
    host: str
    sni: str


def pinned(url: str, address: str) -> Pinned:
    original = httpx.URL(url)
    return Pinned(
        url=str(original.copy_with(host=address)),
        host=original.netloc.decode("ascii"),
        sni=original.raw_host.decode("ascii"),
    )
