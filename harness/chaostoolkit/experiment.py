"""The experiment chaostoolkit runs for a mechanism, derived from the catalog.

``experiment(id, negative_control)`` is the document ``harness experiment new`` writes
and every file in experiments/ follows (a unit test compares them, titles and
descriptions aside): rollbacks played always, a steady-state hypothesis
(``pipeline_whole``, tolerance true), a method of the run's phases
(harness.chaostoolkit.actions), and the rollback that ends the run whatever stopped the
method.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import yaml

from harness.chaostoolkit.probes import OUTCOME_TOLERANCE
from harness.mechanisms.registry import mechanism as catalog_entry
from harness.mechanisms.template import implemented

__all__ = [
    "ACTIONS",
    "PHASES",
    "PROBES",
    "RESTORE_TIMEOUT",
    "experiment",
    "filename",
    "render",
]

ACTIONS = "harness.chaostoolkit.actions"
PROBES = "harness.chaostoolkit.probes"
PHASES = ("begin_mechanism", "strike_mechanism", "mechanism_outcome", "restore_pipeline")
"""The method's activities, in the order a run needs them."""
RESTORE_TIMEOUT = 300.0
"""How long restore_pipeline waits for the pipeline to be whole: a SparkApplication
recreated from 05 runs and streams again within about two minutes on two cores."""


def filename(mechanism_id: str, negative_control: bool, suffix: str = ".json") -> str:
    """experiments/<id>.json, or <id>_negative_control.json for the control."""
    return f"{mechanism_id}{'_negative_control' if negative_control else ''}{suffix}"


def _activity(
    kind: str, name: str, func: str, arguments: dict[str, Any], tolerance: Any = None
) -> dict[str, Any]:
    module = PROBES if kind == "probe" else ACTIONS
    provider: dict[str, Any] = {"type": "python", "module": module, "func": func}
    if arguments:
        provider["arguments"] = dict(arguments)
    activity: dict[str, Any] = {"type": kind, "name": name}
    if tolerance is not None:
        activity["tolerance"] = copy.deepcopy(tolerance)
    return {**activity, "provider": provider}


def experiment(mechanism_id: str, negative_control: bool) -> dict[str, Any]:
    """The experiment of one implemented mechanism (or its negative control)."""
    entry = catalog_entry(mechanism_id)
    expected_failure = implemented()[mechanism_id].expected_failure
    arg = {"mechanism": mechanism_id}
    if negative_control:
        title = f"{mechanism_id} negative control: with {entry.negative_control}, the check fails"
        description = (
            f"The mechanism switched off ({entry.negative_control}), the same fault"
            f" ({entry.trigger}). The control passes only when the declared failure is seen:"
            f" {expected_failure}. The rollbacks switch the mechanism back on."
        )
        begin = "switch off, then steady state, bound and window"
        conclude = f"the declared failure: {expected_failure}"
    else:
        title = f"{mechanism_id}: {entry.provided_by} heals '{entry.trigger}'"
        description = (
            f"Trigger: {entry.trigger}. Verification: {entry.verification}. The recovery must"
            " stay within the bound the harness computes from the live settings."
        )
        begin = "steady state, bound and window"
        conclude = f"recovery: {entry.verification}"
    restore = {**arg, "timeout": RESTORE_TIMEOUT}
    return {
        "version": "1.0.0",
        "title": title,
        "description": description + " The harness judges the journal (harness experiment run).",
        "tags": ["spark", f"mechanism:{mechanism_id}"]
        + (["negative_control"] if negative_control else []),
        # Rollbacks always: chaostoolkit's default skips them after an interruption or
        # an unmet steady state, when the open run's rollbacks matter most.
        "runtime": {"rollbacks": {"strategy": "always"}},
        "steady-state-hypothesis": {
            "title": "the pipeline is whole: nodes Ready, application RUNNING, data flowing",
            "probes": [_activity("probe", "pipeline-whole", "pipeline_whole", {}, True)],
        },
        "method": [
            _activity(
                "action",
                f"begin: {begin}",
                "begin_mechanism",
                {**arg, "negative_control": negative_control},
            ),
            _activity("action", f"strike: {entry.trigger}", "strike_mechanism", arg),
            _activity(
                "probe", f"conclude: {conclude}", "mechanism_outcome", arg, OUTCOME_TOLERANCE
            ),
            _activity(
                "action", "restore: rollbacks, then whole again", "restore_pipeline", restore
            ),
        ],
        "rollbacks": [
            _activity("action", "restore whatever stopped the method", "restore_pipeline", restore)
        ],
    }


class _Dumper(yaml.SafeDumper):
    """YAML as people write it: no anchors, long text folded."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = ">" if len(value) > 80 else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _text)


def render(doc: dict[str, Any], suffix: str) -> str:
    """The document as a file of that suffix: JSON (indented) or YAML (in key order)."""
    if suffix == ".json":
        return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    return yaml.dump(doc, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=88)
