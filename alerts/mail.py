"""Email: a notice's message as a multipart email, and sending it over SMTP.

`compose` is pure: the same `Message` (`alerts.message`) every other channel renders becomes a
plain-text part and an HTML part, the subject is its headline, the `Message-ID` is made from the
delivery's webhook-id (a retry is recognisably the same message) and `List-Unsubscribe` points at the
subscription. `send_mail` is the blocking SMTP exchange (smtplib): `smtps://` speaks TLS from the
first byte, `smtp://` upgrades with STARTTLS when the server offers it, and logs in when the URL has
a user. It never raises: what the server answered becomes an `AttemptResult` whose `status_code` is
the SMTP reply code (2xx delivered; 4xx and 5xx retried; see `permanent_refusal`). Callers run it off
their event loop, in a bounded pool.
"""

from __future__ import annotations

import html
import smtplib
import socket
import ssl
import time
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, formatdate
from urllib.parse import unquote, urlsplit

from alerts.message import Message
from alerts.policy import AttemptResult

PORTS = {"smtp": 587, "smtps": 465}
EXAMPLE_URL = "smtp://user:password@mail.example.org:587"
MAX_ADDRESSES = 50
PERMANENT_CODES = frozenset({550, 551, 553})
"""Reply codes to a recipient that mean the address does not exist or is not accepted for good."""


@dataclass(frozen=True)
class SmtpServer:
    """Where mail goes: `tls` is TLS from the start (smtps://); otherwise STARTTLS when offered."""

    host: str
    port: int
    tls: bool = False
    user: str | None = None
    password: str | None = None

    def __repr__(self) -> str:  # the password stays out of logs
        return f"SmtpServer({'smtps' if self.tls else 'smtp'}://{self.host}:{self.port})"


def parse_smtp_url(text: object) -> SmtpServer | str:
    """The server `smtp://user:pass@host:587` or `smtps://host` names, or what is wrong with it, in
    words for the user. Never raises."""
    if not isinstance(text, str) or not text.strip():
        return f"give the SMTP server as a URL like {EXAMPLE_URL}"
    try:
        parts = urlsplit(text.strip())
        port = parts.port
        host = parts.hostname
    except ValueError as exc:
        return f"not an SMTP URL ({exc}); write it like {EXAMPLE_URL}"
    if parts.scheme not in PORTS:
        return f"the scheme is smtp:// (STARTTLS when offered) or smtps:// (TLS), not {parts.scheme or 'none'}"
    if not host:
        return f"the URL names no host; write it like {EXAMPLE_URL}"
    user = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password else None
    return SmtpServer(host, port or PORTS[parts.scheme], parts.scheme == "smtps", user, password)


def address_problem(address: object) -> str | None:
    """What is wrong with an email address, or None. Only the shape is checked: one `@` with text on
    both sides, a dot in the domain, no spaces, angle brackets, commas or control characters."""
    if not isinstance(address, str) or not address.strip():
        return "an address is a non-empty text like someone@example.org"
    local, at, domain = address.strip().rpartition("@")
    if not at or not local or not domain:
        return f"{address!r} is not an email address: it needs an @, like someone@example.org"
    if "." not in domain.strip(".") or any(c.isspace() or c in '<>,;"()' or ord(c) < 32 for c in address.strip()):
        return f"{address!r} is not an email address like someone@example.org"
    if len(address) > 254:
        return f"{address[:40]!r}... is longer than an email address may be (254 characters)"
    return None


def message_id(webhook_id: str, sender: str) -> str:
    """`<webhook-id@sender's domain>`: the same on every attempt of a delivery."""
    domain = sender.rpartition("@")[2].strip().strip(">") or "timeline.invalid"
    return f"<{webhook_id}@{domain}>"


def plain_text(message: Message) -> str:
    lines = [message.headline, ""]
    if message.text:
        lines += [message.text, ""]
    lines += [f"{label}: {value}" for label, value in message.facts]
    if message.link:
        lines += ["", message.link]
    return "\n".join(lines).strip() + "\n"


def html_text(message: Message) -> str:
    e = html.escape
    parts = [f"<h2>{e(message.headline)}</h2>"]
    if message.text:
        parts.append(f"<p>{e(message.text).replace(chr(10), '<br>' + chr(10))}</p>")
    if message.facts:
        rows = "".join(f"<tr><th align=left>{e(label)}</th><td>{e(value)}</td></tr>" for label, value in message.facts)
        parts.append(f"<table>{rows}</table>")
    if message.link:
        parts.append(f'<p><a href="{e(message.link, quote=True)}">{e(message.link)}</a></p>')
    return f"<!doctype html><html><body>{''.join(parts)}</body></html>\n"


def compose(
    message: Message,
    *,
    webhook_id: str,
    sender: str,
    to: Sequence[str],
    unsubscribe: str | None,
    sent_at: float | None = None,
) -> EmailMessage:
    """The email of a notice's `message` from `sender` to `to`. `unsubscribe` is the subscription's
    address (List-Unsubscribe); `sent_at` the Date (seconds since the epoch; default now)."""
    mail = EmailMessage()
    mail["Subject"] = " ".join(message.headline.split())[:250] or "Notice"
    mail["From"] = formataddr(("timeline-alerts", sender))
    mail["To"] = ", ".join(to)
    mail["Date"] = formatdate(sent_at if sent_at is not None else time.time(), usegmt=True)
    mail["Message-ID"] = message_id(webhook_id, sender)
    mail["X-Webhook-Id"] = webhook_id
    mail["Auto-Submitted"] = "auto-generated"
    if unsubscribe:
        mail["List-Unsubscribe"] = f"<{unsubscribe}>"
    mail.set_content(plain_text(message))
    mail.add_alternative(html_text(message), subtype="html")
    return mail


def permanent_refusal(result: AttemptResult) -> bool:
    """Whether a failed attempt says the address is refused for good (like an HTTP 410)."""
    return result.status_code in PERMANENT_CODES


def send_mail(server: SmtpServer, mail: EmailMessage, timeout: float) -> AttemptResult:
    """Hand `mail` to `server` (blocking). Never raises: an answer that is not 2xx, or no answer,
    is the attempt's failure, with the reply code and text. Certificates are verified against the
    default trust store (a private CA is trusted with SSL_CERT_FILE); a password is only ever sent
    over TLS, and never appears in the failure's text."""
    started = time.perf_counter()
    where = f"{server.host}:{server.port}"

    def result(code: int | None, error: str | None = None, excerpt: str | None = None) -> AttemptResult:
        if error and server.password:
            error = error.replace(server.password, "(password)")
        return AttemptResult(code, (time.perf_counter() - started) * 1000, error, excerpt=excerpt)

    try:
        client: smtplib.SMTP = (
            smtplib.SMTP_SSL(server.host, server.port, timeout=timeout, context=ssl.create_default_context())
            if server.tls
            else smtplib.SMTP(server.host, server.port, timeout=timeout)
        )
    except ssl.SSLCertVerificationError as exc:
        return result(None, _unverified(where, exc))
    except (OSError, smtplib.SMTPException) as exc:
        return result(None, f"cannot reach the SMTP server {where}: {_reason(exc)}")
    polite = True
    try:
        refused = _exchange(client, server, mail)
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        worst = max(codes, key=lambda c: (c in PERMANENT_CODES, c)) if codes else None
        return result(worst, f"every recipient was refused: {_refusals(exc.recipients)}")
    except smtplib.SMTPAuthenticationError as exc:
        text = f"{exc.smtp_code} {_text(exc.smtp_error)}"
        return result(
            exc.smtp_code,
            f"the SMTP server {where} refused the login of {server.user} ({text}); "
            "check the user and password in the SMTP URL",
        )
    except smtplib.SMTPResponseException as exc:
        return result(exc.smtp_code, f"the SMTP server answered {exc.smtp_code} {_text(exc.smtp_error)}")
    except _NoStartTls:
        return result(
            None,
            f"the SMTP server {where} offers no STARTTLS, so the password is not sent to it in clear; "
            "use smtps:// or a server that offers STARTTLS",
        )
    except ssl.SSLCertVerificationError as exc:
        polite = False
        return result(None, _unverified(where, exc))
    except (OSError, smtplib.SMTPException) as exc:
        polite = not isinstance(exc, ssl.SSLError)
        return result(None, f"SMTP exchange with {where} failed: {_reason(exc)}")
    finally:
        _close(client, polite)
    note = f"refused: {_refusals(refused)}" if refused else None
    return result(250, None, note)


class _NoStartTls(Exception):
    """The URL has a user and the smtp:// server offers no STARTTLS: its password stays unsent."""


def _exchange(client: smtplib.SMTP, server: SmtpServer, mail: EmailMessage) -> dict[str, tuple[int, bytes]]:
    """EHLO, STARTTLS when offered (smtp://), AUTH when the URL has a user, then the message. What
    is refused of the recipients; raises what smtplib raises, and `_NoStartTls`."""
    client.ehlo()
    if not server.tls and client.has_extn("starttls"):
        client.starttls(context=ssl.create_default_context())
        client.ehlo()
    elif not server.tls and server.user:
        raise _NoStartTls
    if server.user:
        client.login(server.user, server.password or "")
    return client.send_message(mail)


def _close(client: smtplib.SMTP, polite: bool) -> None:
    """QUIT and close; after a failed TLS handshake only close (nothing more goes out in clear)."""
    try:
        if polite:
            client.quit()
    except (OSError, smtplib.SMTPException):
        pass
    finally:
        client.close()


def _unverified(where: str, exc: ssl.SSLCertVerificationError) -> str:
    why = str(exc.verify_message or exc.reason or "unknown reason").rstrip(".")
    return (
        f"the certificate of the SMTP server {where} does not verify ({why}); "
        "if a private CA signs it, point SSL_CERT_FILE at that CA's certificate"
    )


def _refusals(refused: dict[str, tuple[int, bytes]]) -> str:
    return "; ".join(f"{address} ({code} {_text(text)})" for address, (code, text) in sorted(refused.items()))


def _text(value: bytes | str) -> str:
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
    return " ".join(text.split())[:300]


def _reason(exc: BaseException) -> str:
    if isinstance(exc, socket.timeout | TimeoutError):
        return "timed out"
    return str(exc) or type(exc).__name__
