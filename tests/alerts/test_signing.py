"""Standard Webhooks signatures, checked with the reference library."""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime, timedelta

import pytest
from freezegun import freeze_time
from hypothesis import given, settings
from hypothesis import strategies as st
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from alerts.errors import SubscriptionError
from alerts.signing import check_secret, headers, new_secret, new_webhook_id, signature, signing_keys


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


@settings(deadline=None)  # freezegun is slow, the more so on a loaded machine
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


def _secret_of(size: int) -> str:
    return "whsec_" + base64.b64encode(bytes(range(size))).decode()


@pytest.mark.parametrize("size", [24, 32, 64])
def test_secrets_of_24_to_64_bytes_are_accepted(size: int) -> None:
    assert check_secret(_secret_of(size)) == _secret_of(size)


@pytest.mark.parametrize("size", [23, 65])
def test_secrets_just_outside_24_to_64_bytes_say_how_long_they_are(size: int) -> None:
    with pytest.raises(SubscriptionError) as caught:
        check_secret(_secret_of(size), field="secrets[1]")
    assert str(caught.value).startswith(f"a signing secret holds 24 to 64 bytes, this one {size}")
    assert caught.value.field == "secrets[1]"


@pytest.mark.parametrize("junk", ["!", "-", " ", "_"])
def test_a_secret_with_characters_outside_base64_is_refused(junk: str) -> None:
    """Lenient base64 would skip the stray character and accept the secret; receivers' libraries
    would then derive another key, and every signature would fail."""
    good = _secret_of(32)
    with pytest.raises(SubscriptionError) as caught:
        check_secret(good[:10] + junk + good[10:])
    assert str(caught.value).startswith("a signing secret is whsec_ followed by base64")


def test_a_secret_without_the_prefix_says_what_it_starts_with() -> None:
    with pytest.raises(SubscriptionError) as caught:
        check_secret(_secret_of(32).removeprefix("whsec_"), field="secret")
    assert str(caught.value).startswith("a signing secret starts with 'whsec_'")


def test_the_three_headers_by_name() -> None:
    secret = _secret_of(32)
    signed = headers("msg_1", 1614265330, "{}", [secret])
    assert signed == {
        "webhook-id": "msg_1",
        "webhook-timestamp": "1614265330",
        "webhook-signature": signature("msg_1", datetime.fromtimestamp(1614265330, UTC), "{}", [secret]),
    }
    assert signed["webhook-signature"].startswith("v1,") and " " not in signed["webhook-signature"]


def test_a_webhook_id_starts_with_the_milliseconds_it_was_made_at() -> None:
    with freeze_time(datetime(2026, 3, 1, 12, 0, 0, 123000, tzinfo=UTC)):
        made = new_webhook_id()
    millis = int(datetime(2026, 3, 1, 12, 0, 0, 123000, tzinfo=UTC).timestamp() * 1000)
    assert int(made[4:16], 16) in (millis - 1, millis)
    assert len(made) == 36


NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("secret", "previous", "expires_at", "keys"),
    [
        ("whsec_new", None, None, ("whsec_new",)),
        ("whsec_new", "whsec_old", NOW + timedelta(seconds=1), ("whsec_new", "whsec_old")),
        ("whsec_new", "whsec_old", NOW, ("whsec_new",)),  # the overlap ends at its instant
        ("whsec_new", "whsec_old", NOW - timedelta(days=1), ("whsec_new",)),
        ("whsec_new", "whsec_old", None, ("whsec_new",)),  # no end recorded: the old secret is gone
        ("whsec_new", "", NOW + timedelta(days=1), ("whsec_new",)),
        (None, "whsec_old", NOW + timedelta(days=1), ("whsec_old",)),
        ("", None, None, ()),
        (None, None, NOW + timedelta(days=1), ()),
    ],
)
def test_the_keys_a_notice_is_signed_with(
    secret: str | None, previous: str | None, expires_at: datetime | None, keys: tuple[str, ...]
) -> None:
    """The current secret first, then the previous one while its overlap lasts (strictly before
    `previous_expires_at`): receivers that still hold the old secret keep verifying until then."""
    found = signing_keys(secret, previous, expires_at, NOW)
    assert found == keys
    assert type(found) is tuple
