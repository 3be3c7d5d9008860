"""Run external commands as named steps whose failures say what, how and why."""

from __future__ import annotations

import os
import subprocess
from collections import deque
from collections.abc import Mapping, Sequence
from pathlib import Path

from harness.errors import StepFailed

__all__ = ["run", "run_logged"]

TAIL_LINES = 40


def run(
    step: str,
    command: Sequence[str],
    *,
    input: bytes | None = None,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float | None = None,
    check: bool = True,
) -> subprocess.CompletedProcess[bytes]:
    """Run a short command, capturing its output; raise StepFailed on a non-zero exit."""
    full_env = {**os.environ, **env} if env else None
    try:
        done = subprocess.run(
            list(command),
            input=input,
            env=full_env,
            cwd=cwd,
            timeout=timeout,
            capture_output=True,
            check=False,
        )
    except FileNotFoundError as exc:
        raise StepFailed(step, list(command), 127, str(exc)) from exc
    except subprocess.TimeoutExpired as exc:
        out = (exc.stdout or b"") + (exc.stderr or b"")
        raise StepFailed(
            step,
            list(command),
            -1,
            f"timed out after {timeout}s\n" + _tail(out.decode(errors="replace")),
        ) from exc
    if check and done.returncode != 0:
        text = (done.stdout + done.stderr).decode(errors="replace")
        raise StepFailed(step, list(command), done.returncode, _tail(text))
    return done


def run_logged(
    step: str,
    command: Sequence[str],
    log: Path,
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    stdin: int | None = subprocess.DEVNULL,
) -> None:
    """Run a long command with its output appended to a log file; on failure show its tail."""
    log.parent.mkdir(parents=True, exist_ok=True)
    full_env = {**os.environ, **env} if env else None
    with log.open("ab") as sink:
        sink.write(f"\n$ {' '.join(command)}\n".encode())
        sink.flush()
        try:
            code = subprocess.call(
                list(command),
                env=full_env,
                cwd=cwd,
                stdout=sink,
                stderr=subprocess.STDOUT,
                stdin=stdin,
            )
        except FileNotFoundError as exc:
            raise StepFailed(step, list(command), 127, str(exc)) from exc
    if code != 0:
        raise StepFailed(
            step,
            list(command),
            code,
            _tail(log.read_text(errors="replace")) + f"\n    (full log: {log})",
        )


def _tail(text: str) -> str:
    return "\n".join(deque(text.splitlines(), maxlen=TAIL_LINES))
