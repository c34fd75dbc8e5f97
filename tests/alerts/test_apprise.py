"""Apprise: URLs checked at creation, sending end to end to local servers (json://, ntfy://), and
the address guard refusing before any connection is made."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alerts.apprise_send import apprise_problem, send_apprise
from alerts.guard import AddressPolicy
from alerts.message import Message
from tests.alerts.receiver import Receiver

OPEN = AddressPolicy(allow_private=True)
CLOSED = AddressPolicy()
MESSAGE = Message.of(
    "Google Iowa is due", "The window closed on 1 Jul 2026.", [("Window", "2026-H1")], "https://example.org/#m-g"
)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as r:
        yield r


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("foo://bar/baz", "foo:// is not a service Apprise knows"),
        ("no scheme here", "an Apprise URL looks like"),
        ("json://127.0.0.1:8080/x", "127.0.0.1 is a loopback address"),
        ("ntfy://localhost/topic", "127.0.0.1 is a loopback address"),
        ("json://10.1.2.3/x", "10.1.2.3 is a private address"),
    ],
)
def test_unusable_urls_are_refused_saying_why(url: str, says: str) -> None:
    problem = apprise_problem(url, CLOSED)
    assert problem is not None and says in problem


def test_known_services_are_accepted() -> None:
    for url in (
        "ntfys://ntfy.example.org/alerts",
        "tgram://123456789:AAbbccdd_eeff/12345",
        "json://hooks.example.org/x",
    ):
        assert apprise_problem(url, CLOSED) is None, url
    assert apprise_problem("json://127.0.0.1:8080/x", OPEN) is None


@settings(max_examples=50)
@given(st.one_of(st.text(max_size=60), st.none(), st.integers()))
def test_checking_a_url_never_raises(value: object) -> None:
    assert apprise_problem(value, CLOSED) is None or isinstance(apprise_problem(value, CLOSED), str)


def test_json_end_to_end(receiver: Receiver) -> None:
    url = receiver.url("/apprise").replace("http://", "json://")
    result = send_apprise(url, MESSAGE, OPEN, timeout=5)
    assert result.ok, result
    (got,) = receiver.at("/apprise")
    body = json.loads(got.body)
    assert body["title"] == "Google Iowa is due"
    assert "The window closed on 1 Jul 2026." in body["message"]
    assert "Window: 2026-H1" in body["message"]


def test_ntfy_end_to_end(receiver: Receiver) -> None:
    url = f"ntfy://127.0.0.1:{receiver.port}/timeline-alerts"
    result = send_apprise(url, MESSAGE, OPEN, timeout=5)
    assert result.ok, result
    (got,) = receiver.received
    assert got.path.strip("/") in ("", "timeline-alerts")
    assert "Google Iowa is due" in got.body + json.dumps(got.headers)
    assert "The window closed on 1 Jul 2026." in got.body


def test_a_failing_service_is_one_failed_attempt_without_retries(receiver: Receiver) -> None:
    from tests.alerts.receiver import Reply

    receiver.reply("/down", Reply(503), Reply(503), Reply(503))
    result = send_apprise(receiver.url("/down").replace("http://", "json://"), MESSAGE, OPEN, timeout=5)
    assert not result.ok
    assert "did not take the notice" in (result.error or "")
    assert len(receiver.at("/down")) == 1


def test_the_guard_refuses_before_any_connection_is_made() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        port = listener.getsockname()[1]
        # `localhost` passes no check made on the URL's text: only the address connected to is judged.
        for url in (f"json://localhost:{port}/x", f"ntfy://localhost:{port}/topic"):
            result = send_apprise(url, MESSAGE, CLOSED, timeout=2)
            assert not result.ok
            assert "refused by the address guard before connecting" in (result.error or "")
            assert "loopback" in (result.error or "")
        listener.settimeout(0.2)
        with pytest.raises(TimeoutError):
            listener.accept()  # nothing ever connected, not even left in the backlog
