"""@name@ placeholders in our templates (kind config, node manifests, pipeline manifests)."""

from __future__ import annotations

import re

from harness.errors import InvalidInput

__all__ = ["fill_placeholders"]

_PLACEHOLDER = re.compile(r"@([a-z_]+)@")


def fill_placeholders(text: str, values: dict[str, str], source: str) -> str:
    """Replace @name@ placeholders; an unknown name is an error naming the file."""

    def value(match: re.Match[str]) -> str:
        if match[1] not in values:
            raise InvalidInput(source, match[0], f"one of {sorted(values)}", match[1])
        return values[match[1]]

    return _PLACEHOLDER.sub(value, text)
