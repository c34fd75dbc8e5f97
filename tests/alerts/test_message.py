"""A notice's words for people, read back from any payload without raising."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from alerts.message import MAX_FACTS, Message, message_of, type_words

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=20,
)


def test_a_carried_message_round_trips() -> None:
    message = Message.of(
        "Construction is due",
        "It ends today.",
        [("Window", "2027"), ("Status", "in progress")],
        "https://timeline.example/#m-x",
    )
    payload = {"type": "milestone.due", "timestamp": "2028-01-01T00:00:00Z", "data": {"message": message.as_dict()}}
    assert message_of(payload) == message
    facts = [{"label": "Window", "value": "2027"}, {"label": "Status", "value": "in progress"}]
    assert message.as_dict()["facts"] == facts


def test_a_payload_without_a_message_gets_one_from_its_type_and_summary() -> None:
    payload = {"type": "feed.item_matched", "data": {"summary": "An article matched", "link": "javascript:alert(1)"}}
    assert message_of(payload) == Message("Feed item matched", "An article matched", (), None)
    assert message_of({"type": "milestone.window_opened"}).headline == "Milestone window opened"
    assert message_of(None) == Message("Notice")
    stored = {"type": "milestone.due", "data": {"title": " Build ", "summary": "Build: due now"}}
    assert message_of(stored) == Message("Build", "Build: due now")  # a payload stored before messages


def test_hygiene_controls_surrogates_links_and_fact_count() -> None:
    message = Message.of(
        "a\x00b\ud800",
        "line\nnext\ttab\x1b",
        [(f"l{i}", "v") for i in range(10)] + [("", "x")],
        "https://ok.example/ with space",
    )
    assert message.headline == "a\ufffdb\ufffd"
    assert message.text == "line\nnext\ttab\ufffd"
    assert len(message.facts) == MAX_FACTS
    assert message.link is None
    assert Message.of("h", link="HTTPS://Example.org/x").link == "HTTPS://Example.org/x"
    assert Message.of("h", link="ftp://example.org/").link is None


def test_type_words() -> None:
    assert type_words("subscription.disabled") == "Subscription disabled"
    assert type_words("") == "Notice"


@given(JSON)
def test_any_payload_gives_a_message(payload: Any) -> None:
    message = message_of(payload)
    assert isinstance(message.headline, str) and message.headline
    assert len(message.facts) <= MAX_FACTS


@given(st.dictionaries(st.sampled_from(["headline", "text", "facts", "link"]), JSON))
def test_any_damaged_message_gives_a_message(carried: dict[str, Any]) -> None:
    message = message_of({"type": "x.y", "data": {"message": carried}})
    assert message.headline
    assert message.link is None or message.link.lower().startswith(("http://", "https://"))
