"""chaostoolkit experiments: validated before anything runs, judged by the harness.

``validate_experiment`` checks a file against what our activities accept (the module,
the functions, their arguments, the mechanism ids) and raises InvalidInput naming the
file, the JSON path of the field and what was expected, before chaostoolkit is started.

``verdict`` reads the journal chaostoolkit wrote and decides for itself: a journal whose
status is "completed" can still hide a failed steady state, a mechanism that did not
heal, or a rollback that failed.
"""

from __future__ import annotations

import inspect
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness import chaostoolkit
from harness.errors import InvalidInput
from harness.mechanisms.registry import MECHANISMS
from harness.mechanisms.runner import IMPLEMENTED

__all__ = ["Verdict", "validate_experiment", "verdict"]

MODULE = "harness.chaostoolkit"


def _require(doc: dict[str, Any], key: str, kind: type, source: str, where: str) -> Any:
    if key not in doc:
        raise InvalidInput(source, f"{where}{key}", f"a {kind.__name__}", "missing")
    value = doc[key]
    if not isinstance(value, kind):
        raise InvalidInput(source, f"{where}{key}", f"a {kind.__name__}", type(value).__name__)
    return value


def _activity(activity: Any, source: str, where: str, probe_needs_tolerance: bool) -> None:
    if not isinstance(activity, dict):
        raise InvalidInput(source, where, "an activity object", type(activity).__name__)
    kind = _require(activity, "type", str, source, f"{where}.")
    if kind not in ("action", "probe"):
        raise InvalidInput(source, f"{where}.type", "'action' or 'probe'", kind)
    _require(activity, "name", str, source, f"{where}.")
    provider = _require(activity, "provider", dict, source, f"{where}.")
    if provider.get("type") != "python":
        raise InvalidInput(source, f"{where}.provider.type", "'python'", str(provider.get("type")))
    if provider.get("module") != MODULE:
        raise InvalidInput(
            source, f"{where}.provider.module", repr(MODULE), str(provider.get("module"))
        )
    func_name = _require(provider, "func", str, source, f"{where}.provider.")
    if func_name not in chaostoolkit.__all__:
        raise InvalidInput(
            source, f"{where}.provider.func", f"one of {chaostoolkit.__all__}", func_name
        )
    arguments = provider.get("arguments", {})
    if not isinstance(arguments, dict):
        raise InvalidInput(
            source, f"{where}.provider.arguments", "an object", type(arguments).__name__
        )
    params = inspect.signature(getattr(chaostoolkit, func_name)).parameters
    for name in arguments:
        if name not in params:
            raise InvalidInput(
                source,
                f"{where}.provider.arguments.{name}",
                f"one of {sorted(params)}",
                "unknown argument",
            )
    for name, param in params.items():
        if param.default is inspect.Parameter.empty and name not in arguments:
            raise InvalidInput(source, f"{where}.provider.arguments.{name}", "present", "missing")
    if func_name == "run_mechanism":
        mechanism = arguments["mechanism"]
        if mechanism not in MECHANISMS:
            raise InvalidInput(
                source,
                f"{where}.provider.arguments.mechanism",
                f"one of {sorted(MECHANISMS)}",
                str(mechanism),
            )
        if mechanism not in IMPLEMENTED:
            raise InvalidInput(
                source,
                f"{where}.provider.arguments.mechanism",
                f"an implemented mechanism: {sorted(IMPLEMENTED)}",
                str(mechanism),
            )
        if not isinstance(arguments.get("negative_control", False), bool):
            raise InvalidInput(
                source,
                f"{where}.provider.arguments.negative_control",
                "true or false",
                repr(arguments["negative_control"]),
            )
    if probe_needs_tolerance and "tolerance" not in activity:
        raise InvalidInput(
            source, f"{where}.tolerance", "present on a steady-state probe", "missing"
        )


def validate_experiment(path: Path) -> dict[str, Any]:
    """Parse and check one experiment file; return it, or raise InvalidInput."""
    source = str(path)
    try:
        doc = json.loads(path.read_text())
    except FileNotFoundError:
        raise InvalidInput(source, "(file)", "an existing experiment file", "missing") from None
    except json.JSONDecodeError as exc:
        raise InvalidInput(
            source, f"(JSON) line {exc.lineno} column {exc.colno}", "valid JSON", exc.msg
        ) from None
    if not isinstance(doc, dict):
        raise InvalidInput(source, "(top)", "an object", type(doc).__name__)
    _require(doc, "title", str, source, "")
    _require(doc, "description", str, source, "")
    hypothesis = _require(doc, "steady-state-hypothesis", dict, source, "")
    _require(hypothesis, "title", str, source, "steady-state-hypothesis.")
    probes = _require(hypothesis, "probes", list, source, "steady-state-hypothesis.")
    for i, probe in enumerate(probes):
        _activity(probe, source, f"steady-state-hypothesis.probes[{i}]", True)
    method = _require(doc, "method", list, source, "")
    if not method:
        raise InvalidInput(source, "method", "at least one activity", "an empty list")
    for i, activity in enumerate(method):
        _activity(activity, source, f"method[{i}]", False)
    for i, activity in enumerate(doc.get("rollbacks", [])):
        _activity(activity, source, f"rollbacks[{i}]", False)
    return doc


@dataclass
class Verdict:
    """The harness's own judgement of one experiment run."""

    passed: bool
    reasons: list[str] = field(default_factory=list)
    outcome: dict[str, Any] | None = None


def verdict(journal: dict[str, Any]) -> Verdict:
    """Judge a chaostoolkit journal: status, both steady states, the mechanism, rollbacks."""
    reasons: list[str] = []
    if journal.get("status") != "completed":
        reasons.append(f"journal status {journal.get('status')!r}, not 'completed'")
    states = journal.get("steady_states") or {}
    for phase in ("before", "after"):
        state = states.get(phase)
        if not state or not state.get("steady_state_met"):
            reasons.append(f"steady state {phase} the method not met")
    outcome: dict[str, Any] | None = None
    for run in journal.get("run", []):
        name = run.get("activity", {}).get("name", "?")
        if run.get("status") != "succeeded":
            reasons.append(f"activity {name!r} {run.get('status')}: {run.get('exception', '')}")
        provider = run.get("activity", {}).get("provider", {})
        if provider.get("func") == "run_mechanism" and isinstance(run.get("output"), dict):
            outcome = run["output"]
            negative = bool(provider.get("arguments", {}).get("negative_control", False))
            healed = bool(outcome.get("healed"))
            if negative and healed:
                reasons.append(
                    "negative control: the mechanism's check passed with it switched off"
                )
            if not negative and not healed:
                reasons.append("mechanism did not heal: " + "; ".join(outcome.get("failures", [])))
    if outcome is None:
        reasons.append("no run_mechanism output in the journal")
    for run in journal.get("rollbacks", []):
        if run.get("status") != "succeeded" or run.get("output") is False:
            reasons.append(f"rollback {run.get('activity', {}).get('name', '?')!r} failed")
    return Verdict(not reasons, reasons, outcome)
