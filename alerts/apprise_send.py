"""Apprise: a notice's message sent to any service Apprise speaks (`ntfys://`, `tgram://`,
`msteams://`, `matrix://`, `json://`...), one attempt per call.

The outbox owns retries: Apprise's own are off (`retry = 0`), and so is its throttling (a plugin
would sleep between requests). Apprise's calls block (requests), so callers run `send_apprise` in a
bounded thread pool, off their event loop.

The address guard holds for every connection a plugin opens, whatever the plugin: while
`send_apprise` runs, a process-wide audit hook (`sys.addaudithook`, the `socket.connect` event) checks
each address the thread is about to connect to against the policy and refuses a refused one before
the connection is made. Checked are the addresses actually connected to, so a name that resolves to
127.0.0.1, or a redirect to it, is refused like a literal address. Other threads are not concerned.
"""

from __future__ import annotations

import functools
import ipaddress
import sys
import threading
import time
from typing import Any

from alerts.guard import AddressPolicy, refusal
from alerts.message import Message
from alerts.policy import AttemptResult

WIKI = "https://github.com/caronc/apprise/wiki"
_guarded = threading.local()


class RefusedAddress(ConnectionRefusedError):
    """A connection the address guard refused before it was made."""


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if event != "socket.connect":
        return
    policy: AddressPolicy | None = getattr(_guarded, "policy", None)
    if policy is None:
        return
    address = args[1]
    host = address[0] if isinstance(address, tuple) and address else None
    reason = refusal(str(host), policy) if isinstance(host, str) else "not an internet address"
    if reason is not None:
        _guarded.refused = reason
        raise RefusedAddress(reason)


_hook_lock = threading.Lock()
_hooked = False


def _install_hook() -> None:
    global _hooked
    with _hook_lock:
        if not _hooked:
            sys.addaudithook(_audit)
            _hooked = True


def plugin_of(url: str) -> Any | None:
    """The Apprise plugin `url` names, configured, or None when Apprise reads no service in it."""
    import apprise  # loaded when an Apprise URL is first read: its plugins take a while to load

    try:
        return apprise.Apprise.instantiate(url, suppress_exceptions=True)
    except Exception:  # a plugin's own parsing may raise anything; the answer is "not a service"
        return None


def apprise_problem(url: object, policy: AddressPolicy) -> str | None:
    """What is wrong with an Apprise URL, or None: not a service Apprise knows (an unknown scheme,
    a URL its plugin cannot read), or a literal address or `localhost` the guard refuses. Never
    raises. Names are judged at each connection, on the addresses they resolve to."""
    if not isinstance(url, str) or "://" not in url:
        return f"an Apprise URL looks like ntfys://ntfy.sh/topic or tgram://TOKEN/CHAT_ID (see {WIKI})"
    scheme = url.split("://", 1)[0].lower()
    if scheme not in _schemes():
        return f"{scheme}:// is not a service Apprise knows; the services and their URLs are listed at {WIKI}"
    plugin = plugin_of(url)
    if plugin is None:
        return f"Apprise cannot read this {scheme}:// URL; its form is described at {WIKI}"
    host = getattr(plugin, "host", None)
    if isinstance(host, str) and host:
        name = host.strip("[]").lower()
        if name == "localhost" or name.endswith(".localhost"):
            name = "127.0.0.1"
        try:
            ipaddress.ip_address(name)
        except ValueError:
            return None
        reason = refusal(name, policy)
        if reason is not None:
            return f"{reason}; such targets are refused unless the settings allow them"
    return None


@functools.cache
def _schemes() -> frozenset[str]:
    import apprise

    details = apprise.Apprise().details()
    found: set[str] = set()
    for service in details.get("schemas", []):
        for key in ("protocols", "secure_protocols"):
            value = service.get(key) or ()
            found.update(str(v).lower() for v in ([value] if isinstance(value, str) else value))
    return frozenset(found)


def send_apprise(url: str, message: Message, policy: AddressPolicy, timeout: float) -> AttemptResult:
    """Send `message` to the service `url` names, once (blocking). Never raises: a refusal by the
    guard, a plugin's failure or exception is the attempt's failure, with what Apprise said."""
    started = time.perf_counter()

    def result(error: str | None, code: int | None) -> AttemptResult:
        return AttemptResult(code, (time.perf_counter() - started) * 1000, error)

    import apprise

    plugin = plugin_of(url)
    if plugin is None:
        return result("Apprise reads no service in this URL", None)
    plugin.retry = 0
    plugin.request_rate_per_sec = 0
    plugin.socket_connect_timeout = timeout
    plugin.socket_read_timeout = timeout
    _install_hook()
    _guarded.policy, _guarded.refused = policy, None
    try:
        with apprise.LogCapture(level=apprise.logging.WARNING) as logs:  # type: ignore[no-untyped-call]
            sent = plugin.notify(body=_body(message), title=message.headline)
        said = " ".join(str(logs.getvalue()).split())[-500:]
    except Exception as exc:  # a plugin is third-party code: its bug is this attempt's failure
        sent, said = False, f"{type(exc).__name__}: {exc}"
    finally:
        refused, _guarded.policy, _guarded.refused = _guarded.refused, None, None
    if refused is not None:
        return result(f"refused by the address guard before connecting: {refused}", None)
    if sent:
        return result(None, 200)
    return result(f"the Apprise service did not take the notice: {said or 'no reason given'}", None)


def _body(message: Message) -> str:
    lines = [message.text] if message.text else []
    lines += [f"{label}: {value}" for label, value in message.facts]
    if message.link:
        lines.append(message.link)
    return "\n".join(lines) or message.headline
