"""The SSRF guard: outgoing HTTP only to public addresses, unless settings allow more.

The decision (`refusal`) is a pure function of an address and a policy, tested for every range
without sending a packet. The enforcement checks the address actually connected to: `GuardedConnector`
filters the addresses aiohttp is about to connect to, so a host name that resolves to 127.0.0.1, or a
redirect to one, is refused the same as a literal address.
"""

from __future__ import annotations

import functools
import ipaddress
import socket
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, NamedTuple
from urllib.parse import SplitResult, urlsplit

import aiohttp
from aiohttp.abc import ResolveResult

from alerts.errors import UnsafeTargetError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


@dataclass(frozen=True)
class AddressPolicy:
    """Which addresses outgoing requests may reach. The default refuses everything not public.

    `private_setting` and `cidrs_setting` name the settings that lift the guard for these requests
    (the application's names: this package knows none), so that a refusal says what to change."""

    allow_private: bool = False
    allow_cidrs: tuple[IPNetwork, ...] = field(default_factory=tuple)
    private_setting: str | None = None
    cidrs_setting: str | None = None

    @classmethod
    def from_settings(
        cls,
        allow_private: bool,
        cidrs: list[str] | tuple[str, ...] = (),
        *,
        private_setting: str | None = None,
        cidrs_setting: str | None = None,
    ) -> AddressPolicy:
        networks = tuple(ipaddress.ip_network(c, strict=False) for c in cidrs)
        return cls(allow_private, networks, private_setting, cidrs_setting)


_SIX_TO_FOUR = ipaddress.ip_network("2002::/16")
_SITE_LOCAL = ipaddress.ip_network("fec0::/10")
_UNIQUE_LOCAL = ipaddress.ip_network("fc00::/7")
_METADATA = frozenset({ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")})
"""Cloud metadata services: never opened by the allow-private switch, only by an explicit range."""


class _Range(NamedTuple):
    name: str
    sealed: bool  # link-local or metadata: the allow-private switch does not open it


def _classify(ip: IPAddress) -> _Range | None:
    """The refused range `ip` is in, or None for a public address."""
    found = _classify_range(ip)
    if ip in _METADATA:
        return _Range(f"{found.name} cloud metadata" if found else "cloud metadata", True)
    return found


def _classify_range(ip: IPAddress) -> _Range | None:
    if isinstance(ip, ipaddress.IPv6Address):
        inner = _embedded(ip)
        if inner is not None:
            return _classify_embedded(ip, inner)
        if ip in _SITE_LOCAL:
            return _Range("IPv6 site-local", False)
        if ip in _UNIQUE_LOCAL:
            return _Range("IPv6 unique-local", False)
    checks = (
        (ip.is_loopback, "loopback"),
        (ip.is_link_local, "link-local"),
        (isinstance(ip, ipaddress.IPv4Address) and ip in _CGNAT, "carrier-grade NAT"),
        (ip.is_multicast, "multicast"),
        (ip.is_unspecified, "unspecified"),
        (ip.is_reserved, "reserved"),
        (ip.is_private, "private"),
        (not ip.is_global, "non-global"),
    )
    name = next((name for hit, name in checks if hit), None)
    return None if name is None else _Range(name, name == "link-local")


def _embedded(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv4-mapped, NAT64 or 6to4 address carries."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip.sixtofour


def _classify_embedded(ip: ipaddress.IPv6Address, inner: ipaddress.IPv4Address) -> _Range | None:
    found = _classify(inner)
    if ip in _SIX_TO_FOUR:  # a tunnel to any IPv4 address: refused whatever it carries
        return _Range(f"6to4 ({found.name})" if found else "6to4", found.sealed if found else False)
    kind = "IPv4-mapped " if ip.ipv4_mapped is not None else ""
    return _Range(f"{kind}{found.name}", found.sealed) if found else None


@functools.lru_cache(maxsize=4096)
def _verdict(address: str, policy: AddressPolicy) -> _Range | None:
    """The range that refuses `address` under `policy`, or None when it may be reached. An explicit
    range in `allow_cidrs` opens anything; the allow-private switch opens every refused range but
    link-local and cloud metadata addresses."""
    try:
        ip = ipaddress.ip_address(address.strip("[]").split("%", 1)[0])
    except ValueError:
        return _Range("", False)
    if any(ip in net for net in policy.allow_cidrs):
        return None
    found = _classify(ip)
    if found is None or (policy.allow_private and not found.sealed):
        return None
    return found


@functools.lru_cache(maxsize=4096)
def refusal(address: str, policy: AddressPolicy) -> str | None:
    """Why `address` may not be reached under `policy`, or None when it may.

    Memoised: it is pure, and it runs for every request and every address connected to.
    """
    found = _verdict(address, policy)
    if found is None:
        return None
    if not found.name:
        return f"{address!r} is not an IP address"
    ip = ipaddress.ip_address(address.strip("[]").split("%", 1)[0])
    article = "an" if found.name[0] in "aeiouIU" else "a"
    return f"{ip} is {article} {found.name} address"


def sealed(address: str, policy: AddressPolicy) -> bool:
    """Whether `address` is refused in a range only an explicit CIDR opens (link-local, metadata)."""
    found = _verdict(address, policy)
    return found is not None and found.sealed


def check_url(url: str, policy: AddressPolicy) -> SplitResult:
    """Refuse what can be refused from the URL alone: the scheme, a missing host, a literal address.
    Returns the URL's parts; ValueError when it cannot be split."""
    parts = _split(url)
    reason = _url_refusal(parts.scheme, parts.hostname, policy)
    if reason:
        raise UnsafeTargetError(url, reason)
    return parts


_split = functools.lru_cache(maxsize=16384)(urlsplit)
"""Feeds are fetched from the same URLs cycle after cycle: split each once (the parts are immutable)."""


@functools.lru_cache(maxsize=4096)
def _url_refusal(scheme: str, hostname: str | None, policy: AddressPolicy) -> str | None:
    if scheme not in ("http", "https"):
        return "only http and https URLs are allowed"
    if not hostname:
        return "the URL has no host"
    if is_localhost(hostname):
        # Loopback by definition (RFC 6761): judged as 127.0.0.1 and ::1 would be.
        reason = refusal("127.0.0.1", policy) and refusal("::1", policy)
        return _advice(f"{hostname} names a loopback address", policy, "127.0.0.1") if reason else None
    try:
        ipaddress.ip_address(hostname)
    except ValueError:
        return None  # a name: judged on the addresses it resolves to, by GuardedConnector
    reason = refusal(hostname, policy)
    return _advice(reason, policy, hostname) if reason else None


def is_localhost(hostname: str) -> bool:
    """`localhost` or a name under `.localhost`, which always mean this machine (RFC 6761)."""
    name = hostname.lower().rstrip(".")
    return name == "localhost" or name.endswith(".localhost")


def _advice(reason: str, policy: AddressPolicy, address: str) -> str:
    private = None if sealed(address, policy) else policy.private_setting
    ways = [f"set {private}=true" if private else None, policy.cidrs_setting]
    if policy.cidrs_setting:
        ways[1] = f"add the address range to {policy.cidrs_setting}"
    named = [way for way in ways if way]
    if not named:
        return f"{reason}; such targets are refused unless the settings allow them"
    return f"{reason}; such targets are refused. To allow them, {' or '.join(named)}"


class GuardedConnector(aiohttp.TCPConnector):
    """A TCPConnector that checks every address it is about to connect to, literal or resolved.

    It sits where aiohttp turns a host into addresses, so it also sees each redirect hop and host
    names that resolve to private ranges; the DNS cache is off so that nothing skips it.
    """

    def __init__(self, policy: AddressPolicy, **kwargs: Any) -> None:
        kwargs.setdefault("resolver", aiohttp.ThreadedResolver())
        super().__init__(use_dns_cache=False, **kwargs)
        self._policy = policy

    async def _resolve_host(self, host: str, port: int, traces: Any = None) -> list[ResolveResult]:
        results = await super()._resolve_host(host, port, traces)
        allowed = [r for r in results if refusal(r["host"], self._policy) is None]
        if not allowed:
            reason = refusal(results[0]["host"], self._policy) if results else "no address"
            target = host if results and results[0]["host"] == host else f"{host} resolves to an address that"
            address = results[0]["host"] if results else ""
            raise UnsafeTargetError(f"{target}:{port}", _advice(reason or "refused", self._policy, address))
        return allowed


def resolved_refusal(
    hostname: str, policy: AddressPolicy, resolve: Callable[[str], Sequence[str]] | None = None
) -> str | None:
    """At creation of a target: why `hostname` (a name, not a literal address) is refused because
    every address it resolves to is refused, or None (some address is allowed, or the name does not
    resolve now: the connection is checked again when it is made). `resolve` defaults to the
    system resolver, bounded to `RESOLVE_TIMEOUT` seconds."""
    try:
        ipaddress.ip_address(hostname.strip("[]"))
        return None  # a literal: `check_url` judged it
    except ValueError:
        pass
    addresses = (resolve or _resolve)(hostname)
    reasons = [refusal(address, policy) for address in addresses]
    if not addresses or not all(reasons):
        return None
    return _advice(f"{hostname} resolves only to refused addresses ({reasons[0]})", policy, addresses[0])


RESOLVE_TIMEOUT = 3.0
_resolver_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="alerts-resolve")


def _resolve(hostname: str) -> list[str]:
    """The addresses `hostname` resolves to now; none when it does not resolve within the timeout."""
    try:
        infos = _resolver_pool.submit(socket.getaddrinfo, hostname, None).result(RESOLVE_TIMEOUT)
    except (OSError, UnicodeError, ValueError, TimeoutError):
        return []
    return sorted({str(info[4][0]) for info in infos})
