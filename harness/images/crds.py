"""CustomResourceDefinitions generated from the upstream Go API types with controller-gen.

We never copy CRD YAML out of a module: controller-gen reads the API packages at the
pinned version (through a wrapper module that pins upstream's replace/exclude lines,
like our Go builds) and writes the CRDs into the cache. The options mirror how each
project generates its own CRDs, plus ``maxDescLen=0``: descriptions are most of a CRD's
size (upstream's SparkApplication CRD is 798 KB of YAML; ours 259 KB, 96 KB as compact
JSON), and without them every CRD's JSON is under 110 KB, well within the 256 KiB
client-side-apply annotation (the harness applies them server-side regardless). Apart
from descriptions the generated schemas equal upstream's published CRDs.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from harness.errors import StepFailed
from harness.images.catalog import pipeline_programs
from harness.images.gobuild import GO_ENV, build, prepare_wrapper_module
from harness.settings import PipelineVersions, cache_dir
from harness.steps import run_logged

__all__ = [
    "CRD_SOURCES",
    "CrdSource",
    "GroupVersionKind",
    "crd_schemas",
    "crd_sources",
    "generate_crds",
    "load_crds",
]

GroupVersionKind = tuple[str, str, str]
"""(group, version, kind); the group of core kinds is ""."""

FORMAT = "1"
"""Bump when the way we post-process or lay out the generated files changes."""


@dataclass(frozen=True)
class CrdSource:
    """One upstream API module whose types controller-gen turns into CRDs."""

    name: str
    """Short name; the cache folder is crds/<name>-<version>-<recipe digest>."""
    module: str
    """The Go module that holds the API packages."""
    version: str
    """The module's version tag."""
    packages: tuple[str, ...]
    """Import paths of the API packages (each generated with its sub-packages, ``/...``)."""
    options: tuple[str, ...]
    """Arguments of controller-gen's crd generator, e.g. ``generateEmbeddedObjectMeta=true``."""
    sibling_version: str = ""
    """Version for modules the upstream go.mod replaces with local paths."""
    tolerated_errors: tuple[str, ...] = ()
    """Output lines upstream's own script ignores when controller-gen exits non-zero."""

    def recipe(self, generator: str) -> str:
        """A digest of everything that decides the output; a change means regenerating."""
        parts = json.dumps(
            [
                self.name,
                self.module,
                self.version,
                self.packages,
                self.options,
                self.sibling_version,
                self.tolerated_errors,
                generator,
                FORMAT,
            ],
            sort_keys=True,
        )
        return hashlib.sha256(parts.encode()).hexdigest()[:12]

    def arguments(self, out: Path) -> list[str]:
        """controller-gen's command-line arguments, writing into ``out``."""
        return [
            "crd:" + ",".join(self.options),
            *(f"paths={p}/..." for p in self.packages),
            f"output:crd:dir={out}",
        ]


def crd_sources(p: PipelineVersions) -> dict[str, CrdSource]:
    """Every API whose CRDs the pipeline needs, by name."""
    spark = "github.com/kubeflow/spark-operator/v2"
    monitoring = "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring"
    vpa = "k8s.io/autoscaler/vertical-pod-autoscaler"
    sources = [
        # Makefile `manifests`: crd:generateEmbeddedObjectMeta=true paths="./...". That
        # keeps the labels and annotations of embedded ObjectMeta (volumeClaimTemplate
        # of ephemeral volumes) from being pruned; the driver and executor `template`
        # is Schemaless upstream (any object, kept whole). v1beta2: SparkApplication and
        # ScheduledSparkApplication; v1alpha1: SparkConnect, which we do not run, but the
        # operator always starts its controller and will not start without the CRD.
        CrdSource(
            "spark-operator",
            spark,
            p.spark_operator,
            (f"{spark}/api/v1beta2", f"{spark}/api/v1alpha1"),
            ("generateEmbeddedObjectMeta=true", "maxDescLen=0"),
        ),
        # Makefile `generate-crds`: CRD_OPTIONS=crd:crdVersions=v1 with paths ./v1 and
        # ./v1alpha1 (the default bundle; v1beta1 AlertmanagerConfig needs their
        # conversion webhook and lives in a separate "full" set).
        CrdSource(
            "prometheus-operator",
            monitoring,
            p.prometheus_operator,
            (f"{monitoring}/v1", f"{monitoring}/v1alpha1"),
            ("crdVersions=v1", "maxDescLen=0"),
        ),
        # hack/generate-crd-yaml.sh: crd:allowDangerousTypes=true (the checkpoint's
        # histogram has float64 fields). controller-gen then exits non-zero on the
        # checkpoint's map[int]uint32 bucketWeights (typed by markers as an object
        # preserving unknown fields, so nothing is lost); the script greps those lines
        # away and fails on anything else. We do the same.
        CrdSource(
            "vpa",
            vpa,
            p.vpa,
            (f"{vpa}/pkg/apis/autoscaling.k8s.io/v1",),
            ("allowDangerousTypes=true", "maxDescLen=0"),
            tolerated_errors=(
                "map keys must be strings, not int",
                "not all generators ran successfully",
                "usage",  # its "run `controller-gen ... -h` for usage" hint
            ),
        ),
    ]
    return {s.name: s for s in sources}


CRD_SOURCES: tuple[CrdSource, ...] = tuple(crd_sources(PipelineVersions()).values())
"""The pipeline's CRD sources at the pinned versions."""


def generate_crds(api: CrdSource) -> Path:
    """Generate the API's CRDs unless the cache holds this exact recipe; return their dir."""
    logs = cache_dir() / "logs"
    tool = pipeline_programs(PipelineVersions())["controller-gen"]
    out = cache_dir() / "crds" / f"{api.name}-{api.version}-{api.recipe(tool.recipe())}"
    if out.is_dir() and any(out.glob("*.yaml")):
        return out
    controller_gen = build(tool, logs) / "controller-gen"
    log = logs / f"crd-{api.name}.log"
    work = cache_dir() / "crds" / "modules" / f"{api.name}-{api.version}"
    work.mkdir(parents=True, exist_ok=True)
    _prepare_module(api, work, log)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    try:
        command = [str(controller_gen), *api.arguments(staging)]
        try:
            run_logged(
                f"controller-gen CRDs for {api.name} {api.version}",
                command,
                log,
                env=GO_ENV,
                cwd=work,
            )
        except StepFailed:
            if not _only_tolerated_errors(api, log):
                raise
        if not any(staging.glob("*.yaml")):
            raise StepFailed(
                f"controller-gen CRDs for {api.name} {api.version}",
                command,
                0,
                f"no CRD files were written to {staging}\n    (full log: {log})",
            )
        staging.chmod(0o755)
        shutil.rmtree(out, ignore_errors=True)
        os.replace(staging, out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return out


def _prepare_module(api: CrdSource, work: Path, log: Path) -> None:
    """A wrapper module requiring the API module, with a tools file importing its packages."""
    prepare_wrapper_module(
        f"crd-{api.name}",
        api.module,
        api.version,
        api.packages,
        work,
        log,
        sibling_version=api.sibling_version,
    )


def _only_tolerated_errors(api: CrdSource, log: Path) -> bool:
    """True when the last controller-gen run printed only lines upstream ignores."""
    if not api.tolerated_errors:
        return False
    last_run = log.read_text(errors="replace").rsplit("\n$ ", 1)[-1].splitlines()[1:]
    return all(any(t in line for t in api.tolerated_errors) for line in last_run if line.strip())


class _CrdLoader(yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader):  # type: ignore[misc]
    """A safe loader (libyaml's when present: 1.5 MB of CRDs load in 1.6 s, not 20 s)
    that reads a plain ``=`` as the string it is (enums of label-match operators).

    PyYAML resolves a lone ``=`` to YAML 1.1's obsolete "value" tag and cannot construct
    it (https://github.com/yaml/pyyaml/issues/89); Go's YAML and the API server read "=".
    """


def _value_as_string(loader: yaml.SafeLoader, node: yaml.Node) -> str:
    return str(loader.construct_scalar(node))  # type: ignore[arg-type]


_CrdLoader.add_constructor("tag:yaml.org,2002:value", _value_as_string)


def load_crds(dirs: Iterable[Path]) -> list[dict[str, Any]]:
    """Every CustomResourceDefinition in the YAML files of these directories.

    Load them with this rather than ``yaml.safe_load_all``, which fails on the ``=``
    in the Prometheus Operator's CRDs.
    """
    crds: list[dict[str, Any]] = []
    for directory in dirs:
        for path in sorted(Path(directory).glob("*.yaml")):
            crds += copy.deepcopy(_load_file(str(path), path.stat().st_mtime_ns))
    return crds


@cache
def _load_file(path: str, mtime_ns: int) -> list[dict[str, Any]]:
    """One file's CRDs; generated files never change, the mtime guards against edits."""
    docs = yaml.load_all(Path(path).read_text(), Loader=_CrdLoader)
    return [d for d in docs if isinstance(d, dict) and d.get("kind") == "CustomResourceDefinition"]


def crd_schemas(dirs: Iterable[Path]) -> dict[GroupVersionKind, dict[str, Any]]:
    """The openAPIV3Schema of every served version of every CRD in these directories."""
    return schemas_of(load_crds(dirs))


def schemas_of(crds: Iterable[dict[str, Any]]) -> dict[GroupVersionKind, dict[str, Any]]:
    """The openAPIV3Schema of every served version of these CRD objects."""
    schemas: dict[GroupVersionKind, dict[str, Any]] = {}
    for crd in crds:
        spec = crd.get("spec") or {}
        group, kind = spec.get("group", ""), (spec.get("names") or {}).get("kind", "")
        shared = (spec.get("validation") or {}).get("openAPIV3Schema")
        for version in spec.get("versions") or []:
            if not version.get("served", False):
                continue
            schema = (version.get("schema") or {}).get("openAPIV3Schema") or shared
            if schema is not None:
                schemas[(group, version["name"], kind)] = schema
    return schemas
