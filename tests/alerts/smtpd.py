"""A real SMTP server on 127.0.0.1 (aiosmtpd) that keeps what it received, for the email tests.

Recipients whose local part is `nobody` are refused for good (550), `busy` for now (451); with
`data_reply` set, every message is answered with that reply instead of 250. With `tls` the server
offers STARTTLS (`"starttls"`) or speaks TLS from the first byte (`"implicit"`) with the given
certificate; with `logins` it offers AUTH (only over TLS unless `auth_in_clear`) and accepts those
users and passwords. It notes what the client did: every MAIL FROM and login it was sent, and
whether each message came over TLS.
"""

from __future__ import annotations

import email
import email.policy
import socket
import ssl
import threading
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Literal

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


@dataclass
class Received:
    sender: str
    recipients: list[str]
    message: EmailMessage
    tls: str | None = None
    """The TLS version the message came over ("TLSv1.3"), None in clear."""
    login: str | None = None
    """The user the client logged in as, None without AUTH."""


@dataclass
class _Handler:
    received: list[Received] = field(default_factory=list)
    data_reply: str | None = None
    logins: dict[str, str] = field(default_factory=dict)
    tried: list[tuple[str, bool]] = field(default_factory=list)
    """Every login attempt: (user, came over TLS)."""
    mail_from: list[tuple[str, bool]] = field(default_factory=list)
    """Every MAIL FROM: (address, came over TLS)."""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        if not isinstance(data, LoginPassword):
            return AuthResult(success=False, handled=False)
        user, password = data.login.decode(), data.password.decode()
        with self.lock:
            self.tried.append((user, _tls(server) is not None))
        ok = user in self.logins and self.logins[user] == password
        return AuthResult(success=ok, handled=False, auth_data=data)

    async def handle_MAIL(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        with self.lock:
            self.mail_from.append((address, _tls(server) is not None))
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        local = address.partition("@")[0]
        if local == "nobody":
            return "550 5.1.1 No such user here"
        if local == "busy":
            return "451 4.3.0 Mailbox busy, try later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.data_reply is not None:
            return self.data_reply
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        login = session.auth_data.login.decode() if session.authenticated else None
        got = Received(envelope.mail_from, list(envelope.rcpt_tos), parsed, _tls(server), login)  # type: ignore[arg-type]
        with self.lock:
            self.received.append(got)
        return "250 Message accepted"


def _tls(server: Any) -> str | None:
    transport = getattr(server, "transport", None)
    secured = transport.get_extra_info("ssl_object") if transport is not None else None
    return secured.version() if secured is not None else None


class MailServer:
    """`with MailServer() as smtp:` serves on `smtp.url` (smtp://127.0.0.1:PORT, or smtps:// with
    implicit TLS) until the block ends."""

    def __init__(
        self,
        *,
        tls: Literal["starttls", "implicit"] | None = None,
        cert: tuple[Path, Path] | None = None,
        logins: dict[str, str] | None = None,
        auth_in_clear: bool = False,
    ) -> None:
        self.handler = _Handler(logins=dict(logins or {}))
        self.tls = tls
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        context = None
        if tls is not None:
            assert cert is not None, "a TLS server needs a (certificate, key) pair"
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*cert)
        # aiosmtpd counts only STARTTLS as TLS for AUTH; its implicit TLS is TLS all the same.
        options: dict[str, Any] = {"auth_require_tls": not auth_in_clear and tls != "implicit"}
        if logins is not None:
            options["authenticator"] = self.handler.authenticate
        if tls == "starttls":
            options["tls_context"] = context
        self.controller = Controller(
            self.handler,
            hostname="127.0.0.1",
            port=self.port,
            ssl_context=context if tls == "implicit" else None,
            **options,
        )

    @property
    def url(self) -> str:
        return f"{'smtps' if self.tls == 'implicit' else 'smtp'}://127.0.0.1:{self.port}"

    @property
    def received(self) -> list[Received]:
        with self.handler.lock:
            return list(self.handler.received)

    def __enter__(self) -> MailServer:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()
