"""Settings in one place: versions, paths and lab timings, each with its reason."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["PROJECT_ROOT", "LabSettings", "PipelineVersions", "Versions", "cache_dir"]

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def cache_dir() -> Path:
    """Where builds and cluster state live: outside the clone, so a new clone reuses them."""
    configured = os.environ.get("HARNESS_CACHE_DIR")
    base = Path(configured) if configured else Path.home() / ".cache" / "spark-chaos-harness"
    base.mkdir(parents=True, exist_ok=True)
    return base


@dataclass(frozen=True)
class Versions:
    """Pinned versions of everything the offline builder compiles or installs."""

    kubernetes: str = "v1.34.4"
    """Newest v1.34 patch on the Go module proxy; v1.35+ kubelets refuse cgroup v1 hosts."""
    kind: str = "v0.30.0"
    """The kind release whose default node image is Kubernetes v1.34."""
    etcd: str = "v3.6.5"
    """kubeadm v1.34's DefaultEtcdVersion (image tag 3.6.5-0)."""
    coredns: str = "v1.12.1"
    """kubeadm v1.34's CoreDNSVersion."""
    pause: str = "3.10.1"
    """kubeadm v1.34's PauseVersion; the program itself is our own."""
    crictl: str = "v1.34.0"
    """cri-tools release matching the Kubernetes minor."""
    kube_router: str = "v2.1.0"
    """The only kube-router release the Go module proxy serves; CNI with NetworkPolicy."""
    local_path_provisioner: str = "v0.0.30"
    """Newest local-path-provisioner on the Go module proxy; the lab's default StorageClass."""
    debian: str = "bookworm"
    """Debian 12: containerd 1.6.20, runc 1.1.5, CNI plugins, iptables 1.8.9 (nft)."""

    @property
    def kubernetes_minor(self) -> str:
        """The minor number, '34' for v1.34.4."""
        return self.kubernetes.split(".")[1]

    @property
    def kubernetes_staging(self) -> str:
        """The staging modules' version, v0.34.4 for v1.34.4."""
        return "v0." + self.kubernetes.split(".", 1)[1]


@dataclass(frozen=True)
class PipelineVersions:
    """Pinned pipeline component versions (checked in docs/pipeline-components-verified.md)."""

    spark: str = "4.2.0"
    """Newest Spark whose Kafka connector Maven Central serves; pyspark 4.2.0 carries its jars."""
    kafka_clients: str = "3.9.2"
    """What spark-sql-kafka 4.2.0's pom pins; it speaks to a 4.x broker over the wire."""
    commons_pool2: str = "2.13.1"
    """The Kafka connector's pool; pyspark only ships commons-pool 1."""
    kafka: str = "4.4.0"
    """The broker (KRaft, no ZooKeeper), kafka_2.13 from Maven Central."""
    spark_operator: str = "v2.5.2"
    """Kubeflow Spark Operator v2, github.com/kubeflow/spark-operator/v2."""
    prometheus_operator: str = "v0.93.0"
    prometheus: str = "v0.314.0"
    """The Go module tag of Prometheus 3.14.0."""
    alertmanager: str = "v0.31.1"
    kube_state_metrics: str = "v2.20.0"
    metrics_server: str = "v0.8.0"
    vpa: str = "v1.7.1"
    """Vertical Pod Autoscaler (recommender, updater, admission controller)."""
    versitygw: str = "v1.7.0"
    """Versity S3 gateway: an S3-compatible object store over a POSIX directory."""
    controller_tools: str = "v0.21.0"
    """controller-gen, which generates our CRDs from the upstream Go API types."""
    helm: str = "v3.22.0"
    """Installs the operator's chart where its chart repository is reachable."""
    operator_chart: str = "2.5.2"
    operator_chart_repo: str = "https://kubeflow.github.io/spark-operator"
    franz_go: str = "v1.22.3"
    """Kafka client of our own Go tools (producer, topic reader)."""
    minio_go: str = "v7.4.1"
    """S3 client of our own backup and restore tool."""

    @property
    def prometheus_app(self) -> str:
        """Prometheus' own version for a module tag: v0.314.0 is 3.14.0."""
        minor = self.prometheus.split(".")[1]
        return f"v{minor[0]}.{int(minor[1:])}.{self.prometheus.split('.')[2]}"


@dataclass(frozen=True)
class LabSettings:
    """The lab cluster: its name, where its files live, and how long to wait for it."""

    cluster_name: str = "spark-chaos"
    """kind cluster name; node containers are <name>-control-plane, -worker, -worker2."""
    kind_config: Path = PROJECT_ROOT / "manifests" / "kind-cluster.yaml"
    """The kind Cluster config, with the fast node-failure controller settings."""
    image_source: str = field(default_factory=lambda: os.environ.get("HARNESS_IMAGES", "auto"))
    """'offline' builds every image here, 'upstream' pulls them, 'auto' picks by reachability."""
    nodes_ready_timeout: float = 300.0
    """Cold kubeadm init + two joins + CNI on two cores takes about two minutes."""
    debian_mirror: str = field(default_factory=lambda: os.environ.get("HARNESS_DEBIAN_MIRROR", ""))
    """A Debian mirror for debootstrap; empty: the one apt's sources name (harness.aptsources)."""

    @property
    def state_dir(self) -> Path:
        """Per-cluster state (kubeconfig, logs) under the cache, outside the clone."""
        path = cache_dir() / "clusters" / self.cluster_name
        path.mkdir(parents=True, exist_ok=True)
        return path

    kubeconfig_override: Path | None = None
    """A kubeconfig of a cluster the harness did not create (pytest --kubeconfig)."""
    context_override: str | None = None
    """A context named explicitly by the user (pytest --kube-context)."""

    @property
    def kubeconfig(self) -> Path:
        """The kubeconfig the harness writes for its own cluster (never ~/.kube/config)."""
        return self.kubeconfig_override or self.state_dir / "kubeconfig"

    @property
    def context(self) -> str:
        """The kube context kind names after the cluster, unless one was named."""
        return self.context_override or f"kind-{self.cluster_name}"

    @property
    def own_cluster(self) -> bool:
        """True when the target is the kind cluster the harness itself creates."""
        return self.kubeconfig_override is None and self.context == f"kind-{self.cluster_name}"
