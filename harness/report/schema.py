"""results.json's JSON Schema (results.schema.json beside this module): load, upgrade, validate.

Version 1 is the first versioned one; a file without ``schema_version`` (written before
versioning) has the same shape and is read as version 1.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

from harness.errors import InvalidInput

__all__ = ["SCHEMA_PATH", "SCHEMA_VERSION", "load_results", "schema", "upgrade", "validate"]

SCHEMA_PATH = Path(__file__).resolve().parent / "results.schema.json"
SCHEMA_VERSION = 1


@cache
def schema() -> dict[str, Any]:
    """The JSON Schema results.json is written against."""
    loaded: dict[str, Any] = json.loads(SCHEMA_PATH.read_text())
    return loaded


def upgrade(data: dict[str, Any]) -> dict[str, Any]:
    """An older results.json in the current version's shape (a copy; unversioned is v1)."""
    found = data.get("schema_version", 1)
    if found != SCHEMA_VERSION:
        raise InvalidInput("results.json", "schema_version", f"{SCHEMA_VERSION} or none", found)
    return {"schema_version": SCHEMA_VERSION, **data}


def validate(data: dict[str, Any], source: str = "results.json") -> None:
    """InvalidInput naming the first place where data departs from the schema."""
    validator = jsonschema.Draft202012Validator(schema())
    first = jsonschema.exceptions.best_match(validator.iter_errors(data))
    if first is not None:
        while first.context:  # a oneOf's alternatives: the deepest is the one that explains
            first = max(first.context, key=lambda e: len(e.absolute_path))
        where = "/".join(str(p) for p in first.absolute_path) or "(top level)"
        raise InvalidInput(source, where, f"the results schema: {first.message[:300]}")


def load_results(path: Path) -> dict[str, Any]:
    """results.json (a file, or the run directory holding it), upgraded and validated."""
    file = path / "results.json" if path.is_dir() else path
    try:
        data = json.loads(file.read_text())
    except (OSError, ValueError) as exc:
        raise InvalidInput(str(file), "(file)", "a readable results.json", str(exc)) from exc
    if not isinstance(data, dict):
        raise InvalidInput(str(file), "(top level)", "an object", type(data).__name__)
    data = upgrade(data)
    validate(data, str(file))
    return data
