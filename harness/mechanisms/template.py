"""The mechanism template: one module per mechanism declares its parts, the runner does the rest.

A mechanism module (``harness/mechanisms/<id>.py``, named after its catalog id) defines
one subclass of ``MechanismTemplate`` decorated with ``@register``::

    @register
    class DriverRestart(MechanismTemplate):
        id = "driver_restart"
        expected_failure = "the application reaches FAILED and no new driver runs"

        def switch_off(self) -> None: ...        # the control: mechanism off, restore registered
        def bound(self) -> Bound: ...            # from the live settings, with its arithmetic
        def strike(self) -> dict[str, Any]: ...  # through harness.chaos; proof it landed
        def recovered(self) -> Seen[float]: ...  # epoch of recovery, or None and what was seen
        def check(self) -> None: ...             # extra checks after recovery (self.fail)
        def control_failed(self) -> Seen[dict[str, Any]]: ...  # the declared failure, once seen

The runner (harness.mechanisms.runner) calls them in order: switch off (controls only),
steady state, bound, reconciliation window (when the catalog says the mechanism touches
data), strike, then either the recovery wait, the bound, the checks and the
reconciliation, or (for a control) the wait for the declared failure, which ends as soon
as that evidence is seen. It turns unreadable observers, a steady state that did not
hold and a fault that did not land into an inconclusive verdict.

The catalog (harness.mechanisms.registry), ``pytest -k <id>``, the chaostoolkit
experiments and the report all derive from what is registered here.
"""

from __future__ import annotations

import importlib
import importlib.util
import time
from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

from harness.errors import InvalidInput
from harness.mechanisms.context import MechanismContext
from harness.mechanisms.model import Bound, Mechanism
from harness.mechanisms.outcome import Outcome
from harness.mechanisms.registry import MECHANISMS, mechanism
from harness.spark_application import SparkApplication

__all__ = ["MechanismTemplate", "Seen", "implemented", "implemented_mechanism", "register"]

T = TypeVar("T")
Seen = tuple[T | None, str]
"""A probe's answer: a value once the condition holds (else None), and what was seen."""


class MechanismTemplate:
    """The parts of one mechanism; a fresh instance serves one run (it may keep state)."""

    id: ClassVar[str]
    """The catalog id; also the module's name."""
    expected_failure: ClassVar[str]
    """The negative control's declared failure evidence, in words."""
    poll: ClassVar[float] = 2.0
    """Seconds between polls of recovered() and control_failed()."""
    margin: ClassVar[float] = 30.0
    """How long past the bound the runner waits before it calls the recovery missed."""
    steady_timeout: ClassVar[float] = 180.0
    """How long the steady state may take to hold before the run is inconclusive: a
    twin's submission, driver and executors on two cores."""
    control_on_twin: ClassVar[bool] = False
    """The control switches the mechanism off on the job's twin (start_twin), not on the
    job under test: the job is never recreated for a control."""

    def __init__(self, ctx: MechanismContext, negative_control: bool) -> None:
        self.ctx = ctx
        self.negative_control = negative_control
        self.fault_epoch = 0.0
        """Wall-clock time of the strike (metrics carry epoch timestamps)."""
        self.outcome = Outcome(self.id, negative_control, Bound(()))
        self.outcome.expected_failure = self.expected_failure

    @classmethod
    def catalog(cls) -> Mechanism:
        """This mechanism's catalog entry."""
        return mechanism(cls.id)

    @property
    def app(self) -> SparkApplication:
        """The streaming job, or for a control on the twin, the twin."""
        if self.negative_control and self.control_on_twin:
            return self.ctx.control_app
        return self.ctx.app

    def start_twin(self, patch: Callable[[dict[str, Any]], None] | None = None) -> None:
        """Submit the job's twin with the mechanism switched off by patch; its deletion and
        its leftover check are registered first. The steady state then waits for what the
        control needs of it (default: RUNNING with a driver), not for data."""
        twin = self.ctx.control_app
        self.ctx.rollbacks.register(
            f"delete the control twin {twin.name}", twin.delete, leftover=twin.leftovers
        )
        twin.recreate(patch, wait_for_data=False)

    def fail(self, message: str) -> None:
        """Record a failed check."""
        self.outcome.fail(message)

    def note(self, key: str, value: Any) -> None:
        """Record a piece of evidence for the report."""
        self.outcome.evidence[key] = value

    # The parts a mechanism declares.

    def switch_off(self) -> None:
        """Switch the mechanism off for its negative control; register how to restore it."""
        raise NotImplementedError(f"{self.id} declares no negative control")

    def steady_state(self) -> Seen[bool]:
        """Whether the preconditions of the strike hold (default: the job runs a driver)."""
        state, driver = self.app.state(), self.app.driver()
        held = state.state == "RUNNING" and driver is not None
        return (True if held else None), f"application {state}, driver {_name(driver)}"

    def bound(self) -> Bound:
        """The recovery bound, computed from the live settings."""
        raise NotImplementedError

    def strike(self) -> dict[str, Any]:
        """Inject the fault through harness.chaos; return proof that it landed
        (raise FaultNotLanded when it cannot be shown)."""
        raise NotImplementedError

    def recovered(self) -> Seen[float]:
        """The epoch at which the mechanism recovered, once it has."""
        raise NotImplementedError

    def mttr(self, recovered_at: float) -> float:
        """Time to recover (default: strike to recovery)."""
        return recovered_at - self.fault_epoch

    def check(self) -> None:
        """Checks after recovery, beyond recovered() (record failures with fail())."""

    def control_failed(self) -> Seen[dict[str, Any]]:
        """For the negative control: the declared failure's evidence, once it is certain."""
        raise NotImplementedError

    def control_healed(self) -> Seen[float]:
        """For the negative control: whether the mechanism healed anyway (default:
        recovered()); a healed control ends at once, failed."""
        return self.recovered()


_IMPLEMENTED: dict[str, type[MechanismTemplate]] = {}

M = TypeVar("M", bound=type[MechanismTemplate])


def register(cls: M) -> M:
    """Class decorator: make a mechanism known to the runner, the tests and the report."""
    if cls.id not in MECHANISMS:
        raise InvalidInput(cls.__module__, "id", f"one of {sorted(MECHANISMS)}", cls.id)
    if cls.__module__.rsplit(".", 1)[-1] != cls.id:
        raise InvalidInput(cls.__module__, "id", f"the module's name, {cls.__module__!r}", cls.id)
    if not getattr(cls, "expected_failure", ""):
        raise InvalidInput(cls.__module__, "expected_failure", "the control's declared failure")
    _IMPLEMENTED[cls.id] = cls
    return cls


def implemented() -> dict[str, type[MechanismTemplate]]:
    """Every mechanism with a module, in catalog order (modules are found by catalog id)."""
    for mechanism_id in MECHANISMS:
        name = f"{__package__}.{mechanism_id}"
        if mechanism_id not in _IMPLEMENTED and importlib.util.find_spec(name) is not None:
            importlib.import_module(name)
    return {m: _IMPLEMENTED[m] for m in MECHANISMS if m in _IMPLEMENTED}


def implemented_mechanism(mechanism_id: str, source: str) -> type[MechanismTemplate]:
    """The implemented mechanism with this id; InvalidInput naming the known ones otherwise."""
    mechanism(mechanism_id, source)
    known = implemented()
    if mechanism_id not in known:
        raise InvalidInput(source, "id", f"an implemented mechanism: {sorted(known)}", mechanism_id)
    return known[mechanism_id]


def _name(pod: Any) -> str:
    return "none" if pod is None else str(pod.metadata.name)


def timed(phases: dict[str, float], name: str) -> Callable[[], None]:
    """Start timing a phase; call the result to record its seconds."""
    begun = time.monotonic()

    def done() -> None:
        phases[name] = phases.get(name, 0.0) + time.monotonic() - begun

    return done
