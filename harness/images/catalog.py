"""What the offline builder makes: Go programs, and the images kind and kubeadm ask for.

Image references are the exact names and tags their consumers request (kubeadm's
control-plane images, the node's sandbox image, our CNI and storage manifests), so no
component ever tries to pull.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.images.gobuild import GoProgram
from harness.settings import PipelineVersions, Versions

__all__ = [
    "ContainerImage",
    "control_plane_images",
    "go_programs",
    "lab_images",
    "pipeline_programs",
]

UPSTREAM_NODE_IMAGE = (
    "kindest/node:v1.34.0@sha256:7416a61b42b1662ca6ca89f02028ac133a309a2a30ba309614e8ec94d976dc5a"
)
"""kind v0.30.0's default node image, used where a registry is reachable."""


def _kube_ldflags(v: Versions) -> tuple[str, ...]:
    flags = ["-s", "-w"]
    for pkg in ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version"):
        flags += [
            f"-X {pkg}.gitVersion={v.kubernetes}",
            f"-X {pkg}.gitMajor=1",
            f"-X {pkg}.gitMinor={v.kubernetes_minor}",
            f"-X {pkg}.gitTreeState=clean",
            f"-X {pkg}.gitCommit=0000000000000000000000000000000000000000",
            f"-X {pkg}.buildDate=2026-01-01T00:00:00Z",
        ]
    return tuple(flags)


KUBE_COMMANDS = (
    "kubeadm",
    "kubelet",
    "kubectl",
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "kube-proxy",
)

ETCD_SHIM = """// etcd's server module only exports etcdmain; this is its command.
package main

import (
\t"os"

\t"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
"""


def go_programs(v: Versions) -> dict[str, GoProgram]:
    """Every Go program the lab needs, by name."""
    programs = [
        GoProgram("runc-capstrip", "1", ("./",), outputs=("runc-capstrip",)),
        GoProgram("pause", v.pause, ("./",), outputs=("pause",)),
        GoProgram("kind", v.kind, ("sigs.k8s.io/kind",), module="sigs.k8s.io/kind", wrapper=True),
        GoProgram(
            "kubernetes",
            v.kubernetes,
            tuple(f"k8s.io/kubernetes/cmd/{c}" for c in KUBE_COMMANDS),
            module="k8s.io/kubernetes",
            wrapper=True,
            sibling_version=v.kubernetes_staging,
            tags=("selinux", "notest", "grpcnotrace"),
            ldflags=_kube_ldflags(v),
        ),
        GoProgram(
            "etcd",
            v.etcd,
            ("./",),
            module="go.etcd.io/etcd/server/v3",
            wrapper=True,
            sibling_version=v.etcd,
            shim=ETCD_SHIM,
            outputs=("etcd",),
        ),
        GoProgram(
            "coredns",
            v.coredns,
            ("github.com/coredns/coredns",),
            module="github.com/coredns/coredns",
            wrapper=True,
        ),
        GoProgram(
            "crictl",
            v.crictl,
            ("sigs.k8s.io/cri-tools/cmd/crictl",),
            module="sigs.k8s.io/cri-tools",
            wrapper=True,
        ),
        GoProgram(
            "kube-router",
            v.kube_router,
            ("github.com/cloudnativelabs/kube-router/v2/cmd/kube-router",),
            module="github.com/cloudnativelabs/kube-router/v2",
            wrapper=True,
        ),
        GoProgram(
            "local-path-provisioner",
            v.local_path_provisioner,
            ("github.com/rancher/local-path-provisioner",),
            module="github.com/rancher/local-path-provisioner",
            wrapper=True,
        ),
    ]
    return {p.name: p for p in programs}


@dataclass(frozen=True)
class ContainerImage:
    """An image made from one or more built binaries on scratch or the Debian base."""

    ref: str
    """The exact name:tag consumers ask for."""
    program: str
    """The GoProgram whose binaries it carries."""
    binaries: tuple[str, ...]
    """Which of the program's binaries, installed to /usr/local/bin."""
    on_debian: bool = False
    """Needs a userland (iptables, ipset, a shell) rather than scratch."""
    entrypoint: tuple[str, ...] = ()


def control_plane_images(v: Versions) -> list[ContainerImage]:
    """The images kubeadm's static pods, kube-proxy and CoreDNS ask for."""
    reg = "registry.k8s.io"
    kube = [
        ContainerImage(f"{reg}/{c}:{v.kubernetes}", "kubernetes", (c,))
        for c in ("kube-apiserver", "kube-controller-manager", "kube-scheduler")
    ]
    return [
        *kube,
        ContainerImage(
            f"{reg}/kube-proxy:{v.kubernetes}", "kubernetes", ("kube-proxy",), on_debian=True
        ),
        ContainerImage(f"{reg}/etcd:{v.etcd.lstrip('v')}-0", "etcd", ("etcd",)),
        ContainerImage(
            f"{reg}/coredns/coredns:{v.coredns}",
            "coredns",
            ("coredns",),
            entrypoint=("/usr/local/bin/coredns",),
        ),
        ContainerImage(
            f"{reg}/pause:{v.pause}", "pause", ("pause",), entrypoint=("/usr/local/bin/pause",)
        ),
    ]


def lab_images(v: Versions) -> list[ContainerImage]:
    """Every image preloaded into the offline node image."""
    return [
        *control_plane_images(v),
        ContainerImage(
            f"harness.local/kube-router:{v.kube_router}",
            "kube-router",
            ("kube-router",),
            on_debian=True,
            entrypoint=("/usr/local/bin/kube-router",),
        ),
        ContainerImage(
            f"harness.local/local-path-provisioner:{v.local_path_provisioner}",
            "local-path-provisioner",
            ("local-path-provisioner",),
            on_debian=True,
            entrypoint=("/usr/local/bin/local-path-provisioner",),
        ),
    ]


def pipeline_programs(p: PipelineVersions) -> dict[str, GoProgram]:
    """Every Go program the pipeline needs, by name (all from the Go module proxy)."""
    programs = [
        GoProgram(
            "spark-operator",
            p.spark_operator,
            ("github.com/kubeflow/spark-operator/v2/cmd/operator",),
            module="github.com/kubeflow/spark-operator/v2",
            wrapper=True,
            outputs=("spark-operator",),
        ),
        GoProgram(
            "prometheus-operator",
            p.prometheus_operator,
            (
                "github.com/prometheus-operator/prometheus-operator/cmd/operator",
                "github.com/prometheus-operator/prometheus-operator/cmd/prometheus-config-reloader",
            ),
            module="github.com/prometheus-operator/prometheus-operator",
            wrapper=True,
            sibling_version=p.prometheus_operator,
        ),
        GoProgram(
            "prometheus",
            p.prometheus,
            ("github.com/prometheus/prometheus/cmd/prometheus",),
            module="github.com/prometheus/prometheus",
            wrapper=True,
            tags=("netgo",),
        ),
        GoProgram(
            "alertmanager",
            p.alertmanager,
            ("github.com/prometheus/alertmanager/cmd/alertmanager",),
            module="github.com/prometheus/alertmanager",
            wrapper=True,
        ),
        GoProgram(
            "kube-state-metrics",
            p.kube_state_metrics,
            ("k8s.io/kube-state-metrics/v2",),
            module="k8s.io/kube-state-metrics/v2",
            wrapper=True,
            outputs=("kube-state-metrics",),
        ),
        GoProgram(
            "metrics-server",
            p.metrics_server,
            ("sigs.k8s.io/metrics-server/cmd/metrics-server",),
            module="sigs.k8s.io/metrics-server",
            wrapper=True,
        ),
        GoProgram(
            "vpa",
            p.vpa,
            tuple(
                f"k8s.io/autoscaler/vertical-pod-autoscaler/pkg/{c}"
                for c in ("recommender", "updater", "admission-controller")
            ),
            module="k8s.io/autoscaler/vertical-pod-autoscaler",
            wrapper=True,
        ),
        GoProgram(
            "versitygw",
            p.versitygw,
            ("github.com/versity/versitygw/cmd/versitygw",),
            module="github.com/versity/versitygw",
            wrapper=True,
        ),
        GoProgram(
            "controller-gen",
            p.controller_tools,
            ("sigs.k8s.io/controller-tools/cmd/controller-gen",),
            module="sigs.k8s.io/controller-tools",
            wrapper=True,
        ),
        GoProgram(
            "helm",
            p.helm,
            ("helm.sh/helm/v3/cmd/helm",),
            module="helm.sh/helm/v3",
            wrapper=True,
        ),
    ]
    return {prog.name: prog for prog in programs}
