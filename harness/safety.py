"""The harness injects faults only where it is allowed to.

Allowed: the kind cluster it created itself (its own kubeconfig, context
``kind-<cluster name>``), or a context the user named explicitly. Anything else, for
example the current context of some kubeconfig, is refused before any fault.
"""

from __future__ import annotations

from harness.errors import HarnessError
from harness.settings import LabSettings

__all__ = ["UnsafeTarget", "check_fault_target"]


class UnsafeTarget(HarnessError):
    """Refusing to inject faults into a cluster the harness did not create."""


def check_fault_target(settings: LabSettings, named_context: str | None) -> None:
    """Raise UnsafeTarget unless faults may go to settings' cluster."""
    if settings.own_cluster:
        return
    if named_context and named_context == settings.context:
        return
    raise UnsafeTarget(
        f"refusing to inject faults into context {settings.context!r} of "
        f"{settings.kubeconfig}: the harness did not create it. Name it explicitly with "
        f"--kube-context {settings.context} if you mean it."
    )
