"""Per-run reports: results.json (complete), report.html (plain), junit.xml (by pytest)."""

from harness.report.run import RunReport, TestRecord

__all__ = ["RunReport", "TestRecord"]
