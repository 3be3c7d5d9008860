"""Kubernetes label selectors, evaluated here (pure): which policies select which pods."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from harness.errors import InvalidInput

__all__ = ["matches"]


def matches(selector: Mapping[str, Any] | None, labels: Mapping[str, str]) -> bool:
    """Whether labels satisfy a LabelSelector (matchLabels and matchExpressions).

    An empty selector selects everything, as in a NetworkPolicy's podSelector: {}.
    """
    if not selector:
        return True
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for i, expr in enumerate(selector.get("matchExpressions") or []):
        key, op, values = expr.get("key"), expr.get("operator"), expr.get("values") or []
        present = key in labels
        if op == "In":
            ok = present and labels[key] in values
        elif op == "NotIn":
            ok = not present or labels[key] not in values
        elif op == "Exists":
            ok = present
        elif op == "DoesNotExist":
            ok = not present
        else:
            raise InvalidInput(
                "label selector",
                f"matchExpressions[{i}].operator",
                "In, NotIn, Exists or DoesNotExist",
                str(op),
            )
        if not ok:
            return False
    return True
