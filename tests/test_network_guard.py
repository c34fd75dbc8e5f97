"""The suite's own promise: nothing in a test process reaches past loopback."""

from __future__ import annotations

import socket

import pytest


def test_names_other_than_loopback_do_not_resolve() -> None:
    with pytest.raises(socket.gaierror, match="only loopback"):
        socket.getaddrinfo("news.google.com", 443)
    assert socket.getaddrinfo("localhost", 80)


def test_connections_past_loopback_are_refused_before_a_packet() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock, pytest.raises(ConnectionRefusedError):
        sock.connect(("192.0.2.1", 9))  # TEST-NET-1: never routed anywhere in any case
