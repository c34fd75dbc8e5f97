"""Settings from the environment: defaults, and one clear line per bad value."""

from __future__ import annotations

import pytest

from timeline.errors import SettingsError
from timeline.settings import load_settings


def test_links_point_at_the_listen_address_by_default() -> None:
    assert load_settings().base_url == "http://127.0.0.1:8000"
    assert load_settings(host="::1", port=9000).base_url == "http://[::1]:9000"


def test_public_url_is_where_links_point() -> None:
    assert load_settings(public_url="https://timeline.example.org/").base_url == "https://timeline.example.org"
    assert load_settings(public_url="http://host:8080/plans").base_url == "http://host:8080/plans"
    assert load_settings(public_url="  ").base_url == "http://127.0.0.1:8000"


@pytest.mark.parametrize("value", ["timeline.example.org", "ftp://x.example", "https://x.example/?a=1", "https://"])
def test_a_bad_public_url_is_one_clear_line(value: str) -> None:
    with pytest.raises(SettingsError) as raised:
        load_settings(public_url=value)
    assert str(raised.value).splitlines()[1].startswith("TIMELINE_PUBLIC_URL: use the address people open")
