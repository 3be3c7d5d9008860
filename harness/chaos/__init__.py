"""Faults and their rollbacks: every fault registers how to undo it before it strikes."""

from harness.chaos.rollback import Rollback, RollbackFailed, Rollbacks

__all__ = ["Rollback", "RollbackFailed", "Rollbacks"]
