"""Waits end on success, or time out with what was expected and what was last seen."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.errors import FaultNotLanded, WaitTimeout
from harness.observe.wait import wait_until


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def test_returns_the_first_value():
    clock = FakeClock()
    answers = iter([(None, "pending"), (None, "pending"), ("done", "ok")])
    assert wait_until("x", lambda: next(answers), 10, 1, clock, clock.sleep) == "done"
    assert clock.now == 2


def test_timeout_names_expectation_and_last_seen():
    clock = FakeClock()
    with pytest.raises(WaitTimeout) as err:
        wait_until("node Ready", lambda: (None, "NotReady"), 5, 1, clock, clock.sleep)
    assert "node Ready" in str(err.value)
    assert "NotReady" in str(err.value)
    assert err.value.seconds == 5


def test_probe_errors_count_as_not_yet():
    clock = FakeClock()
    calls = []

    def probe():
        calls.append(1)
        if len(calls) < 3:
            raise ConnectionError("refused")
        return True, "up"

    assert wait_until("api", probe, 10, 1, clock, clock.sleep) is True


def test_probe_error_is_reported_on_timeout():
    clock = FakeClock()

    def probe():
        raise ConnectionError("connection refused")

    with pytest.raises(WaitTimeout, match="ConnectionError: connection refused"):
        wait_until("api", probe, 3, 1, clock, clock.sleep)


@given(timeout=st.floats(min_value=0.1, max_value=100), interval=st.floats(0.05, 10))
def test_never_waits_past_the_deadline(timeout, interval):
    clock = FakeClock()
    with pytest.raises(WaitTimeout):
        wait_until("never", lambda: (None, "no"), timeout, interval, clock, clock.sleep)
    assert clock.now == pytest.approx(timeout)


def test_a_probe_that_finds_the_fault_did_not_land_ends_the_wait():
    clock = FakeClock()

    def probe():
        raise FaultNotLanded("progress continued during the partition")

    with pytest.raises(FaultNotLanded, match="partition"):
        wait_until("recovery", probe, 30, 1, clock, clock.sleep)
    assert clock.now == 0
