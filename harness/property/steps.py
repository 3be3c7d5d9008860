"""The fault alphabet of a property-based search: steps, their parameters, what may overlap.

A step strikes one fault of harness.chaos, keeps it for ``hold`` seconds and waits
``gap`` seconds before the next step strikes. A hold longer than the gap makes the
next fault land while this one is still in force (a driver killed during a partition);
a gap shorter than the recovery makes it land before the pipeline healed. Faults are
lifted when their hold ends, at the start of the next step, or at the end of the
sequence, whichever comes first, and on any error by their registered rollbacks.

Pure: the search (harness.property.search) draws steps from ``FAULTS`` and asks
``refusal`` whether the lab allows one now; tests check both without a cluster.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from harness.errors import InvalidInput

__all__ = ["FAULTS", "Active", "FaultKind", "Step", "parse_steps", "refusal", "render_sequence"]


@dataclass(frozen=True)
class FaultKind:
    """One rule of the search: a fault of harness.chaos and the parameters drawn for it."""

    name: str
    summary: str
    targets: tuple[str, ...]
    """What the fault is aimed at, resolved on the live cluster when it strikes."""
    holds: tuple[int, int]
    """The range of seconds the fault is kept in force (0, 0: a kill, nothing to hold)."""
    ends_driver: bool
    """Whether it ends the driver (the operator resubmits: counts against a retry budget)."""
    exclusive: bool
    """Whether a second one may not be in force at the same time (one fill of a claim,
    one isolation of the same pods, one worker down)."""


FAULTS: dict[str, FaultKind] = {
    kind.name: kind
    for kind in (
        FaultKind(
            "kill_driver",
            "delete the running driver pod (grace 0: SIGKILL), or the next one to run",
            ("driver",),
            (0, 0),
            ends_driver=True,
            exclusive=False,
        ),
        FaultKind(
            "kill_executor",
            "delete one running executor pod (grace 0), or the next one to run",
            ("executor-0", "executor-1"),
            (0, 0),
            ends_driver=False,
            exclusive=False,
        ),
        FaultKind(
            "partition_executors",
            "cut the executors off the network (deny-all NetworkPolicy, flows flushed)",
            ("executors",),
            (5, 30),
            ends_driver=False,
            exclusive=True,
        ),
        FaultKind(
            "fill_checkpoint",
            "fill the checkpoint volume to 100% and hold it",
            ("spark-checkpoint",),
            (10, 40),
            ends_driver=False,
            exclusive=True,
        ),
        FaultKind(
            "stop_worker",
            "stop a worker's node container (the machine goes dark), start it after the hold",
            ("driver-node", "other-node"),
            (30, 60),
            ends_driver=False,
            exclusive=True,
        ),
    )
}
"""Every fault a search may draw, in the order the shrinker prefers (earlier = simpler)."""
DEFAULT_FAULTS = ("kill_driver", "kill_executor", "partition_executors", "fill_checkpoint")
"""The default alphabet: stop_worker costs a node's return (about a minute) per step, so
it is drawn only when asked for (--property-faults)."""
GAPS = (0, 60)
"""The range of seconds between one strike and the next."""


@dataclass(frozen=True)
class Step:
    """One fault of a sequence, with every parameter that replays it."""

    fault: str
    target: str
    hold: int = 0
    gap: int = 0

    def __post_init__(self) -> None:
        kind = FAULTS.get(self.fault)
        if kind is None:
            raise InvalidInput("step", "fault", f"one of {sorted(FAULTS)}", self.fault)
        if self.target not in kind.targets:
            raise InvalidInput(
                f"step {self.fault}", "target", f"one of {kind.targets}", self.target
            )
        low, high = kind.holds
        if not low <= self.hold <= high:
            raise InvalidInput(f"step {self.fault}", "hold", f"{low}..{high} seconds", self.hold)
        if not GAPS[0] <= self.gap <= GAPS[1]:
            raise InvalidInput(f"step {self.fault}", "gap", f"{GAPS[0]}..{GAPS[1]} s", self.gap)

    @property
    def kind(self) -> FaultKind:
        """The fault's entry in FAULTS."""
        return FAULTS[self.fault]

    def describe(self) -> str:
        """One line: what strikes, for how long, and the gap before the next step."""
        held = f", held {self.hold}s" if self.hold else ""
        return f"{self.fault}({self.target}{held}), then {self.gap}s"

    def as_json(self) -> dict[str, Any]:
        """The step as results.json and the replay experiment store it."""
        return asdict(self)


@dataclass(frozen=True)
class Active:
    """A fault in force: struck at ``since`` (seconds on the search's clock), until ``until``."""

    step: Step
    since: float
    until: float


def refusal(fault: str, active: Iterable[Active], now: float) -> str | None:
    """Why the lab does not allow this fault now, or None when it does.

    An exclusive fault waits until the one in force has ended (two fills of one claim
    or two isolations of the same pods are one fault, and two workers down at once
    would leave the pipeline nowhere to run: what this lab never tests).
    """
    kind = FAULTS[fault]
    in_force = [a for a in active if a.until > now]
    if kind.exclusive and any(a.step.fault == fault for a in in_force):
        return f"a {fault} is still in force"
    if fault == "stop_worker" and any(a.step.fault == "stop_worker" for a in in_force):
        return "a worker is down already: both at once would leave nowhere to run"
    return None


def parse_steps(data: Iterable[Mapping[str, Any]], source: str) -> list[Step]:
    """Steps from their JSON (a replay experiment, a results.json); InvalidInput names the
    source, the step's index and the field that is wrong."""
    steps = []
    for index, raw in enumerate(data):
        unknown = set(raw) - {"fault", "target", "hold", "gap"}
        if unknown:
            raise InvalidInput(
                f"{source}: step {index}", ", ".join(sorted(unknown)), "no such field"
            )
        try:
            steps.append(
                Step(
                    str(raw["fault"]),
                    str(raw["target"]),
                    int(raw.get("hold", 0)),
                    int(raw.get("gap", 0)),
                )
            )
        except KeyError as exc:
            raise InvalidInput(f"{source}: step {index}", str(exc.args[0]), "present") from exc
        except InvalidInput as exc:
            raise InvalidInput(f"{source}: step {index}", exc.field, exc.expected, exc.got) from exc
    return steps


def render_sequence(steps: Iterable[Step]) -> str:
    """A sequence as numbered lines, for messages and the report."""
    lines = [f"{i + 1}. {s.describe()}" for i, s in enumerate(steps)]
    return "\n".join(lines) or "(no step)"
