"""Reading the capability bounding set decides whether the runc wrapper is needed."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.host.docker import CAP_SYS_RESOURCE, missing_capabilities


def test_lab_vm_lacks_cap_sys_resource():
    # CapBnd as read on the lab VMs: every capability but bit 24
    status = "Name:\tbash\nCapBnd:\t000001fffeffffff\n"
    assert missing_capabilities(status) == [CAP_SYS_RESOURCE]


def test_full_bounding_set_misses_nothing():
    assert missing_capabilities("CapBnd:\t000001ffffffffff\n") == []


def test_status_without_capbnd_is_an_error():
    with pytest.raises(ValueError, match="CapBnd"):
        missing_capabilities("Name:\tbash\n")


@given(st.sets(st.integers(min_value=0, max_value=40)))
def test_missing_is_the_complement_of_the_mask(present):
    mask = sum(1 << cap for cap in present)
    missing = missing_capabilities(f"CapBnd:\t{mask:016x}\n")
    assert set(missing) == set(range(41)) - present
