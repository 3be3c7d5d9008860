"""junit.xml: one testcase per mechanism and per control (with MTTR and the bound as
properties, and a failure message that says what failed), then every other test.

Written by the harness, not by pytest's junitxml, so a mechanism's case carries its
verdict rather than pytest's view of the test; ``--junitxml PATH`` still writes pytest's
own file where asked.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from harness.report.matrix import NOT_RUN, Cell, matrix, matrix_test

__all__ = ["render_junit"]


def _case(suite: ET.Element, classname: str, name: str, seconds: float) -> ET.Element:
    return ET.SubElement(
        suite, "testcase", classname=classname, name=name, time=f"{max(seconds, 0):.3f}"
    )


def _properties(case: ET.Element, values: dict[str, Any]) -> None:
    props = ET.SubElement(case, "properties")
    for k, v in values.items():
        if v is not None:
            ET.SubElement(props, "property", name=k, value=str(v))


def _mechanism_case(suite: ET.Element, mid: str, cell: Cell, control: bool, unproven: bool) -> None:
    kind = "negative_control" if control else "mechanism"
    seconds = 0.0 if cell.test is None else float(cell.test.get("seconds", 0))
    case = _case(suite, f"resilience.{kind}", mid, seconds)
    o = cell.outcome or {}
    _properties(
        case,
        {
            "verdict": cell.status,
            "mttr_seconds": o.get("mttr_seconds"),
            "bound_seconds": o.get("bound_seconds"),
            "bound": o.get("bound_arithmetic"),
            "margin_seconds": cell.margin,
            "exactly_once": (o.get("reconciliation") or {}).get("exactly_once"),
            "unproven": unproven if not control else None,
            "nodeid": None if cell.test is None else cell.test["nodeid"],
        },
    )
    if cell.status == "failed":
        ET.SubElement(
            case, "failure", message=f"FAILED: {cell.reason}"[:1000], type="failed"
        ).text = "\n".join(o.get("failures") or [cell.reason])
    elif cell.status == "inconclusive":
        ET.SubElement(
            case,
            "failure",
            message=f"INCONCLUSIVE (not a pass): {cell.reason}"[:1000],
            type="inconclusive",
        ).text = cell.reason
    elif cell.status == NOT_RUN:
        ET.SubElement(case, "skipped", message=cell.reason)


def render_junit(data: dict[str, Any]) -> str:
    """The junit.xml text for results.json's data."""
    root = ET.Element("testsuites", name=f"spark-chaos-harness {data['run_id']}")
    rows = matrix(data)
    resilience = ET.SubElement(root, "testsuite", name="resilience", timestamp=data["started"])
    if any(r.run.status != NOT_RUN or r.control.status != NOT_RUN for r in rows):
        for r in rows:
            _mechanism_case(resilience, r.mechanism.id, r.run, False, r.unproven)
            _mechanism_case(resilience, r.mechanism.id, r.control, True, False)
    others = ET.SubElement(root, "testsuite", name="pytest", timestamp=data["started"])
    for t in data["tests"]:
        if matrix_test(t["nodeid"]) is not None:
            continue
        module, _, name = t["nodeid"].partition("::")
        case = _case(
            others, module.removesuffix(".py").replace("/", "."), name or module, t["seconds"]
        )
        message = (t.get("message") or "").strip()
        last = message.splitlines()[-1][:500] if message else t["outcome"]
        if t["outcome"] == "failed":
            ET.SubElement(case, "failure", message=last).text = message
        elif t["outcome"] == "error":
            ET.SubElement(case, "error", message=last).text = message
        elif t["outcome"] == "skipped":
            ET.SubElement(case, "skipped", message=last)
    for suite in (resilience, others):
        cases = suite.findall("testcase")
        suite.set("tests", str(len(cases)))
        suite.set("failures", str(sum(1 for c in cases if c.find("failure") is not None)))
        suite.set("errors", str(sum(1 for c in cases if c.find("error") is not None)))
        suite.set("skipped", str(sum(1 for c in cases if c.find("skipped") is not None)))
        suite.set("time", f"{sum(float(c.get('time', 0)) for c in cases):.3f}")
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
