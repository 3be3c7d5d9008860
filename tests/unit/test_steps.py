"""A failing step names itself, its command and the tail of its output."""

import sys

import pytest

from harness.errors import StepFailed
from harness.steps import TAIL_LINES, run, run_logged


def test_failure_carries_step_command_and_tail():
    script = "import sys\nfor i in range(100): print('line', i)\nsys.exit(3)"
    with pytest.raises(StepFailed) as err:
        run("count lines", [sys.executable, "-c", script])
    message = str(err.value)
    assert "count lines" in message
    assert "exit 3" in message
    assert "line 99" in message
    assert "line 0\n" not in message
    assert len(err.value.tail.splitlines()) == TAIL_LINES


def test_missing_program_is_a_step_failure():
    with pytest.raises(StepFailed, match="no-such-program"):
        run("missing", ["no-such-program-here"])


def test_logged_failure_points_at_the_log(tmp_path):
    log = tmp_path / "step.log"
    with pytest.raises(StepFailed) as err:
        run_logged("fail", [sys.executable, "-c", "print('boom'); raise SystemExit(2)"], log)
    assert "boom" in str(err.value)
    assert str(log) in str(err.value)
