"""Drift: how a live object differs from what our manifest declares (pure).

The API server and the operator fill in fields a manifest leaves out (defaults, status,
metadata), so "equal" is the wrong test. The comparison is by *declaration*:

- every field the manifest declares must be in the live object with the same value;
  fields it does not declare are ignored (they are someone's defaults);
- lists whose items all have a ``name`` (containers, volumes, env, ports) are compared
  item by item by name; other lists (args, tolerations) by position and length;
- at an *exact* path nothing undeclared may be added either: no key the manifest leaves
  out (sparkConf, restartPolicy), no named item (volumes), and an absent list must be
  absent or empty live (tolerations). The items themselves are again compared by
  declaration, since the API server may default fields inside them. A removed
  toleration is caught by the first rule; an added one, or an added sparkConf entry,
  only by this one.

A declared value that is still an ``@placeholder@`` (a manifest rendered without image
values) is not compared: it says nothing about the live value.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["PLACEHOLDER", "SPARK_APPLICATION_EXACT", "drift"]

PLACEHOLDER = re.compile(r"^@[a-z_]+@$")
SPARK_APPLICATION_EXACT = (
    "spec.restartPolicy",
    "spec.sparkConf",
    "spec.executor.instances",
    "spec.driver.template.spec.tolerations",
    "spec.executor.template.spec.tolerations",
    "spec.driver.template.spec.volumes",
    "spec.executor.template.spec.volumes",
)
"""What a mechanism's negative control changes, or a bad rollback could leave changed:
compared whole, so an added entry is drift too. restartPolicy's interval fields are
defaulted by the operator only when 05 leaves them out, which it does not."""


def drift(declared: Any, live: Any, exact: Iterable[str] = (), path: str = "") -> list[str]:
    """Differences of ``live`` from ``declared``, one sentence each; empty: no drift.

    ``exact`` lists dotted paths (``spec.sparkConf``) compared whole rather than as a
    declaration; a path is relative to the objects passed in.
    """
    exact_paths = frozenset(exact)
    return _drift(declared, live, exact_paths, path, path in exact_paths)


def _drift(declared: Any, live: Any, exact: frozenset[str], path: str, whole: bool) -> list[str]:
    """``whole``: this very level is exact (no undeclared key or named item may be added);
    levels below it are compared by declaration again unless they are exact themselves."""
    if isinstance(declared, str) and PLACEHOLDER.match(declared):
        return []
    if isinstance(declared, Mapping):
        if not isinstance(live, Mapping):
            return [_differs(path, declared, live)]
        problems = []
        for key, value in declared.items():
            sub = _join(path, key)
            if key not in live:
                problems.append(f"{sub}: declared {_show(value)}, missing live")
            else:
                problems += _drift(value, live[key], exact, sub, sub in exact)
        for key, value in live.items():
            sub = _join(path, key)
            if key not in declared and not _empty(value) and (whole or sub in exact):
                problems.append(f"{sub}: not declared, live has {_show(value)}")
        return problems
    if isinstance(declared, list):
        return _list_drift(declared, live, exact, path, whole)
    return [] if _same(declared, live) else [_differs(path, declared, live)]


def _join(path: str, key: object) -> str:
    """``a.b``; a key with dots in it (a sparkConf name) in brackets, to stay readable."""
    if isinstance(key, str) and "." in key:
        return f"{path}[{key!r}]"
    return f"{path}.{key}" if path else str(key)


def _list_drift(
    declared: list[Any], live: Any, exact: frozenset[str], path: str, whole: bool
) -> list[str]:
    if not isinstance(live, list):
        return [_differs(path, declared, live)]
    if declared and all(isinstance(d, Mapping) and "name" in d for d in declared):
        by_name = {d.get("name"): d for d in live if isinstance(d, Mapping)}
        problems = []
        for item in declared:
            sub = f"{path}[{item['name']}]"
            if item["name"] not in by_name:
                problems.append(f"{sub}: declared, missing live")
            else:
                problems += _drift(item, by_name[item["name"]], exact, sub, False)
        if whole:
            names = {d["name"] for d in declared}
            problems += [
                f"{path}[{n}]: not declared, live has it" for n in by_name if n not in names
            ]
        return problems
    if len(declared) != len(live):
        return [_differs(path, declared, live)]
    problems = []
    for i, (d, v) in enumerate(zip(declared, live, strict=True)):
        problems += _drift(d, v, exact, f"{path}[{i}]", False)
    return problems


def _same(declared: Any, live: Any) -> bool:
    """Scalars equal as YAML and JSON see them: 5 and "5" are one quantity, true and True."""
    if declared == live:
        return True
    return str(declared).lower() == str(live).lower() and not (declared is None or live is None)


def _empty(value: Any) -> bool:
    return value is None or value == [] or value == {}


def _differs(path: str, declared: Any, live: Any) -> str:
    if _empty(declared) and path:
        return f"{path}: declared none, live has {_show(live)}"
    return f"{path}: declared {_show(declared)}, live has {_show(live)}"


def _show(value: Any, limit: int = 120) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
