"""Probe tolerances: chaostoolkit's rules, then what our probes' outputs can match.

chaostoolkit (chaoslib.hypothesis) accepts a tolerance that is a boolean, an integer, a
string, a list, or an object of type ``probe``, ``range``, ``regex`` or ``jsonpath``, and
compares it with the probe's output: a boolean or a string must equal it; an integer
must equal it too, or an object output's ``status``; a list of two is a range, any
other list a set of values (of ``status`` again, for an object output); a regex
searches a string, a range reads a number, a JSON path queries a document, each in one
field of an object output when a ``target`` is named; a probe tolerance calls a
function with the output as its ``value``.

Our probes return a boolean (pipeline_whole) or an object (mechanism_outcome), and each
has one tolerance the harness's verdict means (``PROBE_TOLERANCES``): ``true``, and
``{"type": "regex", "target": "verdict", "pattern": "^passed$"}``. A tolerance of another
shape is reported with the reason it can never match (a string never equals a
boolean); one of the right shape but another value, with the one the harness reads.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from harness.chaostoolkit.probes import OUTCOME_TOLERANCE
from harness.errors import InvalidInput

__all__ = ["KINDS", "PROBE_TOLERANCES", "check_tolerance", "json_kind"]

KINDS = ("probe", "range", "regex", "jsonpath")
"""The object tolerances chaostoolkit knows."""
PROBE_TOLERANCES: dict[str, Any] = {
    "pipeline_whole": True,
    "mechanism_outcome": OUTCOME_TOLERANCE,
    "sequence_kept_promises": True,
    "sequence_outcome": OUTCOME_TOLERANCE,
}
"""The tolerance the harness's verdict reads for each probe."""
_ACCEPTED = (
    "a tolerance chaostoolkit accepts: a boolean, an integer, a string, a list, or an"
    " object of type probe, range, regex or jsonpath"
)


def json_kind(value: Any) -> str:
    """How a value reads in JSON or YAML, for error messages: null, a string 'x', ..."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return f"a {type(value).__name__}"


def check_tolerance(tolerance: Any, probe: str, returns: Any, source: str, where: str) -> None:
    """Raise InvalidInput unless the tolerance is chaostoolkit's and can match ``probe``."""
    if isinstance(tolerance, float) or not isinstance(tolerance, bool | int | str | list | dict):
        raise InvalidInput(source, where, _ACCEPTED, json_kind(tolerance))
    if isinstance(tolerance, dict):
        _check_object(tolerance, source, where)
    wanted = PROBE_TOLERANCES[probe]
    if tolerance == wanted and type(tolerance) is type(wanted):
        return
    shown = json.dumps(wanted)
    if returns is bool:
        expected = f"{shown}: {probe} returns a boolean, " + _never_a_bool(tolerance)
    else:
        expected = f"{shown}: the harness's verdict reads {probe}'s object so; " + _never_an_object(
            tolerance
        )
    raise InvalidInput(source, where, expected, _shown(tolerance))


def _never_a_bool(tolerance: Any) -> str:
    if isinstance(tolerance, bool):
        return "and the steady state is the pipeline whole"
    if isinstance(tolerance, str):
        return "and a string never equals one"
    if isinstance(tolerance, int):
        return "and an integer equals one only as 0 or 1: write the boolean"
    if isinstance(tolerance, list):
        return "and a list is read as a range or a set of values: write the boolean"
    kind = tolerance.get("type")
    if kind == "regex":
        return "and a regex searches a string, never a boolean"
    if kind == "jsonpath":
        return "and a JSON path finds nothing in a boolean"
    return "and a range compares numbers: write the boolean"


def _never_an_object(tolerance: Any) -> str:
    if isinstance(tolerance, bool | str):
        return "a boolean or a string never equals an object"
    if isinstance(tolerance, int | list):
        return "an integer or a list reads an object's 'status', which the outcome has not"
    if tolerance.get("type") == "jsonpath":
        return "a JSON path needs the jsonpath2 package, and would say the same"
    return "another tolerance would disagree with the verdict the harness applies"


def _shown(tolerance: Any) -> str:
    return json.dumps(tolerance) if isinstance(tolerance, dict | list) else json_kind(tolerance)


def _check_object(tolerance: dict[str, Any], source: str, where: str) -> None:
    """chaoslib's checks of an object tolerance (ensure_hypothesis_tolerance_is_valid)."""
    kind = tolerance.get("type")
    if kind not in KINDS:
        raise InvalidInput(source, f"{where}.type", "probe, range, regex or jsonpath", _shown(kind))
    if kind == "probe":
        raise InvalidInput(
            source,
            where,
            "no probe tolerance: no harness probe takes another probe's output as `value`",
            "a probe tolerance",
        )
    allowed = {"type", "target"} | {"regex": {"pattern"}, "range": {"range"}}.get(
        kind, {"path", "count", "expect"}
    )
    for key in tolerance:
        if key not in allowed:
            raise InvalidInput(
                source, f"{where}.{key}", f"one of {sorted(allowed)} in a {kind} tolerance", "set"
            )
    target = tolerance.get("target")
    if target is not None and not isinstance(target, str):
        raise InvalidInput(source, f"{where}.target", "a field name", json_kind(target))
    if kind == "regex":
        pattern = tolerance.get("pattern")
        if not isinstance(pattern, str):
            raise InvalidInput(source, f"{where}.pattern", "a regular expression", _shown(pattern))
        try:
            re.compile(pattern)
        except re.error as exc:
            raise InvalidInput(
                source, f"{where}.pattern", f"a regular expression ({exc})", pattern
            ) from None
    elif kind == "range":
        bounds = tolerance.get("range")
        if not (
            isinstance(bounds, list)
            and len(bounds) == 2
            and all(_number(b) for b in bounds)
            and bounds[0] <= bounds[1]
        ):
            raise InvalidInput(source, f"{where}.range", "two numbers, lower first", _shown(bounds))
    else:
        path = tolerance.get("path")
        if not isinstance(path, str) or not path.strip():
            raise InvalidInput(source, f"{where}.path", "a JSON path", _shown(path))


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
