"""The SSRF guard: outgoing HTTP only to public addresses, unless settings allow more.

The decision (`refusal`) is a pure function of an address and a policy, tested for every range
without sending a packet. The enforcement checks the address actually connected to: `GuardedConnector`
filters the addresses aiohttp is about to connect to, so a host name that resolves to 127.0.0.1, or a
redirect to one, is refused the same as a literal address.
"""

from __future__ import annotations

import functools
import ipaddress
from dataclasses import dataclass, field
from typing import Any
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


def _range_name(ip: IPAddress) -> str | None:
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            inner = _range_name(ip.ipv4_mapped)
            return f"IPv4-mapped {inner}" if inner else None
        if ip in _NAT64:
            return _range_name(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
        if ip in ipaddress.ip_network("fc00::/7"):
            return "IPv6 unique-local"
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
    return next((name for hit, name in checks if hit), None)


@functools.lru_cache(maxsize=4096)
def refusal(address: str, policy: AddressPolicy) -> str | None:
    """Why `address` may not be reached under `policy`, or None when it may.

    Memoised: it is pure, and it runs for every request and every address connected to.
    """
    try:
        ip = ipaddress.ip_address(address.strip("[]").split("%", 1)[0])
    except ValueError:
        return f"{address!r} is not an IP address"
    if any(ip in net for net in policy.allow_cidrs):
        return None
    name = _range_name(ip)
    if name is None or policy.allow_private:
        return None
    return f"{ip} is a {name} address"


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
    try:
        ipaddress.ip_address(hostname)
    except ValueError:
        return None  # a name: judged on the addresses it resolves to, by GuardedConnector
    reason = refusal(hostname, policy)
    return _advice(reason, policy) if reason else None


def _advice(reason: str, policy: AddressPolicy) -> str:
    ways = [f"set {policy.private_setting}=true" if policy.private_setting else None, policy.cidrs_setting]
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
            raise UnsafeTargetError(f"{target}:{port}", _advice(reason or "refused", self._policy))
        return allowed
