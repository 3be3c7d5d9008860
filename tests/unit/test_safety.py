"""Faults and cluster-scoped writes go only to the harness's own cluster or a named context.

Every path that strikes or writes cluster-wide is refused here without a cluster: the
check itself, the deployment (pipeline_up), the lab_faults scope and the plugin's hooks.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from harness.chaos.rollback import Rollbacks
from harness.deploy import pipeline as deploy
from harness.errors import CleanupFailed
from harness.fixtures.faults import (
    fault_scope,
    mark_striking,
    pytest_runtest_setup,
    require_fault_target,
    strikes,
)
from harness.safety import UnsafeTarget, check_fault_target
from harness.settings import LabSettings

FOREIGN = LabSettings(kubeconfig_override=Path("/tmp/prod.kubeconfig"), context_override="prod")
ELSEWHERE = LabSettings(kubeconfig_override=Path("/tmp/prod.kubeconfig"))
"""--kubeconfig without --kube-context: the context is still the harness's default name."""


def test_own_cluster_is_allowed() -> None:
    check_fault_target(LabSettings(), None)


def test_foreign_kubeconfig_is_refused_unless_its_context_is_named() -> None:
    with pytest.raises(UnsafeTarget, match="--kube-context prod"):
        check_fault_target(FOREIGN, None)
    with pytest.raises(UnsafeTarget):
        check_fault_target(FOREIGN, "staging")
    check_fault_target(FOREIGN, "prod")


def test_the_refusal_names_the_kubeconfig_and_its_contexts(tmp_path: Path) -> None:
    kubeconfig = tmp_path / "prod.kubeconfig"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: prod\n"
        "contexts:\n- name: prod\n  context: {cluster: prod}\n"
        "- name: staging\n  context: {cluster: staging}\n"
    )
    settings = LabSettings(kubeconfig_override=kubeconfig)
    with pytest.raises(UnsafeTarget) as refused:
        check_fault_target(settings, None)
    message = str(refused.value)
    assert f"context 'kind-spark-chaos' of {kubeconfig}" in message
    assert "--kube-context kind-spark-chaos" in message
    assert "Its contexts: prod, staging (current-context: prod)" in message


def _no_cluster_step(name: str) -> Any:
    def step(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"{name} ran before the safety check")

    return step


def test_pipeline_up_refuses_a_foreign_cluster_before_building_or_applying(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("_images", "node_containers", "load_images", "apply", "_wait_layer"):
        monkeypatch.setattr(deploy, name, _no_cluster_step(name))
    for settings, named in ((ELSEWHERE, None), (FOREIGN, None), (FOREIGN, "staging")):
        with pytest.raises(UnsafeTarget, match="cluster-scoped objects") as refused:
            deploy.pipeline_up(settings, object(), named)
        assert str(settings.kubeconfig) in str(refused.value)
        assert f"--kube-context {settings.context}" in str(refused.value)


def test_pipeline_up_goes_ahead_on_a_named_context(monkeypatch: pytest.MonkeyPatch) -> None:
    class Reached(Exception):
        pass

    def images(*args: object) -> None:
        raise Reached

    monkeypatch.setattr(deploy, "_images", images)
    with pytest.raises(Reached):
        deploy.pipeline_up(FOREIGN, object(), "prod")


def test_fault_scope_refuses_before_handing_out_a_scope() -> None:
    entered = []
    with pytest.raises(UnsafeTarget), fault_scope(ELSEWHERE, None, object()) as scope:
        entered.append(scope)
    assert entered == []


def test_fault_scope_rolls_back_then_fails_on_leftovers() -> None:
    ran: list[str] = []

    def strike() -> None:
        with fault_scope(LabSettings(), None, object(), settle=0.0) as scope:
            assert isinstance(scope.rollbacks, Rollbacks)
            scope.rollbacks.register(
                "uncordon w1", lambda: ran.append("uncordon"), leftover=lambda: ["node w1 cordoned"]
            )

    with pytest.raises(CleanupFailed, match="node w1 cordoned"):
        strike()
    assert ran == ["uncordon"]


class _Config:
    """The options harness.fixtures.cluster.settings_from_options reads."""

    def __init__(self, **options: str | None) -> None:
        self.options = {"--cluster-name": None, "--images": None, "--kubeconfig": None}
        self.options["--kube-context"] = None
        self.options.update({f"--{k.replace('_', '-')}": v for k, v in options.items()})

    def getoption(self, name: str) -> str | None:
        return self.options[name]


class _Item:
    """What the plugin's hooks read of a collected test."""

    def __init__(self, markers: set[str], fixturenames: tuple[str, ...], config: _Config) -> None:
        self.markers, self.fixturenames, self.config = set(markers), fixturenames, config

    def get_closest_marker(self, name: str) -> object | None:
        return name if name in self.markers else None

    def add_marker(self, marker: pytest.MarkDecorator) -> None:
        self.markers.add(marker.name)


def test_require_fault_target_reads_the_session_options() -> None:
    require_fault_target(_Config())
    with pytest.raises(UnsafeTarget, match=r"/tmp/prod\.kubeconfig"):
        require_fault_target(_Config(kubeconfig="/tmp/prod.kubeconfig"))
    require_fault_target(_Config(kubeconfig="/tmp/prod.kubeconfig", kube_context="prod"))


@pytest.mark.parametrize(
    ("markers", "fixtures", "striking"),
    [
        ({"lab"}, ("lab", "namespace"), False),
        ({"lab"}, ("lab", "lab_faults"), True),
        ({"lab", "pipeline"}, ("chaos",), True),
        ({"mechanism"}, ("pipeline",), True),
        ({"disruptive"}, (), True),
    ],
    ids=["steady_state", "lab_faults_user", "chaos_user", "mechanism", "marked"],
)
def test_every_striking_test_is_marked_disruptive(
    markers: set[str], fixtures: tuple[str, ...], striking: bool
) -> None:
    item = _Item(markers, fixtures, _Config())
    assert strikes(item) is striking
    mark_striking(item)
    assert ("disruptive" in item.markers) is striking


def test_a_striking_test_on_a_foreign_cluster_fails_before_its_fixtures() -> None:
    foreign = _Config(kubeconfig="/tmp/prod.kubeconfig")
    with pytest.raises(pytest.fail.Exception, match="refusing to inject faults"):
        pytest_runtest_setup(_Item({"disruptive"}, (), foreign))
    pytest_runtest_setup(_Item({"lab"}, ("lab",), foreign))
    named = _Config(kubeconfig="/tmp/prod.kubeconfig", kube_context="prod")
    pytest_runtest_setup(_Item({"disruptive"}, (), named))
