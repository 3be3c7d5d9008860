"""The node-failure bound is arithmetic over the settings in the kind config."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.cluster.timing import POD_START_MARGIN, NodeFailureTiming, parse_duration, parse_flags
from harness.errors import InvalidInput
from harness.settings import LabSettings


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("20s", 20), ("2s", 2), ("1m30s", 90), ("300", 300), ("0.5s", 0.5), ("5m", 300)],
)
def test_parse_duration(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "s", "20h", "abc", "1m2m"])
def test_parse_duration_rejects(text):
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)


@given(st.integers(0, 59), st.integers(0, 59))
def test_minutes_and_seconds_add_up(minutes, seconds):
    assert parse_duration(f"{minutes}m{seconds}s") == minutes * 60 + seconds


def test_the_lab_config_gives_a_one_minute_class_bound():
    timing = NodeFailureTiming.from_kind_config(LabSettings().kind_config)
    assert (timing.grace, timing.monitor_period, timing.toleration) == (20, 2, 20)
    assert timing.not_ready_bound == 22
    assert timing.reschedule_bound == 42 + POD_START_MARGIN
    assert "= 72s" in timing.explain()


def test_missing_settings_fall_back_to_kubernetes_defaults(tmp_path):
    path = tmp_path / "kind.yaml"
    path.write_text("kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\n")
    timing = NodeFailureTiming.from_kind_config(path)
    assert (timing.grace, timing.toleration) == (50, 300)


def test_bad_duration_names_file_and_field(tmp_path):
    path = tmp_path / "kind.yaml"
    path.write_text(
        "kind: Cluster\nkubeadmConfigPatches:\n- |\n  kind: ClusterConfiguration\n"
        "  controllerManager:\n    extraArgs:\n      node-monitor-grace-period: soon\n"
    )
    with pytest.raises(InvalidInput) as err:
        NodeFailureTiming.from_kind_config(path)
    assert str(path) in str(err.value)
    assert "node-monitor-grace-period" in str(err.value)


def test_flags_as_the_components_run_with_them() -> None:
    command = [
        "kube-controller-manager",
        "--node-monitor-grace-period=20s",
        "--node-monitor-period",
        "2s",
        "--leader-elect=true",
    ]
    flags = parse_flags(command)
    assert flags["node-monitor-period"] == "2s"
    timing = NodeFailureTiming.from_flags(flags, "kube-controller-manager flags (live)")
    assert (timing.grace, timing.monitor_period, timing.toleration) == (20.0, 2.0, 300.0)
    assert timing.source.startswith("kube-controller-manager flags (live)")
    assert "defaults for default-not-ready-toleration-seconds" in timing.source
    assert NodeFailureTiming.from_flags({}, "x").source == "Kubernetes v1.34 defaults"
