"""Data integrity: every event produced reaches the sink exactly once."""

from harness.integrity.reconcile import EventId, Reconciliation, Record, SinkRow, reconcile

__all__ = ["EventId", "Reconciliation", "Record", "SinkRow", "reconcile"]
