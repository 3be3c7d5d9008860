"""Installing the Spark operator with Helm from its chart repository, when it is reachable.

The same values file as the offline render (04-spark-operator-helm-values.yaml), the same
image override, and ``--skip-crds``: the CRDs are ours, generated with controller-gen.
"""

from __future__ import annotations

import urllib.request
from pathlib import Path

from harness.deploy.operator_chart import NAMESPACE
from harness.images.catalog import pipeline_programs
from harness.images.gobuild import build
from harness.settings import LabSettings, PipelineVersions, cache_dir
from harness.steps import run_logged

__all__ = ["chart_repo_reachable", "helm_install_operator"]


def chart_repo_reachable(p: PipelineVersions, timeout: float = 5.0) -> bool:
    """True when the chart repository's index answers."""
    try:
        with urllib.request.urlopen(f"{p.operator_chart_repo}/index.yaml", timeout=timeout):
            return True
    except OSError:
        return False


def helm_install_operator(
    settings: LabSettings, values: Path, image: str, p: PipelineVersions
) -> None:
    """helm upgrade --install the operator chart with our values and image."""
    helm = build(pipeline_programs(p)["helm"], cache_dir() / "logs") / "helm"
    registry, _, rest = image.partition("/")
    repository, _, tag = rest.rpartition(":")
    run_logged(
        "helm upgrade --install spark-operator",
        [
            str(helm),
            "upgrade",
            "--install",
            "spark-operator",
            "spark-operator",
            "--repo",
            p.operator_chart_repo,
            "--version",
            p.operator_chart,
            "--namespace",
            NAMESPACE,
            "--kubeconfig",
            str(settings.kubeconfig),
            "--kube-context",
            settings.context,
            "--skip-crds",
            "--values",
            str(values),
            "--set",
            f"image.registry={registry}",
            "--set",
            f"image.repository={repository}",
            "--set",
            f"image.tag={tag}",
            "--wait",
            "--timeout",
            "5m",
        ],
        cache_dir() / "logs" / "helm-spark-operator.log",
    )
