"""Recovery bounds derived from the controller settings: as the cluster runs them, or as
the kind config declares them.

The bound for "a stopped node's pods run elsewhere" is arithmetic over the settings
that drive it, so changing manifests/kind-cluster.yaml changes the bound with it. The
mechanisms read them live (``node_failure_timing``: the flags of the control plane's
static pods), so a cluster the harness did not create is held to its own settings; the
kind config is what the lab tests read before a cluster exists.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from kubernetes import client

from harness.errors import InvalidInput

__all__ = ["NodeFailureTiming", "kubelet_volume_stats_period", "parse_duration", "parse_flags"]

_DURATION = re.compile(r"^(?:(\d+)m)?(?:(\d+(?:\.\d+)?)s)?$")
# Kubernetes' own defaults for v1.34, used when the kind config leaves a setting out.
_DEFAULTS = {
    "node-monitor-grace-period": 50.0,
    "node-monitor-period": 5.0,
    "default-not-ready-toleration-seconds": 300.0,
    "default-unreachable-toleration-seconds": 300.0,
}
POD_START_MARGIN = 30.0
"""Scheduling, sandbox and container start of a small pod on a busy two-core machine."""


def parse_duration(text: str) -> float:
    """Seconds in a Go duration such as '20s', '1m30s' or a bare number of seconds."""
    text = str(text).strip()
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return float(text)
    match = _DURATION.match(text)
    if not text or not match or not any(match.groups()):
        raise ValueError(f"not a duration: {text!r}")
    minutes, seconds = match.groups()
    return float(minutes or 0) * 60 + float(seconds or 0)


def parse_flags(command: list[str]) -> dict[str, str]:
    """``--name=value`` (and ``--name value``) flags of a command line, by name."""
    flags: dict[str, str] = {}
    words = list(command)
    for i, word in enumerate(words):
        if not word.startswith("--"):
            continue
        name, eq, value = word[2:].partition("=")
        if not eq and i + 1 < len(words) and not words[i + 1].startswith("-"):
            value = words[i + 1]
        flags[name] = value
    return flags


VOLUME_STATS_DEFAULT = 60.0
"""The kubelet's volumeStatsAggPeriod default (1m)."""


def _kind_config(path: Path) -> dict[str, Any]:
    try:
        doc = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise InvalidInput(
            str(path), "(file)", "a readable YAML kind Cluster config", str(exc)
        ) from exc
    if not isinstance(doc, dict):
        raise InvalidInput(str(path), "(top)", "a kind Cluster mapping", type(doc).__name__)
    return doc


def _patches(path: Path, kind: str) -> list[dict[str, Any]]:
    """The kubeadmConfigPatches of one kind (ClusterConfiguration, KubeletConfiguration)."""
    found = []
    for i, patch_text in enumerate(_kind_config(path).get("kubeadmConfigPatches") or []):
        patch = yaml.safe_load(patch_text)
        if not isinstance(patch, dict):
            raise InvalidInput(str(path), f"kubeadmConfigPatches[{i}]", "a YAML mapping")
        if patch.get("kind") == kind:
            found.append(patch)
    return found


def kubelet_volume_stats_period(path: Path) -> float:
    """How often the kubelet refreshes volume usage (KubeletConfiguration volumeStatsAggPeriod)."""
    for patch in _patches(path, "KubeletConfiguration"):
        if "volumeStatsAggPeriod" in patch:
            try:
                return parse_duration(str(patch["volumeStatsAggPeriod"]))
            except ValueError as exc:
                raise InvalidInput(
                    str(path),
                    "volumeStatsAggPeriod",
                    "a duration like 10s",
                    patch["volumeStatsAggPeriod"],
                ) from exc
    return VOLUME_STATS_DEFAULT


@dataclass(frozen=True)
class NodeFailureTiming:
    """The settings that decide how fast pods leave a failed node."""

    grace: float
    monitor_period: float
    toleration: float
    source: str = "Kubernetes v1.34 defaults"
    """Where the settings were read: a kind config, the live components' flags, or the
    defaults (for each flag neither sets)."""

    @classmethod
    def from_kind_config(cls, path: Path) -> NodeFailureTiming:
        """Read the controller-manager and API server flags from the kind Cluster config."""
        args: dict[str, str] = {}
        for patch in _patches(path, "ClusterConfiguration"):
            for component in ("controllerManager", "apiServer"):
                extra = (patch.get(component) or {}).get("extraArgs") or {}
                args.update({str(k): str(v) for k, v in extra.items()})
        return cls._of(args, str(path), f"kind config {path.name}")

    @classmethod
    def from_flags(cls, flags: dict[str, str], source: str) -> NodeFailureTiming:
        """From command-line flags (``name`` → value) as the components run with them."""
        return cls._of(flags, source, source)

    @classmethod
    def _of(cls, args: dict[str, str], where: str, source: str) -> NodeFailureTiming:
        def value(key: str) -> float:
            if key not in args:
                return _DEFAULTS[key]
            try:
                return parse_duration(args[key])
            except ValueError as exc:
                raise InvalidInput(where, key, "a duration like 20s", args[key]) from exc

        known = sorted(k for k in _DEFAULTS if k in args)
        defaults = sorted(k for k in _DEFAULTS if k not in args)
        said = source if known else "Kubernetes v1.34 defaults"
        if known and defaults:
            said += f"; defaults for {', '.join(defaults)}"
        return cls(
            grace=value("node-monitor-grace-period"),
            monitor_period=value("node-monitor-period"),
            toleration=max(
                value("default-not-ready-toleration-seconds"),
                value("default-unreachable-toleration-seconds"),
            ),
            source=said,
        )

    @property
    def not_ready_bound(self) -> float:
        """Seconds until a silent node is NotReady: grace + one monitor period."""
        return self.grace + self.monitor_period

    @property
    def reschedule_bound(self) -> float:
        """Seconds until its pods run elsewhere: NotReady + toleration + pod start."""
        return self.not_ready_bound + self.toleration + POD_START_MARGIN

    def explain(self) -> str:
        """The arithmetic, for messages and reports."""
        return (
            f"grace {self.grace:.0f}s + monitor period {self.monitor_period:.0f}s"
            f" + toleration {self.toleration:.0f}s + pod start {POD_START_MARGIN:.0f}s"
            f" = {self.reschedule_bound:.0f}s"
        )


FLAG_COMPONENTS = ("kube-controller-manager", "kube-apiserver")
"""The components whose flags decide a node failure's timing (kubeadm static pods)."""


def node_failure_timing(api: client.ApiClient) -> NodeFailureTiming:
    """The timing as the cluster really runs: the flags of its kube-controller-manager and
    kube-apiserver pods (kubeadm and kind run them as static pods in kube-system, labelled
    ``component``). A control plane the cluster does not show (a managed one) gives the
    documented defaults, and the source says so."""
    core = client.CoreV1Api(api)
    flags: dict[str, str] = {}
    read = []
    for component in FLAG_COMPONENTS:
        try:
            pods = core.list_namespaced_pod(
                "kube-system", label_selector=f"component={component}"
            ).items
        except client.ApiException:
            pods = []
        if not pods:
            continue
        container = pods[0].spec.containers[0]
        flags.update(parse_flags([*(container.command or []), *(container.args or [])]))
        read.append(component)
    if not read:
        return dataclasses.replace(
            NodeFailureTiming.from_flags({}, ""),
            source="Kubernetes v1.34 defaults: no kube-controller-manager or kube-apiserver"
            " pod is visible (a managed control plane?); set the bounds' flags explicitly",
        )
    return NodeFailureTiming.from_flags(flags, f"{' and '.join(read)} flags (live)")
