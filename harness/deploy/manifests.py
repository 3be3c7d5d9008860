"""The pipeline's manifests: loading, placeholder filling and the order they go in.

The ten design manifests are applied in dependency order, not file order: priority
classes (06) exist before the pods that name them (05); Services and policies (07)
before the broker advertises its Service name; the operator (04) and monitoring (08)
before the application (05) is submitted.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from harness.errors import InvalidInput
from harness.settings import PROJECT_ROOT
from harness.templates import fill_placeholders

__all__ = [
    "MANIFESTS",
    "PIPELINE_FILES",
    "PLATFORM_FILES",
    "Layer",
    "layers",
    "load_documents",
]

MANIFESTS = PROJECT_ROOT / "manifests"
PIPELINE_FILES = (
    "01-namespace.yaml",
    "02-rbac.yaml",
    "03-storage.yaml",
    "04-spark-operator-helm-values.yaml",
    "05-spark-application.yaml",
    "06-autoscaling.yaml",
    "07-networking.yaml",
    "08-monitoring.yaml",
    "09-security.yaml",
    "10-disaster-recovery.yaml",
)
PLATFORM_FILES = (
    "platform/metrics-server.yaml",
    "platform/prometheus-operator.yaml",
    "platform/kube-state-metrics.yaml",
    "platform/vpa.yaml",
)

Document = dict[str, Any]


@dataclass(frozen=True)
class Layer:
    """Files applied together, then waited on before the next layer starts."""

    name: str
    files: tuple[str, ...]


def layers() -> list[Layer]:
    """Dependency order of the whole deployment (CRDs come before all of these)."""
    return [
        Layer(
            "namespaces, RBAC, storage", ("01-namespace.yaml", "02-rbac.yaml", "03-storage.yaml")
        ),
        Layer("priorities, budgets, autoscalers", ("06-autoscaling.yaml",)),
        Layer("services and network policies", ("07-networking.yaml",)),
        Layer("security policies", ("09-security.yaml",)),
        Layer(
            "platform (metrics-server, Prometheus Operator, kube-state-metrics, VPA)",
            PLATFORM_FILES,
        ),
        Layer("Spark operator", ("04-spark-operator-helm-values.yaml",)),
        Layer("monitoring (Prometheus, Alertmanager, monitors, rules)", ("08-monitoring.yaml",)),
        Layer("object store and backups", ("10-disaster-recovery.yaml",)),
        Layer(
            "streaming application (Kafka, topic, ingest, SparkApplication)",
            ("05-spark-application.yaml",),
        ),
    ]


def load_documents(name: str, values: dict[str, str], root: Path = MANIFESTS) -> list[Document]:
    """Parse one manifest file with its @placeholders@ filled; errors name the file."""
    path = root / name
    try:
        text = fill_placeholders(path.read_text(), values, str(path))
    except FileNotFoundError as exc:
        raise InvalidInput(str(path), "(file)", "an existing manifest", "missing") from exc
    try:
        docs = [d for d in yaml.safe_load_all(text) if d is not None]
    except yaml.YAMLError as exc:
        raise InvalidInput(str(path), "(YAML)", "valid YAML", str(exc).splitlines()[0]) from exc
    for index, doc in enumerate(docs):
        if not isinstance(doc, dict):
            raise InvalidInput(str(path), f"document {index}", "a mapping", type(doc).__name__)
        if name.startswith("04-"):
            continue  # Helm values, not Kubernetes objects
        for field in ("apiVersion", "kind", "metadata"):
            if field not in doc:
                raise InvalidInput(str(path), f"document {index}.{field}", "present", "missing")
    return docs
