"""Benchmark of the mechanism suite: wall time of the whole suite and of each test.

    python bench/mechanisms.py                 every implemented mechanism and its control
    python bench/mechanisms.py -k node_failure  a pytest -k selection of them

Runs ``pytest -m mechanism`` on the lab (brought up or reused by the session fixtures),
then reads the run's results.json: per test its duration (setup, call, teardown),
verdict, MTTR and bound, and where the call's time went (the runner's phases: switch
off, steady state, strike, strike to recovery, checks, reconciliation, rollbacks,
invariants).
Printed as a table and appended to <cache>/bench/mechanisms.jsonl. Timing is measured
here, never asserted by a test.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from harness.settings import PROJECT_ROOT, cache_dir


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-k", default=None, help="pytest -k expression")
    args = parser.parse_args()
    reports = PROJECT_ROOT / "reports"
    before = set(reports.glob("*/results.json")) if reports.is_dir() else set()
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-m", "mechanism"]
    if args.k:
        command += ["-k", args.k]
    print(f"=== {' '.join(command)}", flush=True)
    begun = time.monotonic()
    code = subprocess.run(command, cwd=PROJECT_ROOT, check=False).returncode
    wall = time.monotonic() - begun
    new = sorted(set(reports.glob("*/results.json")) - before)
    if not new:
        print("no results.json written", file=sys.stderr)
        return 1
    data: dict[str, Any] = json.loads(Path(new[-1]).read_text())
    rows = []
    for test in data["tests"]:
        m = test.get("mechanism") or {}
        rows.append(
            {
                "test": test["nodeid"].split("::")[-1],
                "outcome": test["outcome"],
                "verdict": m.get("verdict"),
                "seconds": round(float(test.get("seconds") or 0.0), 1),
                "setup": round(float(test.get("setup_seconds") or 0.0), 1),
                "teardown": round(float(test.get("teardown_seconds") or 0.0), 1),
                "mttr": m.get("mttr_seconds"),
                "bound": m.get("bound_seconds"),
                "phases": m.get("phases") or {},
            }
        )
    print(
        f"\n{'test':<52} {'verdict':<12} {'call s':>7} {'setup':>6} {'tear':>6}"
        f" {'MTTR':>7} {'bound':>6}"
    )
    for r in rows:
        mttr = "-" if r["mttr"] is None else f"{r['mttr']:.1f}"
        bound = "-" if r["bound"] is None else f"{r['bound']:.0f}"
        verdict = r["verdict"] or r["outcome"]
        print(
            f"{r['test']:<52} {verdict:<12} {r['seconds']:>7} {r['setup']:>6}"
            f" {r['teardown']:>6} {mttr:>7} {bound:>6}"
        )
        if r["phases"]:
            print("    " + ", ".join(f"{k} {v:.0f}s" for k, v in r["phases"].items()))
    totals: dict[str, float] = {}
    for r in rows:
        for k, v in r["phases"].items():
            totals[k] = totals.get(k, 0.0) + v
    if totals:
        print(
            "\nwhere the time went (all tests): "
            + ", ".join(f"{k} {v:.0f}s" for k, v in sorted(totals.items(), key=lambda kv: -kv[1]))
        )
    print(f"\nsuite wall time: {wall:.0f}s (pytest exit {code})")
    out = cache_dir() / "bench" / "mechanisms.jsonl"
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("a") as f:
        f.write(json.dumps({"at": time.time(), "wall": wall, "exit": code, "tests": rows}) + "\n")
    return code


if __name__ == "__main__":
    raise SystemExit(main())
