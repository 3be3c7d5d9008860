"""The harness injects faults, and writes cluster-scoped objects, only where it may.

Allowed: the kind cluster it created itself (its own kubeconfig, context
``kind-<cluster name>``), or a context the user named explicitly. Anything else, for
example the current context of some kubeconfig, is refused before any fault, and before
any cluster-scoped write (CRDs, ClusterRoles, admission policies, PriorityClasses): those
change the cluster for everyone on it, not just for the harness's namespaces.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from harness.errors import HarnessError
from harness.settings import LabSettings

__all__ = ["CLUSTER_SCOPED_WRITES", "FAULTS", "UnsafeTarget", "check_fault_target"]

FAULTS = "inject faults into"
CLUSTER_SCOPED_WRITES = (
    "apply cluster-scoped objects (CRDs, ClusterRoles, admission policies, PriorityClasses) to"
)


class UnsafeTarget(HarnessError):
    """Refusing to strike, or change cluster-wide, a cluster the harness did not create."""


def check_fault_target(
    settings: LabSettings, named_context: str | None, action: str = FAULTS
) -> None:
    """Raise UnsafeTarget unless ``action`` may go to settings' cluster.

    The message names the context and kubeconfig refused and the option that allows them.
    """
    if settings.own_cluster:
        return
    if named_context and named_context == settings.context:
        return
    named = f" (--kube-context named {named_context!r})" if named_context else ""
    raise UnsafeTarget(
        f"refusing to {action} context {settings.context!r} of {settings.kubeconfig}"
        f"{named}: the harness did not create it. Name it explicitly with "
        f"--kube-context {settings.context} if you mean it.{_contexts(settings.kubeconfig)}"
    )


def _contexts(kubeconfig: Path) -> str:
    """The kubeconfig's contexts, so the message shows what --kube-context can name."""
    try:
        doc = yaml.safe_load(kubeconfig.read_text())
        names = sorted(str(c["name"]) for c in doc.get("contexts") or [])
        current = doc.get("current-context")
    except (OSError, yaml.YAMLError, AttributeError, KeyError, TypeError):
        return ""
    if not names:
        return ""
    return f" Its contexts: {', '.join(names)} (current-context: {current})."
