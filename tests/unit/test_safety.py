"""Faults go only to the harness's own cluster or to a context named explicitly."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.safety import UnsafeTarget, check_fault_target
from harness.settings import LabSettings


def test_own_cluster_is_allowed() -> None:
    check_fault_target(LabSettings(), None)


def test_foreign_kubeconfig_is_refused_unless_its_context_is_named() -> None:
    foreign = LabSettings(kubeconfig_override=Path("/tmp/prod.kubeconfig"), context_override="prod")
    with pytest.raises(UnsafeTarget, match="--kube-context prod"):
        check_fault_target(foreign, None)
    with pytest.raises(UnsafeTarget):
        check_fault_target(foreign, "staging")
    check_fault_target(foreign, "prod")
