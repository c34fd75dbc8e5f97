"""Email over TLS: STARTTLS on smtp://, TLS from the first byte on smtps://, AUTH with the URL's
user and password, and certificates that do not verify. Real aiosmtpd servers on 127.0.0.1 with
throwaway self-signed certificates made here by the `openssl` CLI; the client trusts them the way
an operator trusts a private CA, through SSL_CERT_FILE."""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from alerts.config import AlertsConfig
from alerts.mail import SmtpServer, compose, parse_smtp_url, send_mail
from alerts.message import Message
from alerts.outbox import DELIVERIES
from alerts.sending import deliver_once
from tests.alerts.helpers import notice, publish_many, subscribe
from tests.alerts.smtpd import MailServer

Pair = tuple[Path, Path]
MESSAGE = Message.of("Anthropic US construction is due", "The window closed.", [("Window", "2027")], None)
SECRET = "s3cret-Pa55"


def _certificate(directory: Path, name: str, san: str) -> Pair:
    cert, key = directory / f"{name}.pem", directory / f"{name}.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-days", "2", "-subj", f"/CN={name}", "-addext", f"subjectAltName={san}",
         "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Pair]:
    """`trusted`: for 127.0.0.1 and localhost; `stranger`: the same names, signed by nobody trusted;
    `elsewhere`: trusted but for another name."""
    if shutil.which("openssl") is None:
        pytest.fail("the TLS tests make their certificates with the openssl command; install openssl")
    directory = tmp_path_factory.mktemp("certs")
    trusted = _certificate(directory, "trusted", "IP:127.0.0.1,DNS:localhost")
    elsewhere = _certificate(directory, "elsewhere", "DNS:mail.elsewhere.example")
    bundle = directory / "bundle.pem"
    bundle.write_bytes(trusted[0].read_bytes() + elsewhere[0].read_bytes())
    return {
        "trusted": trusted,
        "stranger": _certificate(directory, "stranger", "IP:127.0.0.1,DNS:localhost"),
        "elsewhere": elsewhere,
        "bundle": (bundle, bundle),
    }


@pytest.fixture(autouse=True)
def trust(certs: dict[str, Pair], monkeypatch: pytest.MonkeyPatch) -> None:
    """Trust `trusted` and `elsewhere` as an operator trusts a private CA."""
    monkeypatch.setenv("SSL_CERT_FILE", str(certs["bundle"][0]))
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)


def server_of(url: str) -> SmtpServer:
    parsed = parse_smtp_url(url)
    assert isinstance(parsed, SmtpServer), parsed
    return parsed


def with_login(url: str, user: str, password: str) -> str:
    scheme, rest = url.split("://")
    return f"{scheme}://{user}:{password}@{rest}"


def send(url: str) -> object:
    mail = compose(MESSAGE, webhook_id="msg_1", sender="alerts@timeline.example.org", to=["ops@example.org"],
                   unsubscribe=None, sent_at=1_800_000_000)  # fmt: skip
    return send_mail(server_of(url), mail, timeout=5)


@pytest.fixture
def starttls(certs: dict[str, Pair]) -> Iterator[MailServer]:
    with MailServer(tls="starttls", cert=certs["trusted"], logins={"bob": SECRET}) as server:
        yield server


def test_smtp_upgrades_with_starttls_when_offered(starttls: MailServer) -> None:
    result = send(starttls.url)
    assert result.ok, result  # type: ignore[attr-defined]
    (got,) = starttls.received
    assert got.tls in {"TLSv1.2", "TLSv1.3"}
    assert got.recipients == ["ops@example.org"]
    assert got.message["Subject"] == "Anthropic US construction is due"
    assert starttls.handler.mail_from == [("alerts@timeline.example.org", True)]


def test_smtps_speaks_tls_from_the_first_byte(certs: dict[str, Pair]) -> None:
    with MailServer(tls="implicit", cert=certs["trusted"]) as server:
        assert server.url.startswith("smtps://127.0.0.1:")
        result = send(server.url)
        assert result.ok, result  # type: ignore[attr-defined]
        (got,) = server.received
    assert got.tls in {"TLSv1.2", "TLSv1.3"}
    assert got.message["Subject"] == "Anthropic US construction is due"


@pytest.mark.parametrize("tls", ["starttls", "implicit"])
def test_the_urls_user_and_password_log_in_over_tls(certs: dict[str, Pair], tls: str) -> None:
    with MailServer(tls=tls, cert=certs["trusted"], logins={"bob@example.org": "p@ss:word/1"}) as server:  # type: ignore[arg-type]
        url = with_login(server.url, "bob%40example.org", "p%40ss%3Aword%2F1")
        assert send(url).ok  # type: ignore[attr-defined]
        (got,) = server.received
    assert (got.login, got.tls is not None) == ("bob@example.org", True)
    assert server.handler.tried == [("bob@example.org", True)]


def test_a_wrong_password_is_a_failure_that_names_the_user_and_not_the_password(starttls: MailServer) -> None:
    result = send(with_login(starttls.url, "bob", "wrong-Pa55"))
    assert (result.ok, result.status_code) == (False, 535)  # type: ignore[attr-defined]
    reason = result.error or ""  # type: ignore[attr-defined]
    assert f"the SMTP server 127.0.0.1:{starttls.port} refused the login of bob" in reason
    assert "535 5.7.8 Authentication credentials invalid" in reason
    assert "check the user and password in the SMTP URL" in reason
    assert "wrong-Pa55" not in reason and SECRET not in reason
    assert starttls.received == [] and starttls.handler.mail_from == []


def test_a_password_is_never_sent_in_clear(certs: dict[str, Pair]) -> None:
    with MailServer(logins={"bob": SECRET}, auth_in_clear=True) as server:  # AUTH offered, no STARTTLS
        result = send(with_login(server.url, "bob", SECRET))
    reason = result.error or ""  # type: ignore[attr-defined]
    assert result.ok is False  # type: ignore[attr-defined]
    assert f"the SMTP server 127.0.0.1:{server.port} offers no STARTTLS" in reason
    assert "use smtps:// or a server that offers STARTTLS" in reason
    assert SECRET not in reason
    assert server.handler.tried == [] and server.handler.mail_from == [] and server.received == []


def test_without_a_login_a_server_without_starttls_gets_the_mail_in_clear() -> None:
    with MailServer() as server:
        assert send(server.url).ok  # type: ignore[attr-defined]
        (got,) = server.received
    assert got.tls is None


@pytest.mark.parametrize(
    ("tls", "cert", "why"),
    [
        ("starttls", "stranger", "self-signed certificate"),
        ("implicit", "stranger", "self-signed certificate"),
        ("starttls", "elsewhere", "IP address mismatch, certificate is not valid for '127.0.0.1'"),
        ("implicit", "elsewhere", "IP address mismatch, certificate is not valid for '127.0.0.1'"),
    ],
)
def test_a_certificate_that_does_not_verify_is_a_failure_and_nothing_goes_in_clear(
    certs: dict[str, Pair], tls: str, cert: str, why: str
) -> None:
    with MailServer(tls=tls, cert=certs[cert], logins={"bob": SECRET}) as server:  # type: ignore[arg-type]
        result = send(with_login(server.url, "bob", SECRET))
    reason = result.error or ""  # type: ignore[attr-defined]
    assert (result.ok, result.status_code) == (False, None)  # type: ignore[attr-defined]
    assert f"the certificate of the SMTP server 127.0.0.1:{server.port} does not verify ({why}" in reason
    assert "SSL_CERT_FILE" in reason
    assert SECRET not in reason
    assert server.handler.tried == [] and server.handler.mail_from == [] and server.received == []


def test_the_outbox_records_a_wrong_password_and_retries(
    engine: Engine, config: AlertsConfig, starttls: MailServer
) -> None:
    now = datetime(2026, 3, 1, 12, tzinfo=UTC)
    config = dataclasses.replace(
        config, smtp_url=with_login(starttls.url, "bob", "wrong-Pa55"), mail_from="alerts@timeline.example.org"
    )
    subscribe(engine, config, now, None, format="email", to=["ops@example.org"])
    publish_many(engine, [notice("due", now)], now)
    stats = deliver_once(engine, config, now, "w1")
    assert stats.delivered == 0
    with engine.connect() as conn:
        (row,) = conn.execute(select(DELIVERIES.c.status, DELIVERIES.c.last_error, DELIVERIES.c.next_attempt_at))
    assert row.status == "pending" and row.next_attempt_at is not None and row.next_attempt_at > now
    assert "refused the login of bob (535 5.7.8 Authentication credentials invalid)" in row.last_error
    assert "wrong-Pa55" not in row.last_error
    assert starttls.received == []


def test_a_server_answer_that_repeats_the_password_is_recorded_without_it(starttls: MailServer) -> None:
    starttls.handler.data_reply = f"554 5.7.1 Rejected for bob:{SECRET}"
    result = send(with_login(starttls.url, "bob", SECRET))
    assert (result.status_code, result.error) == (554, "the SMTP server answered 554 5.7.1 Rejected for bob:(password)")  # type: ignore[attr-defined]
