"""chaostoolkit experiments: validated before anything runs, judged by the harness.

``validate_experiment`` reads a file as chaostoolkit does (JSON, or YAML for .yaml and
.yml: harness.chaostoolkit.loader) and checks every field a user can write, the method's
shape included (harness.chaostoolkit.validation). An error is InvalidInput naming the
file, the JSON path of the field, what was expected and what was found; nothing else is
raised, so ``harness experiment validate`` never ends in a traceback.

``verdict`` reads the journal chaostoolkit wrote and decides for itself: passed, failed
or inconclusive, with the reasons. A journal whose status is "completed" can still hide
a failed activity, a steady state not met, a mechanism that did not heal or a rollback
that failed. The outcome of the run (the probe ``mechanism_outcome``) decides by its own
verdict, which already says, for a negative control, whether the check failed for the
declared reason: only "passed" passes, and an inconclusive outcome is never a pass. A
failure anywhere makes the experiment failed; else anything that could not be judged
(the steady state before the method not met, an interrupted run, an inconclusive
outcome) makes it inconclusive.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.chaostoolkit.experiment import PHASES
from harness.chaostoolkit.loader import load_experiment
from harness.chaostoolkit.tolerances import json_kind
from harness.chaostoolkit.validation import check_document
from harness.errors import InvalidInput
from harness.mechanisms.outcome import Verdict

__all__ = ["Judgement", "Verdict", "validate_experiment", "verdict"]


def validate_experiment(path: Path) -> dict[str, Any]:
    """Read and check one experiment file; return it, or raise InvalidInput."""
    source = str(path)
    doc = load_experiment(path)
    if not isinstance(doc, dict):
        raise InvalidInput(source, "(top)", "an experiment object", json_kind(doc))
    check_document(source, doc)
    return doc


@dataclass
class Judgement:
    """The harness's own judgement of one experiment run."""

    verdict: Verdict
    reasons: list[str] = field(default_factory=list)
    """Why it failed, then why it could not say; empty for a pass."""
    outcome: dict[str, Any] | None = None
    """The outcome JSON mechanism_outcome returned, when it did."""

    @property
    def passed(self) -> bool:
        """Only a pass is a pass."""
        return self.verdict is Verdict.PASSED

    def as_json(self) -> dict[str, Any]:
        """verdict.json."""
        return {"verdict": self.verdict.value, "reasons": self.reasons, "outcome": self.outcome}


def verdict(journal: Any) -> Judgement:
    """Judge a chaostoolkit journal: status, both steady states, every activity, the
    outcome, every rollback."""
    if not isinstance(journal, dict):
        return Judgement(Verdict.FAILED, [f"not a chaostoolkit journal: {json_kind(journal)}"])
    failed: list[str] = []
    unknown: list[str] = []
    status = journal.get("status")
    interrupted = status == "interrupted"
    if interrupted:
        unknown.append("the run was interrupted before it ended")
    elif status == "aborted":
        failed.append("chaostoolkit aborted the run on an unexpected error")
    elif status not in ("completed", "failed"):  # "failed": a steady state, judged below
        failed.append(f"journal status {status!r}, not one chaostoolkit ends with")
    states = _object(journal.get("steady_states"))
    before, after = _object(states.get("before")), _object(states.get("after"))
    began = before.get("steady_state_met") is True
    if not began:
        unknown.append(f"the steady state before the method was not met{_unmet(before)}")
    elif after.get("steady_state_met") is not True and not interrupted:
        failed.append(f"the steady state after the method was not met{_unmet(after)}")
    outcome = _method(_list(journal.get("run")), began and not interrupted, failed, unknown)
    _rollbacks(journal, failed)
    kind = Verdict.FAILED if failed else Verdict.INCONCLUSIVE if unknown else Verdict.PASSED
    return Judgement(kind, failed + unknown, outcome)


def _method(
    runs: list[Any], complete: bool, failed: list[str], unknown: list[str]
) -> dict[str, Any] | None:
    """Judge the method's activities; return the outcome JSON if the method produced one."""
    outcome: dict[str, Any] | None = None
    begun: dict[str, Any] | None = None
    seen: list[str] = []
    for run in map(_object, runs):
        activity = _object(run.get("activity"))
        provider = _object(activity.get("provider"))
        name, func, output = activity.get("name", "?"), provider.get("func"), run.get("output")
        seen.append(str(func))
        if run.get("status") != "succeeded":
            failed.append(f"activity {name!r} {run.get('status') or 'did not end'}{_raised(run)}")
        elif func == "begin_mechanism":
            begun = _object(provider.get("arguments"))
        elif func == "mechanism_outcome":
            if not isinstance(output, dict):
                failed.append(f"activity {name!r} returned {json_kind(output)}, not an outcome")
            elif outcome is not None:
                failed.append("the method concluded more than one run")
            else:
                outcome = output
        elif isinstance(activity.get("tolerance"), bool) and output != activity["tolerance"]:
            failed.append(f"probe {name!r} returned {json_kind(output)}, not its tolerance")
    missing = [p for p in PHASES if p not in seen]
    if complete and missing:
        failed.append(f"the method ran no {', '.join(missing)}")
    if outcome is None:
        if complete and not failed:  # else a failure above already says why
            unknown.append("the journal holds no outcome: the method did not reach the verdict")
        return None
    _outcome(outcome, begun, failed, unknown)
    return outcome


def _outcome(
    outcome: dict[str, Any], begun: dict[str, Any] | None, failed: list[str], unknown: list[str]
) -> None:
    """The run's own verdict decides; it must also be the run begin_mechanism began."""
    control = outcome.get("negative_control") is True
    kind = "negative control" if control else "mechanism"
    mechanism_id = outcome.get("mechanism")
    if begun is not None and (
        begun.get("mechanism") != mechanism_id
        or (begun.get("negative_control", False) is True) != control
    ):
        failed.append(
            f"the outcome is of {mechanism_id!r} ({kind}), not of the run begin_mechanism"
            f" began ({begun.get('mechanism')!r}, negative_control"
            f" {begun.get('negative_control', False)!r})"
        )
    result = outcome.get("verdict")
    if result == Verdict.PASSED:
        if outcome.get("landed") is None:
            unknown.append(f"the {kind} passed without proof that its fault landed")
        if control and outcome.get("control_evidence") is None:
            failed.append(
                "the negative control passed without the evidence of its declared failure"
            )
    elif result == Verdict.FAILED:
        failures = "; ".join(str(f) for f in _list(outcome.get("failures")))
        failed.append(f"the {kind} failed: {failures or 'no failure recorded'}")
    elif result == Verdict.INCONCLUSIVE:
        reason = outcome.get("inconclusive") or "no reason recorded"
        unknown.append(f"the {kind} was inconclusive: {reason}")
    else:
        failed.append(f"the outcome's verdict is {result!r}, not passed, failed or inconclusive")


def _rollbacks(journal: dict[str, Any], failed: list[str]) -> None:
    """Every declared rollback ran, and succeeded."""
    declared = _list(_object(journal.get("experiment")).get("rollbacks"))
    played = _list(journal.get("rollbacks"))
    if len(played) < len(declared):
        failed.append(
            f"{len(declared) - len(played)} of the {len(declared)} declared rollbacks did not"
            " run (harness experiment run plays them whatever happened)"
        )
    for run in map(_object, played):
        name = _object(run.get("activity")).get("name", "?")
        if run.get("status") != "succeeded":
            failed.append(f"rollback {name!r} {run.get('status') or 'did not end'}{_raised(run)}")


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _unmet(state: dict[str, Any]) -> str:
    names = [
        str(_object(p.get("activity")).get("name", "?"))
        for p in map(_object, _list(state.get("probes")))
        if p.get("status") != "succeeded" or p.get("tolerance_met") is False
    ]
    return f" ({', '.join(names)})" if names else ""


def _raised(run: dict[str, Any]) -> str:
    lines = [line for line in _list(run.get("exception")) if isinstance(line, str)]
    return f": {lines[-1].strip()}" if lines else ""
