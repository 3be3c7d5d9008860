"""Read an experiment file as chaostoolkit does (chaoslib.loader): JSON, or YAML.

The suffix decides, as it does for ``chaos run``: ``.json`` is JSON, ``.yaml`` and
``.yml`` are YAML. Every way a file can be unreadable becomes InvalidInput naming the
file and, for a syntax error, the line and column; a key given twice in one object is
an error too (both parsers would keep the last one silently).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from harness.errors import InvalidInput

__all__ = ["SUFFIXES", "load_experiment"]

SUFFIXES = (".json", ".yaml", ".yml")


class _Repeated(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    doc: dict[str, Any] = {}
    for key, value in pairs:
        if key in doc:
            raise _Repeated(key)
        doc[key] = value
    return doc


class _UniqueKeyLoader(yaml.SafeLoader):
    """safe_load, refusing a mapping that names a key twice."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[str] = set()
        for key_node, _ in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.value != "<<":
                if key_node.value in seen:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"key {key_node.value!r} given twice", key_node.start_mark
                    )
                seen.add(key_node.value)
        return super().construct_mapping(node, deep)


def load_experiment(path: Path) -> Any:
    """The parsed document (any JSON or YAML value); InvalidInput when it cannot be read."""
    source = str(path)
    if path.suffix not in SUFFIXES:
        raise InvalidInput(
            source,
            "(file)",
            "a .json, .yaml or .yml file, as chaostoolkit reads them",
            path.suffix or "no suffix",
        )
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InvalidInput(source, "(file)", "an existing experiment file", "missing") from None
    except IsADirectoryError:
        raise InvalidInput(source, "(file)", "a file", "a directory") from None
    except UnicodeDecodeError as exc:
        raise InvalidInput(
            source, "(file)", "UTF-8 text", f"byte {exc.start}: {exc.reason}"
        ) from None
    except OSError as exc:
        raise InvalidInput(source, "(file)", "a readable file", exc.strerror) from None
    if path.suffix == ".json":
        return _json(source, text)
    return _yaml(source, text)


def _json(source: str, text: str) -> Any:
    try:
        return json.loads(text, object_pairs_hook=_unique)
    except json.JSONDecodeError as exc:
        raise InvalidInput(
            source, f"(JSON) line {exc.lineno} column {exc.colno}", "valid JSON", exc.msg
        ) from None
    except _Repeated as exc:
        raise InvalidInput(
            source, f"(JSON) key {exc.key!r}", "each key once in its object", "twice"
        ) from None
    except (ValueError, RecursionError) as exc:  # a number too long, nesting too deep
        raise InvalidInput(source, "(JSON)", "JSON Python can read", str(exc)[:200]) from None


def _yaml(source: str, text: str) -> Any:
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)  # a SafeLoader
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = (
            "(YAML)" if mark is None else f"(YAML) line {mark.line + 1} column {mark.column + 1}"
        )
        raise InvalidInput(source, where, "valid YAML", exc.problem or str(exc)) from None
    except yaml.YAMLError as exc:
        raise InvalidInput(source, "(YAML)", "valid YAML", str(exc)[:200]) from None
    except RecursionError:
        raise InvalidInput(source, "(YAML)", "YAML Python can read", "nesting too deep") from None
