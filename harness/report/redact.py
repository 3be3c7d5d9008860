"""Keep secrets out of every report file: tokens, kubeconfig contents, Secret data and
Authorization headers are replaced by ``[REDACTED]`` before anything is written.

Three layers, applied to results.json's data (report.html and junit.xml are rendered
from the redacted data): values under a sensitive key; the ``data``/``stringData`` of
anything shaped like a Secret; and, inside every string, patterns (bearer tokens, JWTs,
PEM blocks, kubeconfig credential fields, ``--token=`` style options) plus the literal
credentials of the kubeconfig the run used, raw and base64-decoded.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

__all__ = ["REDACTED", "Redactor", "kubeconfig_secrets"]

REDACTED = "[REDACTED]"
SENSITIVE_KEY = re.compile(
    r"(?i)^(.*[-_])?(token|password|passwd|secret|authorization|api[-_]?key|private[-_]?key"
    r"|client[-_]key(-data)?|client-certificate-data|certificate-authority-data|credentials?"
    r"|kubeconfig|cookie)$"
)
PATTERNS = (
    re.compile(r"(?i)(authorization\s*[:=]\s*)(\"?)(bearer|basic)?\s*[^\s\"',}]+"),
    re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._~+/=-]{8,}"),
    re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"),
    re.compile(r"-----BEGIN [A-Z ]+-----.*?(-----END [A-Z ]+-----|$)", re.S),
    re.compile(
        r"(?i)((client-key-data|client-certificate-data|certificate-authority-data|token"
        r"|password)\s*[:=]\s*)\S+"
    ),
    re.compile(r"(?i)(--?(token|password|secret|api-key)[= ])\S+"),
)
_MIN_LITERAL = 8
"""Shorter literals would redact ordinary words."""


@dataclass
class Redactor:
    """Redacts a JSON-like value; ``literals`` are known secret strings."""

    literals: list[str] = field(default_factory=list)

    def text(self, value: str) -> str:
        """A string with every pattern and literal replaced."""
        for literal in self.literals:
            if literal in value:
                value = value.replace(literal, REDACTED)
        for pattern in PATTERNS:
            value = pattern.sub(_replacement, value)
        return value

    def value(self, value: Any, key: str = "") -> Any:
        """A copy of a JSON-like value, redacted."""
        if key and SENSITIVE_KEY.match(key) and value not in (None, "", [], {}):
            return REDACTED
        if isinstance(value, dict):
            secret_like = str(value.get("kind", "")) == "Secret" or "stringData" in value
            return {
                k: REDACTED
                if secret_like and k in ("data", "stringData")
                else self.value(v, str(k))
                for k, v in value.items()
            }
        if isinstance(value, list | tuple):
            return [self.value(v) for v in value]
        if isinstance(value, str):
            return self.text(value)
        return value


def _replacement(found: re.Match[str]) -> str:
    prefix = found.group(1) if found.re.groups and found.group(1) else ""
    return f"{prefix}{REDACTED}"


def kubeconfig_secrets(paths: Iterable[Path]) -> list[str]:
    """The credentials in these kubeconfig files, raw and base64-decoded, longest first."""
    found: set[str] = set()
    for path in paths:
        try:
            doc = yaml.safe_load(path.read_text())
        except (OSError, yaml.YAMLError):
            continue
        _collect(doc, found)
    return sorted((s for s in found if len(s) >= _MIN_LITERAL), key=len, reverse=True)


def _collect(node: Any, found: set[str]) -> None:
    if isinstance(node, dict):
        for k, v in node.items():
            if isinstance(v, str) and SENSITIVE_KEY.match(str(k)):
                found.add(v)
                try:
                    decoded = base64.b64decode(v, validate=True).decode()
                except (binascii.Error, UnicodeDecodeError, ValueError):
                    continue
                found.add(decoded)
                found.update(line for line in decoded.splitlines() if len(line) >= 40)
            else:
                _collect(v, found)
    elif isinstance(node, list):
        for v in node:
            _collect(v, found)
