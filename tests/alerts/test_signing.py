"""Standard Webhooks signatures, checked with the reference library."""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime, timedelta

import pytest
from freezegun import freeze_time
from hypothesis import given
from hypothesis import strategies as st
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from alerts.errors import SubscriptionError
from alerts.signing import check_secret, headers, new_secret, new_webhook_id, signature


def test_the_published_test_vector() -> None:
    # The example of the Standard Webhooks specification and its reference libraries' tests.
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    at = datetime.fromtimestamp(1614265330, UTC)
    expected = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    assert signature("msg_p5jXN8AQM9LWM0D4loKWxJek", at, '{"test": 2432232314}', [secret]) == expected


def test_secrets_are_whsec_and_32_random_bytes() -> None:
    secret = new_secret()
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 32
    assert new_secret() != secret
    assert check_secret(secret) == secret


@given(
    earlier=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2999, 12, 31), timezones=st.just(UTC)),
    # 2 ms at least: freezegun's time_ns() goes through a float, which can cost it a millisecond.
    later_by=st.timedeltas(min_value=timedelta(milliseconds=2), max_value=timedelta(days=365 * 100)),
)
def test_webhook_ids_sort_by_when_they_were_made(earlier: datetime, later_by: timedelta) -> None:
    """`msg_` and 32 hex digits, milliseconds first: an id made later sorts after, so the index on
    them grows at one end; ids made in the same millisecond still differ."""
    with freeze_time(earlier):
        first, twin = new_webhook_id(), new_webhook_id()
    with freeze_time(earlier + later_by):
        second = new_webhook_id()
    assert all(re.fullmatch(r"msg_[0-9a-f]{32}", made) for made in (first, twin, second))
    assert first < second and twin < second
    assert first != twin and first[:16] == twin[:16]


@pytest.mark.parametrize(
    "bad", ["MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_***", "whsec_" + base64.b64encode(b"short").decode()]
)
def test_bad_secrets_are_refused(bad: str) -> None:
    with pytest.raises(SubscriptionError) as caught:
        check_secret(bad)
    assert caught.value.field == "secret"


@given(body=st.text(), msg_id=st.from_regex(r"msg_[a-zA-Z0-9]{1,30}", fullmatch=True))
def test_signatures_round_trip_through_the_reference_library(body: str, msg_id: str) -> None:
    secret = "whsec_" + base64.b64encode(b"k" * 24).decode()
    now = datetime.now(UTC)
    signed = headers(msg_id, int(now.timestamp()), body, [secret])
    assert Webhook(secret).verify(body, signed, json_parse=False) is None


@given(
    key=st.binary(min_size=24, max_size=64),
    body=st.text(),
    at=st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2999, 1, 1), timezones=st.timezones()),
)
def test_signatures_equal_the_reference_librarys(key: bytes, body: str, at: datetime) -> None:
    """We sign with hmac directly (half the reference library's cost); the bytes must match."""
    secret = "whsec_" + base64.b64encode(key).decode()
    expected = Webhook(secret).sign("msg_1", at.astimezone(UTC), body)
    assert signature("msg_1", at, body, [secret]) == expected
    signed = headers("msg_1", int(at.timestamp()), body, [secret])
    assert (signed["webhook-timestamp"], signed["webhook-signature"]) == (str(int(at.timestamp())), expected)


def test_a_changed_body_id_or_timestamp_is_rejected() -> None:
    secret = new_secret()
    now = datetime.now(UTC)
    body = '{"type":"test.ping","data":{}}'
    signed = headers("msg_1", int(now.timestamp()), body, [secret])
    verifier = Webhook(secret)
    verifier.verify(body, signed)
    with pytest.raises(WebhookVerificationError):
        verifier.verify(body.replace("ping", "pong"), signed)
    with pytest.raises(WebhookVerificationError):
        verifier.verify(body, {**signed, "webhook-id": "msg_2"})
    with pytest.raises(WebhookVerificationError):
        verifier.verify(body, {**signed, "webhook-timestamp": str(int(now.timestamp()) - 1)})
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(body, signed)
    stale = headers("msg_1", int((now - timedelta(minutes=10)).timestamp()), body, [secret])
    with pytest.raises(WebhookVerificationError, match="too old"):
        verifier.verify(body, stale)


def test_during_a_rotation_both_secrets_sign() -> None:
    old, new = new_secret(), new_secret()
    now = datetime.now(UTC)
    signed = headers("msg_1", int(now.timestamp()), "{}", [new, old])
    assert len(signed["webhook-signature"].split(" ")) == 2
    Webhook(old).verify("{}", signed)
    Webhook(new).verify("{}", signed)
