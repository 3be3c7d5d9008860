"""Experiment files derive from the registry, are validated before they run, and the
verdict on their journal is the harness's own."""

from __future__ import annotations

import contextlib
import copy
import json
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.chaostoolkit import actions, discover, probes
from harness.chaostoolkit.experiment import PHASES, experiment, filename, render
from harness.chaostoolkit.loader import SUFFIXES
from harness.chaostoolkit.tolerances import PROBE_TOLERANCES
from harness.chaostoolkit.validation import check_document
from harness.errors import InvalidInput
from harness.experiments import Verdict, validate_experiment, verdict
from harness.mechanisms.template import implemented
from harness.settings import PROJECT_ROOT

EXPERIMENTS = sorted(p for p in (PROJECT_ROOT / "experiments").iterdir() if p.suffix in SUFFIXES)
BASE = experiment("driver_restart", False)
"""The method: [0] begin_mechanism, [1] strike_mechanism, [2] mechanism_outcome,
[3] restore_pipeline."""


def _read(path: Path) -> dict[str, Any]:
    text = path.read_text()
    doc: dict[str, Any] = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    return doc


def _name(path: Path) -> tuple[str, bool]:
    """(mechanism id, negative control) from experiments/<id>[_negative_control].<suffix>."""
    stem = path.stem
    control = stem.endswith("_negative_control")
    return stem.removesuffix("_negative_control"), control


# The files derive from the registry.


def test_every_implemented_mechanism_has_both_experiments() -> None:
    """...and nothing else: the files are implemented() x {mechanism, negative control}."""
    stems = [p.stem for p in EXPERIMENTS]
    assert len(stems) == len(set(stems)), "one file per experiment, whatever its suffix"
    expected = {filename(m, control, "") for m in implemented() for control in (False, True)}
    assert set(stems) == expected


def test_a_yaml_experiment_is_among_them() -> None:
    assert any(p.suffix in (".yaml", ".yml") for p in EXPERIMENTS)


@pytest.mark.parametrize("path", EXPERIMENTS, ids=[p.name for p in EXPERIMENTS])
def test_experiment_file_is_valid(path: Path) -> None:
    validate_experiment(path)


@pytest.mark.parametrize("path", EXPERIMENTS, ids=[p.name for p in EXPERIMENTS])
def test_chaostoolkit_accepts_experiment_file(path: Path) -> None:
    from chaoslib.experiment import ensure_experiment_is_valid
    from chaoslib.loader import load_experiment

    ensure_experiment_is_valid(load_experiment(str(path)))


@pytest.mark.parametrize("path", EXPERIMENTS, ids=[p.name for p in EXPERIMENTS])
def test_experiment_file_names_its_mechanism(path: Path) -> None:
    mechanism_id, control = _name(path)
    doc = _read(path)
    phases = [a for a in doc["method"] if a["provider"]["func"] in PHASES]
    assert {a["provider"]["arguments"]["mechanism"] for a in phases} == {mechanism_id}
    assert phases[0]["provider"]["arguments"]["negative_control"] is control


@pytest.mark.parametrize("path", EXPERIMENTS, ids=[p.name for p in EXPERIMENTS])
def test_experiment_file_is_what_the_catalog_writes(path: Path) -> None:
    """Titles and descriptions aside (``harness experiment new`` writes the rest)."""
    doc, derived = _read(path), experiment(*_name(path))
    for key in ("title", "description"):
        doc.pop(key), derived.pop(key)
    assert doc == derived


@pytest.mark.parametrize("suffix", [".json", ".yaml"])
def test_rendered_experiment_reads_back(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"driver_restart{suffix}"
    path.write_text(render(BASE, suffix))
    assert validate_experiment(path) == BASE


def test_every_activity_is_discoverable_with_its_types() -> None:
    found = {a["name"]: a for a in discover()["activities"]}
    assert set(found) == set(actions.__all__) | set(probes.__all__)
    assert found["begin_mechanism"]["arguments"][1] == {
        "name": "negative_control",
        "default": False,
        "type": "boolean",
    }
    assert found["pipeline_whole"]["return_type"] == "boolean"


def test_every_probe_has_the_tolerance_the_verdict_reads() -> None:
    assert set(PROBE_TOLERANCES) == set(probes.__all__)


# A malformed file names the file, the field and what was expected.

_DELETE = object()


def at(*path: Any, value: Any = _DELETE) -> Callable[[Any], Any]:
    """A change: set (or delete) the value at a path of the document."""

    def change(doc: Any) -> Any:
        target = doc
        for key in path[:-1]:
            target = target[key]
        if value is _DELETE:
            del target[path[-1]]
        else:
            target[path[-1]] = value
        return doc

    return change


def both(*changes: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def change(doc: Any) -> Any:
        for c in changes:
            doc = c(doc)
        return doc

    return change


def swap_first_phases(doc: Any) -> Any:
    doc["method"][0], doc["method"][1] = doc["method"][1], doc["method"][0]
    return doc


def insert_ref(doc: Any) -> Any:
    doc["method"].insert(1, {"ref": "no-such-activity"})
    return doc


BEGIN = ("method", 0, "provider", "arguments")
STRIKE = ("method", 1, "provider", "arguments")
RESTORE = ("method", 3, "provider", "arguments")
OUTCOME_TOLERANCE = ("method", 2, "tolerance")
WHOLE_TOLERANCE = ("steady-state-hypothesis", "probes", 0, "tolerance")

MALFORMED = [
    pytest.param(at("rollbacks", value=None), "rollbacks", "a list", id="rollbacks-null"),
    pytest.param(at("title"), "title", "a string", id="title-missing"),
    pytest.param(at("title", value=7), "title", "a string", id="title-a-number"),
    pytest.param(at("description", value=""), "description", "non-empty", id="description-empty"),
    pytest.param(at("version", value=1.0), "version", "a string", id="version-a-number"),
    pytest.param(at("tags", value="spark"), "tags", "a list", id="tags-a-string"),
    pytest.param(at("tags", 1, value=""), "tags[1]", "non-empty string", id="tag-empty"),
    pytest.param(at("rollback", value=[]), "rollback", "one of [", id="unknown-top-field"),
    pytest.param(at("controls", value=[]), "controls", "no controls", id="controls"),
    pytest.param(
        at("steady-state-hypothesis", "title"),
        "steady-state-hypothesis.title",
        "a string",
        id="hypothesis-without-title",
    ),
    pytest.param(
        at("steady-state-hypothesis", "probes", value=[]),
        "steady-state-hypothesis.probes",
        "non-empty list",
        id="hypothesis-without-probes",
    ),
    pytest.param(
        at(*WHOLE_TOLERANCE, value="banana"),
        "steady-state-hypothesis.probes[0].tolerance",
        "a string never equals one",
        id="bool-probe-tolerance-banana",
    ),
    pytest.param(
        at(*WHOLE_TOLERANCE, value=1),
        "steady-state-hypothesis.probes[0].tolerance",
        "only as 0 or 1",
        id="bool-probe-tolerance-integer",
    ),
    pytest.param(
        at(*WHOLE_TOLERANCE, value=False),
        "steady-state-hypothesis.probes[0].tolerance",
        "the steady state is the pipeline whole",
        id="bool-probe-tolerance-false",
    ),
    pytest.param(
        at(*WHOLE_TOLERANCE, value=0.5),
        "steady-state-hypothesis.probes[0].tolerance",
        "a tolerance chaostoolkit accepts",
        id="tolerance-a-float",
    ),
    pytest.param(
        at(*WHOLE_TOLERANCE, value={"type": "regex", "pattern": "true"}),
        "steady-state-hypothesis.probes[0].tolerance",
        "a regex searches a string, never a boolean",
        id="bool-probe-tolerance-regex",
    ),
    pytest.param(
        at(*WHOLE_TOLERANCE),
        "steady-state-hypothesis.probes[0].tolerance",
        "chaostoolkit compares it",
        id="hypothesis-probe-without-tolerance",
    ),
    pytest.param(
        at(*WHOLE_TOLERANCE, value={"type": "between"}),
        "steady-state-hypothesis.probes[0].tolerance.type",
        "probe, range, regex or jsonpath",
        id="tolerance-of-unknown-type",
    ),
    pytest.param(
        at(*OUTCOME_TOLERANCE, value=True),
        "method[2].tolerance",
        "never equals an object",
        id="outcome-tolerance-true",
    ),
    pytest.param(
        at(*OUTCOME_TOLERANCE, "pattern", value="^failed$"),
        "method[2].tolerance",
        "disagree with the verdict",
        id="outcome-tolerance-expecting-failed",
    ),
    pytest.param(
        at(*OUTCOME_TOLERANCE, "pattern", value="("),
        "method[2].tolerance.pattern",
        "a regular expression",
        id="outcome-tolerance-bad-regex",
    ),
    pytest.param(
        at(*OUTCOME_TOLERANCE),
        "method[2].tolerance",
        "the harness reads it",
        id="outcome-without-tolerance",
    ),
    pytest.param(
        at("method", 0, "tolerance", value=True),
        "method[0].tolerance",
        "only a probe has one",
        id="action-with-tolerance",
    ),
    pytest.param(
        at("method", 0, "type", value="step"),
        "method[0].type",
        "'action' or 'probe'",
        id="activity-of-unknown-type",
    ),
    pytest.param(
        at("steady-state-hypothesis", "probes", 0, "type", value="action"),
        "steady-state-hypothesis.probes[0].type",
        "'probe' in the hypothesis",
        id="action-in-hypothesis",
    ),
    pytest.param(
        at("method", 2, "type", value="action"),
        "method[2].type",
        "'probe': mechanism_outcome is one",
        id="probe-declared-action",
    ),
    pytest.param(
        at("method", 0, "provider", "type", value="process"),
        "method[0].provider.type",
        "'python'",
        id="process-provider",
    ),
    pytest.param(
        at("method", 0, "provider", "module", value="os"),
        "method[0].provider.module",
        "harness.chaostoolkit.actions",
        id="other-module",
    ),
    pytest.param(
        at("method", 0, "provider", "func", value="delete_everything"),
        "method[0].provider.func",
        "begin_mechanism",
        id="unknown-function",
    ),
    pytest.param(
        at(*BEGIN[:-1], "arguments", value=None),
        "method[0].provider.arguments",
        "an object",
        id="arguments-null",
    ),
    pytest.param(
        at(*BEGIN, "force", value=True),
        "method[0].provider.arguments.force",
        "one of ['mechanism', 'negative_control']",
        id="unknown-argument",
    ),
    pytest.param(
        at(*STRIKE, "mechanism"),
        "method[1].provider.arguments.mechanism",
        "strike_mechanism requires it",
        id="required-argument-missing",
    ),
    pytest.param(
        at(*BEGIN, "negative_control", value="yes"),
        "method[0].provider.arguments.negative_control",
        "true or false",
        id="negative-control-a-string",
    ),
    pytest.param(
        at(*BEGIN, "mechanism", value=1),
        "method[0].provider.arguments.mechanism",
        "a string",
        id="mechanism-a-number",
    ),
    pytest.param(
        at(*BEGIN, "mechanism", value="driver_restrat"),
        "method[0].provider.arguments.mechanism",
        "one of the catalog's ids",
        id="unknown-mechanism",
    ),
    pytest.param(
        at(*BEGIN, "mechanism", value="backup_restore"),
        "method[0].provider.arguments.mechanism",
        "an implemented mechanism",
        id="mechanism-not-implemented",
    ),
    pytest.param(
        at(*RESTORE, "timeout", value=-5),
        "method[3].provider.arguments.timeout",
        "a number > 0",
        id="timeout-negative",
    ),
    pytest.param(
        at(*RESTORE, "timeout", value="300"),
        "method[3].provider.arguments.timeout",
        "a number",
        id="timeout-a-string",
    ),
    pytest.param(
        at(*BEGIN, "mechanism", value="${target}"),
        "method[0].provider.arguments.mechanism",
        "the configuration or secrets declare",
        id="substitution-undeclared",
    ),
    pytest.param(
        both(
            at("configuration", value={"target": {"type": "env", "key": "TARGET"}}),
            at(*BEGIN, "mechanism", value="${target}"),
        ),
        "method[0].provider.arguments.mechanism",
        "cannot be checked before the run",
        id="mechanism-from-the-environment",
    ),
    pytest.param(
        both(
            at("configuration", value={"control": "yes"}),
            at(*BEGIN, "negative_control", value="${control}"),
        ),
        "method[0].provider.arguments.negative_control",
        "true or false",
        id="substitution-of-the-wrong-type",
    ),
    pytest.param(
        at("configuration", value={"x": {"type": "probe"}}),
        "configuration.x.type",
        "'env'",
        id="dynamic-configuration",
    ),
    pytest.param(
        at("secrets", value={"k8s": "token"}),
        "secrets.k8s",
        "an object of secrets",
        id="secrets-scope-a-string",
    ),
    pytest.param(
        at("method", 0, "provider", "secrets", value=["k8s"]),
        "method[0].provider.secrets[0]",
        "a scope the experiment declares",
        id="undeclared-secrets-scope",
    ),
    pytest.param(
        at("method", 0, "provider", "secrets", value=[["k8s"]]),
        "method[0].provider.secrets[0]",
        "a scope the experiment declares",
        id="secrets-scope-a-list",
    ),
    pytest.param(
        at("configuration", value={"t": {"type": "env", "key": "T", "env_var_type": []}}),
        "configuration.t.env_var_type",
        "one of ['str'",
        id="env-var-type-a-list",
    ),
    pytest.param(
        at("method", 1, "pauses", value={"after": "soon"}),
        "method[1].pauses.after",
        "seconds, a number >= 0",
        id="pause-a-word",
    ),
    pytest.param(
        at("method", 1, "pauses", value={"during": 1}),
        "method[1].pauses.during",
        "one of ['before', 'after']",
        id="pause-of-unknown-kind",
    ),
    pytest.param(
        at("method", 1, "background", value=True),
        "method[1].background",
        "the phases of a run go one after another",
        id="phase-in-background",
    ),
    pytest.param(
        at("method", 1, "timeout", value="soon"),
        "method[1].timeout",
        "a number > 0",
        id="activity-timeout-a-word",
    ),
    pytest.param(swap_first_phases, "method", "in this order", id="phases-out-of-order"),
    pytest.param(at("method", 1), "method", "once each and in this order", id="no-strike"),
    pytest.param(
        at(*STRIKE, "mechanism", value="executor_replacement"),
        "method[1].provider.arguments.mechanism",
        "'driver_restart', the mechanism begin_mechanism began",
        id="two-mechanisms",
    ),
    pytest.param(at("rollbacks", value=[]), "rollbacks", "a restore_pipeline", id="no-rollback"),
    pytest.param(
        at("rollbacks", 0, "provider", "func", value="begin_mechanism"),
        "rollbacks[0].provider.func",
        "in the rollback",
        id="rollback-that-begins",
    ),
    pytest.param(
        at("method", 1, "name", value=BASE["method"][0]["name"]),
        "method[1].name",
        "a name no other activity",
        id="duplicate-activity-name",
    ),
    pytest.param(insert_ref, "method[1].ref", "the name of an activity", id="dangling-ref"),
    pytest.param(
        at("tags", 1, value="mechanism:pdb_drain_block"),
        "tags[1]",
        "'mechanism:driver_restart'",
        id="tag-of-another-mechanism",
    ),
    pytest.param(
        at("tags", value=["spark", "mechanism:driver_restart", "negative_control"]),
        "tags",
        "no 'negative_control' tag",
        id="control-tag-on-a-mechanism",
    ),
    pytest.param(
        at("runtime", value={"rollbacks": {"strategy": "sometimes"}}),
        "runtime.rollbacks.strategy",
        "'always'",
        id="unknown-rollback-strategy",
    ),
    pytest.param(
        at("runtime", "rollbacks", "strategy", value="default"),
        "runtime.rollbacks.strategy",
        "chaostoolkit's default skips rollbacks after an interruption",
        id="rollbacks-played-by-default",
    ),
    pytest.param(at("runtime"), "runtime", "an object", id="runtime-missing"),
    pytest.param(
        at("runtime", "hypothesis", value={"strategy": "after-method-only"}),
        "runtime.hypothesis.strategy",
        "the steady state before and after the method",
        id="hypothesis-after-the-method-only",
    ),
    pytest.param(
        at("contributions", value={"safety": 3}),
        "contributions.safety",
        "'high'",
        id="contribution-a-number",
    ),
    pytest.param(lambda doc: [doc], "(top)", "an experiment object", id="top-level-list"),
]


@pytest.mark.parametrize(("change", "field", "expected"), MALFORMED)
def test_malformed_experiment_names_file_field_and_expectation(
    tmp_path: Path, change: Callable[[Any], Any], field: str, expected: str
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(change(copy.deepcopy(BASE))))
    with pytest.raises(InvalidInput) as info:
        validate_experiment(path)
    message = str(info.value)
    assert message.startswith(f"{path}: field {field!r}: expected "), message
    assert expected in message, message


def test_malformed_yaml_experiment_is_reported_like_json(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(render(BASE, ".yaml").replace("func: strike_mechanism", "func: strike_it"))
    with pytest.raises(InvalidInput, match=r"field 'method\[1\]\.provider\.func'"):
        validate_experiment(path)


FILES = [
    pytest.param("bad.json", '{"title": "x",\n  "method": [}', "(JSON) line 2", id="json-syntax"),
    pytest.param(
        "bad.json", '{"title": "a", "title": "b"}', "(JSON) key 'title'", id="json-repeated-key"
    ),
    pytest.param("bad.yaml", "title: [a\nmethod: x\n", "(YAML) line", id="yaml-syntax"),
    pytest.param("bad.yaml", "title: a\ntitle: b\n", "given twice", id="yaml-repeated-key"),
    pytest.param("bad.yaml", "- a\n- b\n", "an experiment object", id="yaml-list"),
    pytest.param("bad.yaml", "", "an experiment object", id="yaml-empty"),
    pytest.param("bad.txt", "{}", "a .json, .yaml or .yml file", id="other-suffix"),
]


@pytest.mark.parametrize(("name", "text", "expected"), FILES)
def test_unreadable_experiment_file_is_an_invalid_input(
    tmp_path: Path, name: str, text: str, expected: str
) -> None:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(InvalidInput, match=r"^" + str(path).replace(".", r"\.")) as info:
        validate_experiment(path)
    assert expected in str(info.value)


def test_yaml_reads_a_date_where_a_string_belongs(tmp_path: Path) -> None:
    path = tmp_path / "dated.yaml"
    path.write_text(render(BASE, ".yaml").replace("version: 1.0.0", "version: 2024-01-01"))
    with pytest.raises(InvalidInput, match="field 'version': expected a string, got 'a date'"):
        validate_experiment(path)


def test_missing_experiment_file(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="an existing experiment file"):
        validate_experiment(tmp_path / "nothing.json")


def _paths(doc: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(doc, dict):
        for key, value in doc.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(doc, list):
        for i, value in enumerate(doc):
            found += _paths(value, (*prefix, i))
    return found


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from(_paths(BASE)), st.just(_DELETE) | JSON_VALUES), max_size=3)
)
def test_any_change_to_an_experiment_is_valid_or_an_invalid_input(
    changes: list[tuple[tuple[Any, ...], Any]],
) -> None:
    """Never a traceback: whatever a file holds, the answer is valid or InvalidInput."""
    doc = copy.deepcopy(BASE)
    for path, value in changes:
        try:
            at(*path, value=value)(doc)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier change removed that path
    with contextlib.suppress(InvalidInput):
        check_document("x.json", doc)


# The harness's verdict on a journal.


def _outcome(verdict_: str, negative: bool = False, **fields: Any) -> dict[str, Any]:
    return {
        "mechanism": "driver_restart",
        "negative_control": negative,
        "verdict": verdict_,
        "healed": verdict_ == "passed" and not negative,
        "inconclusive": "the steady state did not hold" if verdict_ == "inconclusive" else None,
        "failures": ["did not come back"] if verdict_ == "failed" else [],
        "landed": {"uid": "u-1"},
        "control_evidence": {"application": "FAILED"} if negative else None,
        **fields,
    }


def _run(
    func: str, output: Any = None, status: str = "succeeded", **arguments: Any
) -> dict[str, Any]:
    kind = "probe" if func in ("mechanism_outcome", "pipeline_whole") else "action"
    run: dict[str, Any] = {
        "activity": {
            "type": kind,
            "name": func,
            "provider": {"type": "python", "func": func, "arguments": arguments},
        },
        "status": status,
        "output": output,
    }
    if status == "failed":
        run["exception"] = ["Traceback ...\n", "chaoslib.exceptions.ActivityFailed: boom\n"]
    return run


def _journal(
    outcome: dict[str, Any] | None,
    negative: bool = False,
    status: str = "completed",
    before: bool = True,
    after: bool = True,
    rollback: str | None = "succeeded",
) -> dict[str, Any]:
    m = {"mechanism": "driver_restart"}
    runs = [
        _run("begin_mechanism", {}, **m, negative_control=negative),
        _run("strike_mechanism", {}, **m),
        _run("mechanism_outcome", outcome, **m),
        _run("restore_pipeline", {"whole": True}, **m),
    ]
    whole = {"activity": {"name": "pipeline-whole"}, "status": "succeeded"}
    return {
        "status": status,
        "experiment": {"rollbacks": [{"name": "restore"}]},
        "steady_states": {
            "before": {"steady_state_met": before, "probes": [{**whole, "tolerance_met": before}]},
            "after": {"steady_state_met": after, "probes": [{**whole, "tolerance_met": after}]},
        },
        "run": runs if before else [],
        "rollbacks": [] if rollback is None else [_run("restore_pipeline", None, rollback, **m)],
    }


def test_mechanism_that_passed_passes() -> None:
    result = verdict(_journal(_outcome("passed")))
    assert result.verdict is Verdict.PASSED, result.reasons
    assert result.passed
    assert result.outcome is not None


def test_mechanism_that_failed_fails_with_its_failures() -> None:
    result = verdict(_journal(_outcome("failed")))
    assert result.verdict is Verdict.FAILED
    assert result.reasons == ["the mechanism failed: did not come back"]


def test_inconclusive_outcome_is_never_a_pass() -> None:
    result = verdict(_journal(_outcome("inconclusive")))
    assert result.verdict is Verdict.INCONCLUSIVE
    assert not result.passed
    assert "inconclusive: the steady state did not hold" in result.reasons[0]


def test_inconclusive_outcome_with_a_failed_rollback_fails() -> None:
    result = verdict(_journal(_outcome("inconclusive"), rollback="failed"))
    assert result.verdict is Verdict.FAILED
    assert (
        result.reasons[0]
        == "rollback 'restore_pipeline' failed: chaoslib.exceptions.ActivityFailed: boom"
    )


def test_healed_is_not_read_only_the_verdict() -> None:
    assert verdict(_journal(_outcome("failed", healed=True))).verdict is Verdict.FAILED


def test_negative_control_passes_when_its_outcome_passed() -> None:
    result = verdict(_journal(_outcome("passed", negative=True), negative=True))
    assert result.verdict is Verdict.PASSED, result.reasons


def test_negative_control_whose_mechanism_healed_fails() -> None:
    outcome = _outcome("failed", negative=True, failures=["the mechanism healed with it off"])
    result = verdict(_journal(outcome, negative=True))
    assert result.verdict is Verdict.FAILED
    assert "negative control failed: the mechanism healed" in result.reasons[0]


def test_negative_control_pass_needs_the_declared_failure_evidence() -> None:
    outcome = _outcome("passed", negative=True, control_evidence=None)
    result = verdict(_journal(outcome, negative=True))
    assert result.verdict is Verdict.FAILED
    assert "without the evidence of its declared failure" in result.reasons[0]


def test_outcome_of_another_run_than_begun_fails() -> None:
    result = verdict(_journal(_outcome("passed"), negative=True))
    assert result.verdict is Verdict.FAILED
    assert "not of the run begin_mechanism began" in result.reasons[0]


def test_pass_without_proof_that_the_fault_landed_is_inconclusive() -> None:
    result = verdict(_journal(_outcome("passed", landed=None)))
    assert result.verdict is Verdict.INCONCLUSIVE
    assert "without proof that its fault landed" in result.reasons[0]


def test_unknown_outcome_verdict_fails() -> None:
    assert verdict(_journal(_outcome("healed"))).verdict is Verdict.FAILED


def test_completed_journal_with_steady_state_after_not_met_fails() -> None:
    result = verdict(_journal(_outcome("passed"), after=False))
    assert result.verdict is Verdict.FAILED
    assert result.reasons == ["the steady state after the method was not met (pipeline-whole)"]


def test_steady_state_before_not_met_is_inconclusive() -> None:
    result = verdict(_journal(None, status="failed", before=False))
    assert result.verdict is Verdict.INCONCLUSIVE
    assert result.reasons == ["the steady state before the method was not met (pipeline-whole)"]


def test_failed_activity_fails_with_its_exception() -> None:
    journal = _journal(_outcome("inconclusive"))
    journal["run"][1] = _run("strike_mechanism", None, "failed", mechanism="driver_restart")
    result = verdict(journal)
    assert result.verdict is Verdict.FAILED
    assert result.reasons[0] == (
        "activity 'strike_mechanism' failed: chaoslib.exceptions.ActivityFailed: boom"
    )


def test_rollbacks_not_played_fail() -> None:
    result = verdict(_journal(_outcome("passed"), rollback=None))
    assert result.verdict is Verdict.FAILED
    assert "1 of the 1 declared rollbacks did not run" in result.reasons[0]


def test_method_missing_its_outcome_fails() -> None:
    journal = _journal(_outcome("passed"))
    del journal["run"][2]
    result = verdict(journal)
    assert result.verdict is Verdict.FAILED  # a phase missing from the method is a failure
    assert result.reasons[0] == "the method ran no mechanism_outcome"


def test_interrupted_run_is_inconclusive() -> None:
    journal = _journal(None, status="interrupted")
    journal["run"] = journal["run"][:2]
    result = verdict(journal)
    assert result.verdict is Verdict.INCONCLUSIVE
    assert result.reasons == ["the run was interrupted before it ended"]


def test_aborted_run_fails() -> None:
    assert verdict(_journal(_outcome("passed"), status="aborted")).verdict is Verdict.FAILED


def test_outcome_that_is_not_an_object_fails() -> None:
    result = verdict(_journal("passed"))  # type: ignore[arg-type]
    assert result.verdict is Verdict.FAILED
    assert "returned the string 'passed', not an outcome" in result.reasons[0]


@pytest.mark.parametrize("journal", [None, [], "completed"], ids=["null", "list", "string"])
def test_what_is_not_a_journal_fails(journal: Any) -> None:
    assert verdict(journal).verdict is Verdict.FAILED


# Runs kept open between activities (no cluster: clients, recorder and runner faked).


class _Resource:
    """Stands in for a client or the recorder: says when it is opened and closed."""

    def __init__(self, log: list[str], name: str) -> None:
        self.log, self.name = log, name

    def __enter__(self) -> _Resource:
        self.log.append(f"open {self.name}")
        return self

    def __exit__(self, *exc: object) -> None:
        self.log.append(f"close {self.name}")


@pytest.fixture
def lab(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The activities' world, faked; returns the log of what happened in it."""
    from harness.chaostoolkit import runs
    from harness.mechanisms import runner
    from harness.mechanisms.model import Bound
    from harness.mechanisms.outcome import Outcome

    log: list[str] = []
    monkeypatch.setattr(runs, "_OPEN", {})
    monkeypatch.setattr(runs, "check_fault_target", lambda s, c: log.append("safety"))
    monkeypatch.setattr(runs, "api_client", lambda s: _Resource(log, "api"))
    monkeypatch.setattr(runs, "prometheus", lambda s: _Resource(log, "prometheus"))
    monkeypatch.setattr(runs, "Recorder", lambda api, timeline, ns: _Resource(log, "recorder"))
    monkeypatch.setattr(runs, "current_image_values", lambda s: {"tools_image": "tools"})
    monkeypatch.setattr(
        runs, "wait_whole", lambda api, prom, timeout, image_values=None: log.append("whole")
    )

    def begin(mechanism_id: str, ctx: Any, negative_control: bool) -> runner.Run:
        log.append(f"begin {mechanism_id}")
        ctx.rollbacks.register("restore the app", lambda: log.append("rollback"))
        outcome = Outcome(mechanism_id, negative_control, Bound(()))
        return runner.Run(types.SimpleNamespace(outcome=outcome, ctx=ctx, id=mechanism_id))

    def strike(run: runner.Run) -> None:
        log.append("strike")
        run.outcome.landed = {"uid": "u-1"}
        run.struck = True

    def conclude(run: runner.Run) -> Any:
        log.append("conclude")
        return run.mechanism.ctx.record(run.outcome)

    monkeypatch.setattr(runner, "begin", begin)
    monkeypatch.setattr(runner, "strike", strike)
    monkeypatch.setattr(runner, "conclude", conclude)
    return log


def test_a_run_spans_the_activities_and_restore_ends_it(lab: list[str]) -> None:
    from harness.chaostoolkit import runs

    assert actions.begin_mechanism("driver_restart")["inconclusive"] is None
    assert actions.strike_mechanism("driver_restart")["landed"] == {"uid": "u-1"}
    assert probes.mechanism_outcome("driver_restart")["verdict"] == "passed"
    restored = actions.restore_pipeline("driver_restart", timeout=5.0)
    assert restored["had_open_run"] is True
    assert [r["description"] for r in restored["rollbacks"]] == ["restore the app"]
    assert lab == [
        "safety",
        "open api",
        "open prometheus",
        "open recorder",
        "begin driver_restart",
        "strike",
        "conclude",
        "rollback",
        "whole",
        "close recorder",
        "close prometheus",
        "close api",
    ]
    assert not runs._OPEN


def test_restore_without_an_open_run_waits_until_whole(lab: list[str]) -> None:
    assert actions.restore_pipeline("driver_restart")["had_open_run"] is False
    assert lab == ["open api", "open prometheus", "whole", "close prometheus", "close api"]


def test_a_phase_without_an_open_run_says_why(lab: list[str]) -> None:
    from harness.errors import HarnessError

    with pytest.raises(HarnessError, match="begin_mechanism did not run"):
        actions.strike_mechanism("driver_restart")
    assert lab == []


def test_an_unsafe_target_opens_nothing(lab: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    from harness.chaostoolkit import runs
    from harness.safety import UnsafeTarget

    def refuse(settings: Any, context: Any) -> None:
        raise UnsafeTarget("not ours")

    monkeypatch.setattr(runs, "check_fault_target", refuse)
    with pytest.raises(UnsafeTarget):
        actions.begin_mechanism("driver_restart")
    assert lab == []
    assert not runs._OPEN


def test_a_begin_that_fails_rolls_back_and_leaves_nothing_open(
    lab: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from harness.chaostoolkit import runs
    from harness.mechanisms import runner

    def broken(mechanism_id: str, ctx: Any, negative_control: bool) -> None:
        ctx.rollbacks.register("undo the switch-off", lambda: lab.append("rollback"))
        raise RuntimeError("switch_off failed")

    monkeypatch.setattr(runner, "begin", broken)
    with pytest.raises(RuntimeError, match="switch_off failed"):
        actions.begin_mechanism("driver_restart", negative_control=True)
    assert lab[-4:] == ["close recorder", "rollback", "close prometheus", "close api"]
    assert not runs._OPEN


def test_a_failed_rollback_fails_the_restore_and_still_closes(lab: list[str]) -> None:
    from harness.chaos.rollback import RollbackFailed
    from harness.chaostoolkit import runs

    opened = runs.begin("driver_restart", False, runs.LabSettings())

    def fails() -> None:
        raise OSError("API server gone")

    opened.ctx.rollbacks.register("recreate the app", fails)
    with pytest.raises(RollbackFailed, match="recreate the app: OSError: API server gone"):
        actions.restore_pipeline("driver_restart")
    assert "whole" not in lab
    assert lab[-1] == "close api"
    assert not runs._OPEN


def test_one_open_run_per_mechanism_and_one_strike_per_run(lab: list[str]) -> None:
    from harness.errors import HarnessError

    actions.begin_mechanism("driver_restart")
    with pytest.raises(HarnessError, match="already open"):
        actions.begin_mechanism("driver_restart")
    actions.strike_mechanism("driver_restart")
    with pytest.raises(HarnessError, match="one fault per run"):
        actions.strike_mechanism("driver_restart")
    first = probes.mechanism_outcome("driver_restart")
    assert probes.mechanism_outcome("driver_restart") is first
    assert lab.count("conclude") == 1


# The command line.


def test_validate_reports_every_invalid_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from harness.cli import main

    bad = tmp_path / "bad.yaml"
    bad.write_text(render(at("rollbacks", value=None)(copy.deepcopy(BASE)), ".yaml"))
    good = str(PROJECT_ROOT / "experiments" / "driver_restart.json")
    assert main(["experiment", "validate", str(bad), good]) == 2
    err = capsys.readouterr().err
    assert f"{bad}: field 'rollbacks': expected a list, got 'null'" in err
    assert "driver_restart.json: valid" in err


def test_run_validates_before_chaos_starts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import subprocess

    from harness.cli import main

    def forbidden(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("chaos may not start for an invalid experiment")

    monkeypatch.setattr(subprocess, "run", forbidden)
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    assert main(["experiment", "run", str(bad)]) == 2


@pytest.mark.parametrize(
    ("outcome", "code"),
    [("passed", 0), ("failed", 1), ("inconclusive", 3)],
    ids=["passed-exits-0", "failed-exits-1", "inconclusive-exits-3"],
)
def test_run_judges_the_journal_chaos_wrote(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, outcome: str, code: int
) -> None:
    import subprocess

    from harness.cli import main

    seen: list[list[str]] = []

    def chaos(command: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
        seen.append(command)
        journal = Path(command[command.index("--journal-path") + 1])
        journal.write_text(json.dumps(_journal(_outcome(outcome))))
        return subprocess.CompletedProcess(command, 0)

    monkeypatch.setattr(subprocess, "run", chaos)
    monkeypatch.setattr("harness.settings.PROJECT_ROOT", tmp_path)
    experiment_file = PROJECT_ROOT / "experiments" / "driver_restart.json"
    assert main(["experiment", "run", str(experiment_file)]) == code
    assert seen[0][1:4] == ["run", "--rollback-strategy", "always"]
    (written,) = tmp_path.glob("reports/*-driver_restart/verdict.json")
    assert json.loads(written.read_text())["verdict"] == outcome


def test_run_refuses_a_cluster_name_the_activities_would_not_use() -> None:
    from harness.cli import main

    experiment_file = PROJECT_ROOT / "experiments" / "driver_restart.json"
    assert main(["--cluster-name", "other", "experiment", "run", str(experiment_file)]) == 2


def test_new_writes_an_experiment_that_validates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from harness.cli import main

    monkeypatch.setattr("harness.settings.PROJECT_ROOT", tmp_path)
    (tmp_path / "experiments").mkdir()
    command = ["experiment", "new", "pdb_drain_block", "--negative-control", "--yaml"]
    assert main(command) == 0
    written = tmp_path / "experiments" / "pdb_drain_block_negative_control.yaml"
    assert validate_experiment(written)["tags"][-1] == "negative_control"
    assert main(command) == 2  # it exists: not overwritten without --force
    assert main([*command[:-1], "--force"]) == 2  # nor twinned as JSON
    assert main([*command, "--force"]) == 0


def test_mechanism_list_shows_the_catalog(capsys: pytest.CaptureFixture[str]) -> None:
    from harness.cli import main

    assert main(["mechanism", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 19
    assert lines[0].split()[:3] == ["1", "driver_restart", "implemented"]
    assert lines[-1] == f"{len(implemented())} of 18 implemented"


def test_mechanism_run_refuses_what_is_not_implemented(monkeypatch: pytest.MonkeyPatch) -> None:
    from harness.chaostoolkit import runs
    from harness.cli import main

    monkeypatch.setattr(runs, "begin", lambda *a: pytest.fail("nothing may begin"))
    assert main(["mechanism", "run", "backup_restore"]) == 2
    assert main(["mechanism", "run", "driver_restrat"]) == 2


@pytest.mark.parametrize(
    ("strike_fails", "code"), [(False, 1), (True, 1)], ids=["failed-outcome", "strike-raises"]
)
def test_mechanism_run_restores_whatever_happens(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    strike_fails: bool,
    code: int,
) -> None:
    from harness.chaostoolkit import runs
    from harness.cli import main
    from harness.errors import HarnessError
    from harness.mechanisms.model import Bound
    from harness.mechanisms.outcome import Outcome

    outcome = Outcome("driver_restart", False, Bound(()), failures=["no new driver"])
    restored: list[str] = []

    def strike(mechanism_id: str) -> None:
        if strike_fails:
            raise HarnessError("the API server went away")

    monkeypatch.setattr(runs, "begin", lambda *a: types.SimpleNamespace(outcome=outcome))
    monkeypatch.setattr(runs, "strike", strike)
    monkeypatch.setattr(runs, "conclude", lambda m: outcome.as_json())
    monkeypatch.setattr(
        runs, "restore", lambda m, s, t: restored.append(m) or runs.Restored(m, [], True)
    )
    assert main(["mechanism", "run", "driver_restart"]) == code
    assert restored == ["driver_restart"]
    err = capsys.readouterr().err
    expected = "the API server went away" if strike_fails else "FAILED: no new driver"
    assert expected in err
