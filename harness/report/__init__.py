"""Per-run resilience reports: results.json (schema-validated), report.html, junit.xml, and
the history across runs (history.jsonl)."""

from harness.report.run import RunReport, TestRecord, rebuild, write_report

__all__ = ["RunReport", "TestRecord", "rebuild", "write_report"]
