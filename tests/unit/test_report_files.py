"""The files a run writes: results.json valid against its schema, a self-contained
report.html, junit.xml per mechanism and control, no secret in any of them, and no
folder for runs that ran no mechanism."""

from __future__ import annotations

import base64
import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

from harness.errors import InvalidInput
from harness.mechanisms.registry import MECHANISMS
from harness.report import RunReport, write_report
from harness.report import TestRecord as Record
from harness.report.cli import compare_text
from harness.report.history import entry, load_history
from harness.report.redact import REDACTED, Redactor, kubeconfig_secrets
from harness.report.schema import load_results, upgrade, validate
from harness.settings import PROJECT_ROOT
from tests.unit.report_data import HISTORY, RUN_DIR, RUN_ID, recorded, reports_dir


@pytest.fixture
def written(tmp_path):
    reports = reports_dir(tmp_path)
    return write_report(recorded(), reports / RUN_ID, reports / "history.jsonl")


def test_written_results_validate_against_the_schema(written):
    load_results(written)  # raises on any departure
    data = json.loads((written / "results.json").read_text())
    assert data["schema_version"] == 1


def test_schema_names_where_a_file_departs_from_it():
    data = recorded()
    data["tests"][0]["mechanism"]["verdict"] = "probably"
    with pytest.raises(InvalidInput, match=r"tests/0/mechanism/verdict"):
        validate(data)


def test_unversioned_results_are_read_as_version_1():
    data = recorded()
    del data["schema_version"]
    validate(upgrade(data))
    with pytest.raises(InvalidInput, match="schema_version"):
        upgrade({**data, "schema_version": 99})


def test_report_html_is_self_contained(written):
    page = (written / "report.html").read_text()
    assert "<script" not in page.lower()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert "@import" not in page
    assert "url(" not in page
    assert page.count("<svg") > 20


def test_report_html_has_a_stable_anchor_per_run(written):
    page = (written / "report.html").read_text()
    for anchor in (
        "m-driver_restart",
        "c-driver_restart",
        "m-checkpoint_recovery",
        "c-pvc_full_recovery",
    ):
        assert f'id="{anchor}"' in page
    assert 'id="m-driver_liveness"' not in page  # not run: a row, no section


def test_report_html_shows_failure_details_and_hint(written):
    page = (written / "report.html").read_text()
    assert "FailedScheduling" in page
    assert "Resuming at batch 212" in page
    assert "Usually:" in page
    assert "MTTR regression" in page
    assert "flaky (control)" in page


def test_junit_has_one_case_per_mechanism_and_control(written):
    root = ET.parse(written / "junit.xml").getroot()
    suite = next(s for s in root if s.get("name") == "resilience")
    cases = suite.findall("testcase")
    assert len(cases) == 2 * len(MECHANISMS)
    by = {(c.get("classname"), c.get("name")): c for c in cases}
    dr = by[("resilience.mechanism", "driver_restart")]
    props = {p.get("name"): p.get("value") for p in dr.iter("property")}
    assert props["mttr_seconds"] == "61.7"
    assert props["bound_seconds"] == "105.0"
    cp = by[("resilience.mechanism", "checkpoint_recovery")].find("failure")
    assert cp is not None
    assert "over the bound" in cp.get("message")
    ctrl = by[("resilience.negative_control", "executor_replacement")].find("failure")
    assert ctrl is not None
    assert ctrl.get("message").startswith("INCONCLUSIVE (not a pass)")
    assert by[("resilience.mechanism", "backup_restore")].find("skipped") is not None
    assert suite.get("failures") == "4"  # checkpoint, node (inconclusive), two controls


def test_the_run_is_added_to_the_history(written):
    runs = load_history(written.parent / "history.jsonl")
    assert runs[-1]["run_id"] == RUN_ID
    assert len(runs) == len(load_history(HISTORY)) + 1


SECRET = "s3cr3t-T0KEN-planted-9f8e7d6c5b4a"


def test_no_secret_reaches_any_report_file(tmp_path):
    """Plant one secret everywhere a run could carry it; search every written file."""
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\nusers:\n- name: u\n  user:\n"
        f"    token: {SECRET}\n"
        f"    client-key-data: {base64.b64encode(('KEY ' + SECRET).encode()).decode()}\n"
    )
    data = recorded()
    o = data["tests"][0]["mechanism"]
    o["evidence"]["secret_seen"] = {"kind": "Secret", "data": {"password": SECRET}}
    o["evidence"]["request"] = {"headers": {"Authorization": f"Bearer {SECRET}"}}
    o["timeline"].append({"at": 70.0, "source": "pod", "name": "x", "what": f"env TOKEN={SECRET}"})
    data["tests"][4]["mechanism"]["diagnostics"]["logs"][0]["lines"].append(
        f"DEBUG sending Authorization: Bearer {SECRET}"
    )
    data["tests"][-1]["message"] = f"kubeconfig was: {kubeconfig.read_text()}"
    data["provenance"]["command"] += [f"--token={SECRET}"]
    reports = reports_dir(tmp_path)
    out = write_report(
        data,
        reports / RUN_ID,
        reports / "history.jsonl",
        Redactor(kubeconfig_secrets([kubeconfig])),
    )
    written = [p for p in reports.rglob("*") if p.is_file()]
    assert {p.name for p in written} >= {
        "results.json",
        "report.html",
        "junit.xml",
        "history.jsonl",
    }
    for path in written:
        text = path.read_text()
        assert SECRET not in text, path
        assert base64.b64encode(("KEY " + SECRET).encode()).decode() not in text, path
    assert REDACTED in (out / "results.json").read_text()


def test_redaction_keeps_ordinary_evidence():
    r = Redactor()
    kept = {"execution_attempts": [3, 4], "uid": "3f2c9a7e-1b4d", "what": "Running ready=True"}
    assert r.value(kept) == kept


def _pytest(tmp_path, *args):
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "--report-dir",
            str(tmp_path / "reports"),
            *args,
        ],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_collect_only_and_runs_without_a_mechanism_write_no_folder(tmp_path):
    collected = _pytest(tmp_path, "--collect-only", "-q", "tests/unit/test_steps.py")
    assert collected.returncode == 0, collected.stdout
    ran = _pytest(tmp_path, "-q", "tests/unit/test_timing.py")
    assert ran.returncode == 0, ran.stdout
    assert not (tmp_path / "reports").exists()
    assert "resilience report" not in ran.stdout


def test_harness_report_rebuilds_from_results_alone(tmp_path):
    run = tmp_path / RUN_ID
    run.mkdir()
    (run / "results.json").write_text((RUN_DIR / "results.json").read_text())
    (tmp_path / "history.jsonl").write_text(HISTORY.read_text())
    done = subprocess.run(
        [sys.executable, "-m", "harness.cli", "report", str(run)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    page = (run / "report.html").read_text()
    assert 'id="verdict-matrix"' in page
    assert "Since the previous run" in page
    assert (run / "junit.xml").exists()


def test_compare_says_what_changed():
    text = compare_text(load_history(HISTORY)[-1], entry(recorded()))
    assert "verdict(s) changed" in text
    assert re.search(r"\* checkpoint_recovery\s+mechanism\s+passed → failed", text)


def test_run_report_writes_only_what_it_recorded(tmp_path):
    report = RunReport("20261203-030000", tmp_path / "20261203-030000")
    report.tests.append(Record("tests/unit/test_x.py::test_y", "passed", 0.1))
    assert not report.ran_mechanism
    report.tests.append(
        Record(
            "tests/chaos/test_mechanisms.py::test_mechanism[driver_restart]",
            "error",
            3.0,
            "cluster did not come up",
        )
    )
    assert report.ran_mechanism
    out = report.write(tmp_path / "history.jsonl")
    data = load_results(out)
    assert data["tests"][1]["mechanism"] is None
    page = (out / "report.html").read_text()
    assert "no verdict: the test ended in error" in page
