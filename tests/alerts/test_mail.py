"""Email: composing (pure) and sending to a real SMTP server on 127.0.0.1 (aiosmtpd)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from alerts.mail import SmtpServer, address_problem, compose, parse_smtp_url, permanent_refusal, send_mail
from alerts.message import Message
from tests.alerts.smtpd import MailServer

MESSAGE = Message.of(
    "Anthropic US construction is due <today>",
    "The window closed on 1 Jan 2028 & nothing says it is done.",
    [("Window", "2027"), ("Tags", "anthropic, us")],
    "https://timeline.example.org/#m-anthropic",
)


@pytest.fixture
def smtp() -> Iterator[MailServer]:
    with MailServer() as server:
        yield server


def server_of(url: str) -> SmtpServer:
    parsed = parse_smtp_url(url)
    assert isinstance(parsed, SmtpServer), parsed
    return parsed


def mail(to: list[str], webhook_id: str = "msg_0123456789abcdef0123456789abcdef") -> object:
    return compose(
        MESSAGE,
        webhook_id=webhook_id,
        sender="alerts@timeline.example.org",
        to=to,
        unsubscribe="https://timeline.example.org/api/subscriptions/sub_1",
        sent_at=1_800_000_000,
    )


def test_smtp_urls() -> None:
    assert parse_smtp_url("smtp://bob:p%40ss@mail.example.org:2525") == SmtpServer(
        "mail.example.org", 2525, False, "bob", "p@ss"
    )
    assert parse_smtp_url("smtps://mail.example.org") == SmtpServer("mail.example.org", 465, True)
    assert parse_smtp_url("smtp://mail.example.org") == SmtpServer("mail.example.org", 587, False)
    assert "p@ss" not in repr(parse_smtp_url("smtp://bob:p%40ss@mail.example.org"))
    assert "smtp:// (STARTTLS when offered) or smtps://" in str(parse_smtp_url("http://mail.example.org"))
    assert "names no host" in str(parse_smtp_url("smtp://:25"))


@given(st.one_of(st.text(), st.none(), st.integers()))
def test_reading_an_smtp_url_or_an_address_never_raises(value: object) -> None:
    assert isinstance(parse_smtp_url(value), SmtpServer | str)
    assert address_problem(value) is None or isinstance(address_problem(value), str)


@pytest.mark.parametrize(
    ("address", "bad"),
    [
        ("ops@example.org", False),
        ("ops.example.org", True),
        ("@example.org", True),
        ("ops@localhost", True),
        ("a b@example.org", True),
        ("ops@example.org, x@y.org", True),
        ("", True),
    ],
)
def test_addresses(address: str, bad: bool) -> None:
    assert (address_problem(address) is not None) == bad


def test_the_email_carries_the_same_words_twice_and_is_recognisable_on_retry(smtp: MailServer) -> None:
    result = send_mail(server_of(smtp.url), mail(["ops@example.org", "cto@example.org"]), timeout=5)  # type: ignore[arg-type]
    assert result.ok, result
    assert result.status_code == 250
    assert send_mail(server_of(smtp.url), mail(["ops@example.org"]), timeout=5).ok  # type: ignore[arg-type]
    first, again = smtp.received
    assert first.sender == "alerts@timeline.example.org"
    assert first.recipients == ["ops@example.org", "cto@example.org"]
    got = first.message
    assert got["Subject"] == "Anthropic US construction is due <today>"
    assert got["Message-ID"] == "<msg_0123456789abcdef0123456789abcdef@timeline.example.org>"
    assert again.message["Message-ID"] == got["Message-ID"]
    assert got["List-Unsubscribe"] == "<https://timeline.example.org/api/subscriptions/sub_1>"
    assert got["To"] == "ops@example.org, cto@example.org"
    assert got.get_content_type() == "multipart/alternative"
    plain = got.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    rich = got.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert "The window closed on 1 Jan 2028 & nothing says it is done." in plain
    assert "Window: 2027" in plain
    assert "https://timeline.example.org/#m-anthropic" in plain
    assert "<h2>Anthropic US construction is due &lt;today&gt;</h2>" in rich
    assert "1 Jan 2028 &amp; nothing" in rich
    assert "<th align=left>Tags</th><td>anthropic, us</td>" in rich
    assert '<a href="https://timeline.example.org/#m-anthropic">' in rich


def test_a_refused_address_is_permanent_and_a_busy_one_is_retried(smtp: MailServer) -> None:
    gone = send_mail(server_of(smtp.url), mail(["nobody@example.org"]), timeout=5)  # type: ignore[arg-type]
    assert not gone.ok
    assert (gone.status_code, permanent_refusal(gone)) == (550, True)
    assert "nobody@example.org (550 5.1.1 No such user here)" in (gone.error or "")
    busy = send_mail(server_of(smtp.url), mail(["busy@example.org"]), timeout=5)  # type: ignore[arg-type]
    assert (busy.status_code, busy.ok, permanent_refusal(busy)) == (451, False, False)
    assert smtp.received == []


def test_one_refused_recipient_among_others_is_delivered_and_noted(smtp: MailServer) -> None:
    result = send_mail(server_of(smtp.url), mail(["ops@example.org", "nobody@example.org"]), timeout=5)  # type: ignore[arg-type]
    assert result.ok
    assert "nobody@example.org (550" in (result.excerpt or "")
    assert [r.recipients for r in smtp.received] == [["ops@example.org"]]


def test_a_server_error_after_the_data_is_retried(smtp: MailServer) -> None:
    smtp.handler.data_reply = "554 5.6.0 Message rejected"
    result = send_mail(server_of(smtp.url), mail(["ops@example.org"]), timeout=5)  # type: ignore[arg-type]
    assert (result.status_code, result.ok, permanent_refusal(result)) == (554, False, False)
    assert "554 5.6.0 Message rejected" in (result.error or "")


def test_no_server_is_a_failure_with_the_address() -> None:
    with MailServer() as gone:
        url = gone.url
    result = send_mail(server_of(url), mail(["ops@example.org"]), timeout=2)  # type: ignore[arg-type]
    assert (result.status_code, result.ok) == (None, False)
    assert f"cannot reach the SMTP server 127.0.0.1:{url.rsplit(':', 1)[1]}" in (result.error or "")
