"""Silences: the pure decision (hypothesis) and their storage, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine

from alerts.errors import NotFoundError, SilenceError
from alerts.silence_store import add_silence, expire_silence, list_silences
from alerts.silences import Silence, silenced_note, silencing

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(days=7)
words = st.sampled_from(["a", "b", "c"])
types = st.sampled_from(["milestone.due", "milestone.overdue", "feed.item_matched"])
instants = st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2026, 6, 1), timezones=st.just(UTC))


def silence(**fields: object) -> Silence:
    base: dict[str, object] = {
        "id": "sil_1",
        "subject": None,
        "tag": None,
        "types": "*",
        "starts_at": NOW,
        "ends_at": LATER,
        "reason": "renegotiated",
        "created_at": NOW,
    }
    return Silence(**{**base, **fields})  # type: ignore[arg-type]


silences = st.builds(
    silence,
    id=st.sampled_from(["sil_1", "sil_2", "sil_3"]),
    subject=st.one_of(st.none(), words),
    tag=st.one_of(st.none(), words),
    types=st.sampled_from(["*", "milestone.*", "milestone.due", "feed.*"]),
    starts_at=instants,
    ends_at=instants,
)


def test_a_milestone_silence_mutes_only_that_milestone_while_it_holds() -> None:
    s = silence(subject="anthropic-us")
    assert silencing([s], "milestone.due", (), ("anthropic-us",), NOW) == s
    assert silencing([s], "milestone.due", (), ("google-iowa",), NOW) is None
    assert silencing([s], "milestone.due", (), ("anthropic-us",), NOW - timedelta(seconds=1)) is None
    assert silencing([s], "milestone.due", (), ("anthropic-us",), LATER) is None


def test_a_tag_silence_with_a_type_glob() -> None:
    s = silence(tag="us", types="milestone.overdue")
    assert silencing([s], "milestone.overdue", ("us", "dc"), ("x",), NOW) == s
    assert silencing([s], "milestone.due", ("us",), ("x",), NOW) is None
    assert silencing([s], "milestone.overdue", ("eu",), ("x",), NOW) is None


def test_of_two_silences_the_one_ending_last_is_named() -> None:
    short, long = silence(id="sil_a", tag="us"), silence(id="sil_b", tag="us", ends_at=LATER + timedelta(days=1))
    assert silencing([short, long], "milestone.due", ("us",), (), NOW) == long
    assert "sil_b until 2026-03-09 12:00 UTC: renegotiated" in silenced_note(long)


@given(st.lists(silences, max_size=5), types, st.lists(words, max_size=3), st.lists(words, max_size=3), instants)
def test_a_notice_is_silenced_exactly_when_a_holding_silence_names_it(
    all_: list[Silence], kind: str, tags: list[str], subjects: list[str], now: datetime
) -> None:
    found = silencing(all_, kind, tags, subjects, now)
    naming = [
        s
        for s in all_
        if s.starts_at <= now < s.ends_at
        and (kind == s.types or s.types == "*" or (s.types.endswith(".*") and kind.startswith(s.types[:-1])))
        and (s.subject is None or s.subject in subjects)
        and (s.tag is None or s.tag in tags)
    ]
    assert (found is not None) == bool(naming)
    if found is not None:
        assert found in naming
        assert found.ends_at == max(s.ends_at for s in naming)


def test_add_list_and_expire(engine: Engine) -> None:
    with engine.begin() as conn:
        made = add_silence(conn, NOW, subject=" anthropic-us ", until=LATER, reason="being renegotiated")
        other = add_silence(conn, NOW, tag="us", types="milestone.overdue", until=LATER + timedelta(days=1), reason="x")
    assert made.id.startswith("sil_")
    assert (made.subject, made.tag, made.types, made.starts_at, made.ends_at) == ("anthropic-us", None, "*", NOW, LATER)
    with engine.begin() as conn:
        assert [s.id for s in list_silences(conn, NOW)] == [made.id, other.id]
        ended = expire_silence(conn, made.id, NOW + timedelta(hours=1))
    assert (ended.ends_at, ended.expired_at) == (NOW + timedelta(hours=1), NOW + timedelta(hours=1))
    with engine.begin() as conn:
        assert [s.id for s in list_silences(conn, NOW + timedelta(hours=2))] == [other.id]
        assert [s.id for s in list_silences(conn, NOW + timedelta(hours=2), ended=True)] == [made.id, other.id]
        again = expire_silence(conn, made.id, NOW + timedelta(hours=3))
    assert again.ends_at == NOW + timedelta(hours=1)


@pytest.mark.parametrize(
    ("fields", "field", "says"),
    [
        ({"until": LATER, "reason": "x"}, "milestone", "either a milestone or a tag"),
        ({"subject": "m", "tag": "t", "until": LATER, "reason": "x"}, "milestone", "either a milestone or a tag"),
        ({"subject": "m", "until": LATER, "reason": "  "}, "reason", "non-empty"),
        ({"subject": "m", "until": NOW, "reason": "x"}, "until", "already past"),
        ({"subject": "m", "until": datetime(2027, 1, 1), "reason": "x"}, "until", "time zone"),
        ({"subject": "m" * 201, "until": LATER, "reason": "x"}, "milestone", "at most 200"),
    ],
)
def test_a_bad_silence_is_refused_naming_the_field(
    engine: Engine, fields: dict[str, object], field: str, says: str
) -> None:
    with engine.begin() as conn, pytest.raises(SilenceError, match=says) as caught:
        add_silence(conn, NOW, **fields)  # type: ignore[arg-type]
    assert caught.value.field == field


def test_expiring_an_unknown_silence_says_how_to_find_them(engine: Engine) -> None:
    with engine.begin() as conn, pytest.raises(NotFoundError, match="timeline silences"):
        expire_silence(conn, "sil_nope", NOW)
