"""Phase lines with elapsed time, so long work shows where it is."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console

__all__ = ["console", "note", "phase"]

console = Console(stderr=True, highlight=False, soft_wrap=True)
_started = time.monotonic()


def _stamp() -> str:
    return f"[dim][{time.monotonic() - _started:7.1f}s][/dim]"


def note(message: str) -> None:
    """Print one progress line prefixed with the time since the process started."""
    console.print(f"{_stamp()} {message}")


@contextmanager
def phase(name: str) -> Iterator[None]:
    """Announce a phase, then report how long it took or that it failed."""
    begun = time.monotonic()
    note(f"[bold]▶ {name}[/bold]")
    try:
        yield
    except BaseException:
        note(f"[red]✗ {name}[/red] after {time.monotonic() - begun:.1f}s")
        raise
    note(f"[green]✓ {name}[/green] ({time.monotonic() - begun:.1f}s)")
