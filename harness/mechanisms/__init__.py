"""The self-healing mechanisms the harness verifies: their model, catalog and template."""

from harness.mechanisms.model import Bound, Mechanism, Term
from harness.mechanisms.registry import MECHANISMS, mechanism

__all__ = ["MECHANISMS", "Bound", "Mechanism", "Term", "mechanism"]
