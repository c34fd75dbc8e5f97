"""The guard's decision over whole ranges (hypothesis draws addresses in each): 6to4 and site-local
refused; the allow-private switch opens loopback and private ranges but never link-local or cloud
metadata addresses, which only an explicit range in the allow list opens."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from alerts.errors import UnsafeTargetError
from alerts.guard import AddressPolicy, check_url, refusal

DEFAULT = AddressPolicy()
PRIVATE = AddressPolicy(allow_private=True, private_setting="X_ALLOW_PRIVATE", cidrs_setting="X_ALLOW_CIDRS")


def addresses(cidr: str) -> st.SearchStrategy[str]:
    """Any address of `cidr`."""
    net = ipaddress.ip_network(cidr)
    return st.integers(0, net.num_addresses - 1).map(lambda i: str(net[i]))


OPENED_BY_THE_SWITCH = [
    "127.0.0.0/8",
    "::1/128",
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "fc00::/7",
    "100.64.0.0/10",
    "fec0::/10",
]
SEALED = ["169.254.0.0/16", "fe80::/10", "::ffff:169.254.0.0/112", "64:ff9b::a9fe:0/112", "2002:a9fe::/32"]


@given(st.one_of(addresses("2002::/16"), addresses("fec0::/10")))
def test_6to4_and_site_local_addresses_are_refused(address: str) -> None:
    reason = refusal(address, DEFAULT)
    assert reason is not None
    assert "6to4" in reason or "site-local" in reason


@given(st.one_of(*(addresses(cidr) for cidr in OPENED_BY_THE_SWITCH)))
def test_the_allow_private_switch_opens_loopback_and_private_ranges(address: str) -> None:
    assert refusal(address, DEFAULT) is not None
    assert refusal(address, PRIVATE) is None


@given(st.one_of(*(addresses(cidr) for cidr in SEALED)))
def test_the_allow_private_switch_never_opens_link_local(address: str) -> None:
    reason = refusal(address, PRIVATE)
    assert reason is not None and "link-local" in reason


@pytest.mark.parametrize("address", ["169.254.169.254", "fd00:ec2::254", "::ffff:169.254.169.254"])
def test_cloud_metadata_addresses_stay_refused_with_the_switch_on(address: str) -> None:
    reason = refusal(address, PRIVATE)
    assert reason is not None and "cloud metadata" in reason


@pytest.mark.parametrize(
    ("address", "cidr"),
    [("169.254.169.254", "169.254.169.254/32"), ("fe80::1", "fe80::/10"), ("fd00:ec2::254", "fd00:ec2::/64")],
)
def test_only_an_explicit_range_opens_link_local_and_metadata(address: str, cidr: str) -> None:
    assert refusal(address, AddressPolicy.from_settings(True, [cidr])) is None
    assert refusal(address, AddressPolicy.from_settings(False, [cidr])) is None


@given(addresses("2002::/16"))
def test_the_switch_opens_6to4_only_where_it_carries_no_link_local_address(address: str) -> None:
    inner = ipaddress.IPv6Address(address).sixtofour
    assert inner is not None
    assert (refusal(address, PRIVATE) is None) == (not inner.is_link_local)


def test_a_sealed_refusal_names_only_the_setting_that_can_open_it() -> None:
    with pytest.raises(UnsafeTargetError) as refused:
        check_url("http://169.254.169.254/latest/meta-data", PRIVATE)
    assert "X_ALLOW_CIDRS" in str(refused.value) and "X_ALLOW_PRIVATE" not in str(refused.value)
    with pytest.raises(UnsafeTargetError) as private:
        check_url(
            "http://10.0.0.1/hook", DEFAULT.__class__(cidrs_setting="X_ALLOW_CIDRS", private_setting="X_ALLOW_PRIVATE")
        )
    assert "X_ALLOW_PRIVATE=true" in str(private.value)
