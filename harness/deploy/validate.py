"""Schema validation of the pipeline's manifests, before anything reaches the cluster.

Core Kubernetes kinds are checked against the strict JSON schemas the
``kubernetes-validate`` package bundles (an unknown field is an error, as with
``kubectl apply --validate=strict``). Kinds defined by CRDs are checked against the
openAPIV3Schema of the CRDs we generate (harness.images.crds), read the way the API
server reads a structural schema: unknown fields are errors unless
``x-kubernetes-preserve-unknown-fields`` says otherwise, ``x-kubernetes-int-or-string``
takes both, an object's own ``metadata`` is checked as the core ObjectMeta, and embedded
objects' metadata leniently (types of the common fields; other fields allowed). A kind
with no schema anywhere is an error: nothing is skipped silently.
"""

from __future__ import annotations

import copy
import difflib
import importlib.resources
import json
import re
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match
from referencing import Registry, Resource

from harness.errors import InvalidInput
from harness.images.crds import (
    GroupVersionKind,
    crd_schemas,
    crd_sources,
    generate_crds,
    schemas_of,
)
from harness.settings import PipelineVersions

__all__ = ["builtin_schema_version", "pipeline_crd_schemas", "validate_documents"]

_SCHEMA_DIR = re.compile(r"^v(\d+)\.(\d+)\.(\d+)-local-strict$")

_LENIENT_METADATA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "generateName": {"type": "string"},
        "namespace": {"type": "string"},
        "labels": {"type": "object", "additionalProperties": {"type": "string"}},
        "annotations": {"type": "object", "additionalProperties": {"type": "string"}},
        "finalizers": {"type": "array", "items": {"type": "string"}},
    },
}
"""What we check of embedded metadata in a CRD: the common fields' types, no more."""

_OBJECT_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
_POD_TEMPLATE = "io.k8s.api.core.v1.PodTemplateSpec"
_SCHEMALESS_CORE_TYPES: dict[GroupVersionKind, dict[tuple[str, ...], str]] = {
    ("sparkoperator.k8s.io", "v1beta2", "SparkApplication"): {
        ("spec", "driver", "template"): _POD_TEMPLATE,
        ("spec", "executor", "template"): _POD_TEMPLATE,
    },
    ("sparkoperator.k8s.io", "v1beta2", "ScheduledSparkApplication"): {
        ("spec", "template", "driver", "template"): _POD_TEMPLATE,
        ("spec", "template", "executor", "template"): _POD_TEMPLATE,
    },
}
"""CRD fields upstream marks Schemaless (any object) whose Go type is a core type.

The Spark operator's driver and executor ``template`` is a ``*corev1.PodTemplateSpec``
with ``+kubebuilder:validation:Schemaless``: the CRD accepts anything there and the
operator's decoding silently drops unknown fields. We check it against the core schema.
"""


def validate_documents(
    docs: list[tuple[str, dict[str, Any]]],
    kube_version: str = "1.34",
    crds: Mapping[GroupVersionKind, dict[str, Any]] | None = None,
) -> list[str]:
    """Every schema error in these (source file, object) pairs, one line each.

    ``crds`` maps (group, version, kind) to an openAPIV3Schema; by default the schemas
    of every CRD the pipeline uses (generated, cached). CRDs among ``docs`` count too.
    """
    schema_dir = _builtin_schema_dir(kube_version)
    known = dict(pipeline_crd_schemas() if crds is None else crds)
    known.update(
        schemas_of(
            obj
            for _, obj in docs
            if isinstance(obj, dict)
            and obj.get("apiVersion") == "apiextensions.k8s.io/v1"
            and obj.get("kind") == "CustomResourceDefinition"
        )
    )
    crd_validators: dict[GroupVersionKind, Any] = {}
    errors: list[str] = []
    for source, parsed in docs:
        obj: object = parsed  # YAML may hold anything; the type is what we check
        where = f"{source}: {_identity(obj)}"
        if not isinstance(obj, dict):
            errors.append(f"{where}: (root): expected an object, got {_json_type(obj)}")
            continue
        api_version, kind = obj.get("apiVersion"), obj.get("kind")
        if not isinstance(api_version, str) or not isinstance(kind, str):
            errors.append(f"{where}: apiVersion, kind: expected strings naming the object's type")
            continue
        group, _, version = api_version.rpartition("/")
        gvk = (group, version, kind)
        validator = _builtin_validator(schema_dir, gvk)
        if validator is None and gvk in known:
            if gvk not in crd_validators:
                crd_validators[gvk] = _crd_validator(schema_dir, gvk, known[gvk])
            validator = crd_validators[gvk]
        if validator is None:
            errors.append(
                f"{where}: apiVersion, kind: no schema for {api_version} {kind} "
                f"(not a Kubernetes {schema_dir.name.split('-')[0]} kind nor a known CRD)"
            )
            continue
        for error in sorted(validator.iter_errors(obj), key=lambda e: list(map(str, e.path))):
            errors += [f"{where}: {path}: {what}" for path, what in _describe(error)]
    return errors


def builtin_schema_version(kube_version: str) -> str:
    """The bundled schema version used for ``kube_version``: the newest not newer than it."""
    return _builtin_schema_dir(kube_version).name.removesuffix("-local-strict")


def pipeline_crd_schemas() -> dict[GroupVersionKind, dict[str, Any]]:
    """The openAPIV3Schemas of every CRD the pipeline uses (generating them if needed)."""
    sources = crd_sources(PipelineVersions()).values()
    return crd_schemas(generate_crds(s) for s in sources)


@cache
def _builtin_schema_dir(kube_version: str) -> Path:
    wanted = tuple(int(n) for n in kube_version.lstrip("v").split(".")[:2])
    root = importlib.resources.files("kubernetes_validate") / "kubernetes-json-schema"
    bundled: list[tuple[tuple[int, int, int], str]] = []
    for entry in root.iterdir():
        match = _SCHEMA_DIR.match(entry.name)
        if match:
            bundled.append(((int(match[1]), int(match[2]), int(match[3])), entry.name))
    usable = sorted(v for v in bundled if v[0][:2] <= wanted)
    if not usable:
        oldest = ".".join(map(str, min(bundled)[0][:2])) if bundled else "none"
        raise InvalidInput("kube_version", "kube_version", f">= {oldest}", kube_version)
    return Path(str(root / usable[-1][1]))


@cache
def _definitions(schema_dir: Path) -> Registry[Any]:
    contents = json.loads((schema_dir / "_definitions.json").read_text())
    return Resource.from_contents(contents) @ Registry()


@cache
def _builtin_validator(schema_dir: Path, gvk: GroupVersionKind) -> Any:
    group, version, kind = gvk
    prefix = f"{group.split('.')[0]}-" if group else ""
    path = schema_dir / f"{kind.lower()}-{prefix}{version}.json"
    if not path.exists():
        return None
    schema = json.loads(path.read_text())
    declared = schema.get("x-kubernetes-group-version-kind") or []
    if {"group": group, "version": version, "kind": kind} not in declared:
        return None  # same file name, other group (autoscaling vs autoscaling.k8s.io)
    registry = Resource.from_contents(schema) @ _definitions(schema_dir)
    return Draft202012Validator(schema, registry=registry)


def _crd_validator(schema_dir: Path, gvk: GroupVersionKind, crd_schema: dict[str, Any]) -> Any:
    schema = _structural(crd_schema, root=True)
    definitions = _definitions(schema_dir)
    base = json.loads((schema_dir / "_definitions.json").read_text())["$id"]
    # The API server reads a custom object's own metadata as ObjectMeta: check it as such.
    schema["properties"]["metadata"] = {"$ref": f"{base}#/$defs/{_OBJECT_META}"}
    for path, core_type in _SCHEMALESS_CORE_TYPES.get(gvk, {}).items():
        parent = schema
        for name in path[:-1]:
            parent = parent.get("properties", {}).get(name, {})
        node = parent.get("properties", {}).get(path[-1])
        if node is not None and "properties" not in node:
            parent["properties"][path[-1]] = {"$ref": f"{base}#/$defs/{core_type}"}
    return Draft202012Validator(schema, registry=definitions)


def _structural(node: dict[str, Any], *, root: bool = False) -> dict[str, Any]:
    """A CRD structural schema as JSON Schema with the API server's reading of it."""
    out = copy.copy(node)
    if out.get("x-kubernetes-int-or-string"):
        out.pop("type", None)
        out["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    elif out.get("nullable") and isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
    properties = {name: _structural(sub) for name, sub in (out.get("properties") or {}).items()}
    embedded = bool(out.get("x-kubernetes-embedded-resource"))
    if embedded or root:
        properties.setdefault("apiVersion", {"type": "string"})
        properties.setdefault("kind", {"type": "string"})
    metadata = properties.get("metadata", {})
    wanted = root or embedded or "metadata" in properties
    if wanted and metadata.get("type", "object") == "object":
        properties["metadata"] = _lenient_metadata(metadata)
    if properties:
        out["properties"] = properties
    if isinstance(out.get("items"), dict):
        out["items"] = _structural(out["items"])
    if isinstance(out.get("additionalProperties"), dict):
        out["additionalProperties"] = _structural(out["additionalProperties"])
    for word in ("allOf", "anyOf", "oneOf"):
        if word in out and not out.get("x-kubernetes-int-or-string"):
            out[word] = [_structural(sub) for sub in out[word]]
    is_object = out.get("type") == "object" or "object" in (out.get("type") or [])
    if (
        is_object
        and "additionalProperties" not in out
        and not out.get("x-kubernetes-preserve-unknown-fields")
    ):
        out["additionalProperties"] = False  # the API server prunes, strict apply rejects
    return out


def _lenient_metadata(declared: dict[str, Any]) -> dict[str, Any]:
    """Metadata: the declared fields' types and the common fields', unknown ones allowed."""
    properties = {**_LENIENT_METADATA["properties"], **(declared.get("properties") or {})}
    return {"type": "object", "properties": properties}


def _identity(obj: object) -> str:
    if not isinstance(obj, dict):
        return "<not an object>"
    metadata = obj.get("metadata")
    name = metadata.get("name") if isinstance(metadata, dict) else None
    return f"{obj.get('kind') or '<no kind>'}/{name or '<no name>'}"


def _path(parts: Iterable[object]) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(root)"


def _describe(error: Any) -> list[tuple[str, str]]:
    """(field path, what was expected) for one jsonschema error."""
    path = list(error.absolute_path)
    word, expected, instance = error.validator, error.validator_value, error.instance
    if word == "additionalProperties" and expected is False and isinstance(instance, dict):
        allowed = sorted((error.schema.get("properties") or {}).keys())
        found = []
        for key in sorted(set(instance) - set(allowed)):
            hint = difflib.get_close_matches(key, allowed, n=1)
            known = f"did you mean {hint[0]!r}?" if hint else f"known fields: {', '.join(allowed)}"
            found.append((_path([*path, key]), f"unknown field ({known})"))
        if found:
            return found
    if word == "required":
        missing = re.match(r"^'(.*)' is a required property$", error.message)
        name = missing[1] if missing else error.message
        return [(_path([*path, name]), "required field is missing")]
    if word == "type":
        return [(_path(path), f"expected {_types(expected)}, got {_shown(instance)}")]
    if word == "enum":
        return [(_path(path), f"expected one of {expected}, got {_shown(instance)}")]
    if word in ("oneOf", "anyOf"):
        simple = [s for s in expected if isinstance(s, dict) and set(s) == {"type"}]
        if simple and len(simple) == len(expected):
            kinds = _types([t for s in simple for t in _listed(s["type"])])
            return [(_path(path), f"expected {kinds}, got {_shown(instance)}")]
        if error.context:
            return _describe(best_match(error.context))
    return [(_path(path), f"{error.message[:300]}")]


def _listed(types: object) -> list[str]:
    return [str(t) for t in types] if isinstance(types, list) else [str(types)]


def _types(types: object) -> str:
    names = [t for t in dict.fromkeys(_listed(types)) if t != "null"]
    return " or ".join(names) or "null"


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _shown(value: object) -> str:
    if isinstance(value, dict | list):
        return _json_type(value)
    return f"{_json_type(value)} {json.dumps(value)[:80]}"
