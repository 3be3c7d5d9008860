"""hpa_scale without a cluster: the HPA's timing read from flags, utilization as the HPA
computes it, which CPU samples it counts, the bounds, the burner, and the verdict's
decisions, on objects recorded from the lab (2026-12-03)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from harness.chaos.burn import BURN_MARK, burner_script, live_pids
from harness.invariants import declared_documents
from harness.mechanisms.hpa_scale import (
    HpaScale,
    scale_down_terms,
    scale_up_terms,
    served_problems,
    stayed_evidence,
)
from harness.mechanisms.model import Bound
from harness.observe.autoscaling import (
    HpaTiming,
    ScaleView,
    Utilization,
    controller_timing,
    epoch,
    metric_resolution,
    policy_steps,
    sample_counts,
    sample_window,
    utilization,
)

# kube-controller-manager's command line in the lab (kind v1.34): no HPA flag is set.
CONTROLLER = [
    "kube-controller-manager",
    "--allocate-node-cidrs=true",
    "--cluster-name=spark-chaos",
    "--controllers=*,bootstrapsigner,tokencleaner",
    "--leader-elect=true",
    "--node-monitor-grace-period=20s",
    "--node-monitor-period=2s",
]
METRICS_SERVER = [
    "--cert-dir=/tmp",
    "--secure-port=10250",
    "--kubelet-insecure-tls",
    "--metric-resolution=15s",
]
POD = {
    "metadata": {"name": "ingest-5cdb6d6bdb-9jn4x", "uid": "251e2d75"},
    "spec": {
        "containers": [
            {
                "name": "ingest",
                "resources": {
                    "limits": {"cpu": "200m", "memory": "128Mi"},
                    "requests": {"cpu": "50m", "memory": "32Mi"},
                },
            }
        ]
    },
    "status": {
        "phase": "Running",
        "startTime": "2026-12-03T06:17:33Z",
        "conditions": [
            {"lastTransitionTime": "2026-12-03T06:17:33Z", "status": "True", "type": "Initialized"},
            {"lastTransitionTime": "2026-12-03T06:17:42Z", "status": "True", "type": "Ready"},
        ],
        "containerStatuses": [{"restartCount": 0}],
    },
}
SAMPLE = {
    "metadata": {"name": "ingest-5cdb6d6bdb-9jn4x", "namespace": "spark-pipeline"},
    "timestamp": "2026-12-03T06:17:54Z",
    "window": "10.749s",
    "containers": [{"name": "ingest", "usage": {"cpu": "14258838n", "memory": "4272Ki"}}],
}
HPA_STATUS = {
    "conditions": [
        {"reason": "SucceededGetScale", "status": "True", "type": "AbleToScale"},
        {"reason": "ValidMetricFound", "status": "True", "type": "ScalingActive"},
    ],
    "currentMetrics": [
        {
            "type": "Resource",
            "resource": {
                "name": "cpu",
                "current": {"averageUtilization": 401, "averageValue": "200m"},
            },
        }
    ],
    "currentReplicas": 2,
    "desiredReplicas": 4,
}


def _pod(name: str, **status: Any) -> dict[str, Any]:
    pod = copy.deepcopy(POD)
    pod["metadata"] = {"name": name, "uid": f"uid-{name}"}
    pod["status"].update(status)
    return pod


def _sample(name: str, cpu: str, at: str = "2026-12-03T06:17:54Z") -> dict[str, Any]:
    sample = copy.deepcopy(SAMPLE)
    sample["metadata"]["name"] = name
    sample["timestamp"] = at
    sample["containers"][0]["usage"]["cpu"] = cpu
    return sample


def _declared_hpa() -> dict[str, Any]:
    return next(
        d
        for d in declared_documents("06-autoscaling.yaml")
        if d["kind"] == "HorizontalPodAutoscaler"
    )


def test_the_lab_sets_no_hpa_flag_so_the_defaults_hold() -> None:
    timing = controller_timing(CONTROLLER)
    assert (timing.sync, timing.tolerance, timing.cpu_initialization) == (15.0, 0.1, 300.0)
    assert "none set" in timing.source


def test_hpa_flags_are_read_in_either_spelling() -> None:
    timing = controller_timing(
        [
            "--horizontal-pod-autoscaler-sync-period=5s",
            "--horizontal-pod-autoscaler-tolerance",
            "0.05",
            "--horizontal-pod-autoscaler-cpu-initialization-period=1m0s",
        ]
    )
    assert (timing.sync, timing.tolerance, timing.cpu_initialization) == (5.0, 0.05, 60.0)
    assert timing.readiness_delay == 30.0


def test_metric_resolution_is_the_flag_or_metrics_servers_default() -> None:
    assert metric_resolution(METRICS_SERVER) == 15.0
    assert metric_resolution(["--secure-port=10250"]) == 60.0


def test_utilization_is_usage_over_requests_of_the_pods_with_a_sample() -> None:
    pods = [_pod("a"), _pod("b"), _pod("c")]
    metrics = [_sample("a", "200000000n"), _sample("b", "200m")]  # c: no sample yet
    seen = utilization(pods, metrics)
    assert seen is not None
    assert seen.percent == pytest.approx(400.0)
    assert seen.usage == {"a": 200.0, "b": 200.0}
    assert seen.requests == 100.0
    assert seen.at == epoch("2026-12-03T06:17:54Z")


def test_utilization_leaves_out_deleting_and_not_running_pods() -> None:
    deleting = _pod("a")
    deleting["metadata"]["deletionTimestamp"] = "2026-12-03T06:18:00Z"
    pending = _pod("b", phase="Pending")
    assert utilization([deleting, pending], [_sample("a", "1"), _sample("b", "1")]) is None
    recorded = utilization([POD], [SAMPLE])
    assert recorded is not None
    assert recorded.percent == pytest.approx(28.5, abs=0.1)  # 14.26m of 50m


def test_a_young_pods_sample_counts_only_once_a_window_after_ready() -> None:
    timing = HpaTiming()
    end, window = sample_window(SAMPLE)
    assert window == pytest.approx(10.749)
    now = epoch("2026-12-03T06:18:03Z")
    assert sample_counts(POD, end, window, timing, now)  # 06:17:54 >= 06:17:42 + 10.7
    early = epoch("2026-12-03T06:17:50Z")
    assert not sample_counts(POD, early, window, timing, now)
    unready = _pod("x")
    unready["status"]["conditions"][1]["status"] = "False"
    assert not sample_counts(unready, end, window, timing, now)


def test_an_old_pods_sample_counts_unless_it_was_never_ready() -> None:
    timing = HpaTiming()
    later = epoch("2026-12-03T06:30:00Z")  # past the 5 min initialization period
    assert sample_counts(POD, epoch("2026-12-03T06:29:50Z"), 15, timing, later)
    never = _pod("x")
    never["status"]["conditions"][1].update(
        {"status": "False", "lastTransitionTime": "2026-12-03T06:17:40Z"}
    )
    assert not sample_counts(never, epoch("2026-12-03T06:29:50Z"), 15, timing, later)
    assert not sample_counts({"status": {}}, later, 15, timing, later)


def test_the_scale_view_reads_the_hpa_status_and_the_deployment() -> None:
    deployment = {"spec": {"replicas": 4}, "status": {"replicas": 4, "readyReplicas": 3}}
    view = ScaleView.of(deployment, {"status": HPA_STATUS})
    assert (view.desired, view.current, view.utilization) == (4, 2, 401.0)
    assert not view.settled_at(4)
    assert ScaleView(4, 4, 4, 4, 4).settled_at(4)
    assert ScaleView(4, 5, 5).settled_at(4) is False  # mid-rollout: a surge pod
    bare = ScaleView.of(deployment, None)
    assert bare.desired is None
    assert "no HPA" in str(bare)
    # The status of an HPA whose metric could not be read (recorded).
    assert (
        ScaleView.of(deployment, {"status": {"currentMetrics": [{"type": ""}]}}).utilization is None
    )


def test_policy_steps_count_the_periods_after_the_first() -> None:
    declared = _declared_hpa()["spec"]["behavior"]
    assert policy_steps(declared["scaleDown"], 4, 2) == 0  # 06: 2 pods per period
    assert policy_steps({"policies": [{"type": "Pods", "value": 1}]}, 4, 2) == 1
    percent = {"policies": [{"type": "Percent", "value": 10}]}
    assert policy_steps(percent, 4, 2) == 1  # 10% of 4 rounds up to one pod
    assert policy_steps({}, 4, 2) == 0


def test_the_bounds_add_up_from_the_live_settings() -> None:
    spec = _declared_hpa()["spec"]
    up = Bound(scale_up_terms(HpaTiming(), 15.0, spec, 2.0))
    assert up.seconds == 10 + 15 + 15 + 0 + 15 + 2
    assert "metrics-server resolution 15s" in up.arithmetic()
    down = Bound(scale_down_terms(HpaTiming(), 15.0, spec, 4))
    assert down.seconds == 10 + 15 + 30 + 15 + 0
    slow = copy.deepcopy(spec)
    slow["behavior"]["scaleDown"] = {
        "policies": [{"type": "Pods", "value": 1, "periodSeconds": 60}]
    }
    assert Bound(scale_down_terms(HpaTiming(), 15.0, slow, 4)).seconds == 10 + 15 + 30 + 300 + 60


def test_06_keeps_the_hpa_the_mechanism_reads() -> None:
    spec = _declared_hpa()["spec"]
    assert (spec["minReplicas"], spec["maxReplicas"]) == (2, 4)
    assert spec["scaleTargetRef"]["name"] == "ingest"
    assert spec["metrics"][0]["resource"]["target"]["averageUtilization"] == 80


def test_05_leaves_replicas_to_the_hpa_and_caps_ingest() -> None:
    ingest = next(
        d
        for d in declared_documents("05-spark-application.yaml")
        if d["kind"] == "Deployment" and d["metadata"]["name"] == "ingest"
    )
    assert "replicas" not in ingest["spec"]  # a re-apply must not reset what the HPA set
    resources = ingest["spec"]["template"]["spec"]["containers"][0]["resources"]
    assert resources["limits"]["cpu"] == "200m"
    assert resources["requests"]["cpu"] == "50m"


def _reading(percent: float, at: float) -> Utilization:
    return Utilization(percent, {"a": percent / 2, "b": percent / 2}, 100.0, at)


def test_the_control_fails_only_past_the_bound_at_min_with_two_busy_windows() -> None:
    at_min = ScaleView(2, 2, 2)
    busy = [_reading(30, 1), _reading(250, 2), _reading(400, 3)]
    evidence = stayed_evidence(busy, at_min, 2, 88.0, 60.0, 57.0)
    assert evidence is not None
    assert evidence["windows_above"] == 2
    assert evidence["replicas"] == 2
    assert evidence["utilization_above_target"][-1]["percent"] == 400
    assert stayed_evidence(busy, at_min, 2, 88.0, 50.0, 57.0) is None  # before the bound
    assert stayed_evidence(busy[:2], at_min, 2, 88.0, 60.0, 57.0) is None  # one window
    calm_now = [*busy, _reading(20, 4)]
    assert stayed_evidence(calm_now, at_min, 2, 88.0, 60.0, 57.0) is None
    assert stayed_evidence(busy, ScaleView(3, 3, 2), 2, 88.0, 60.0, 57.0) is None


def test_served_problems_name_a_replica_that_stopped_serving() -> None:
    burn = epoch("2026-12-03T06:20:00Z")
    before = {"a": {"uid": "uid-a", "restarts": 0}, "b": {"uid": "uid-b", "restarts": 0}}
    pods = [_pod("a"), _pod("b")]
    assert served_problems(before, pods, {"a": 900, "b": 880}, burn) == []
    flapped = _pod("b")
    flapped["status"]["conditions"][1]["lastTransitionTime"] = "2026-12-03T06:20:30Z"
    restarted = _pod("a", containerStatuses=[{"restartCount": 1}])
    problems = served_problems(before, [restarted, flapped], {"a": 900}, burn)
    assert any("a restarted (0 -> 1)" in p for p in problems)
    assert any("b was not Ready throughout" in p for p in problems)
    assert any("b acked no event" in p for p in problems)
    assert served_problems(before, [pods[0]], {"a": 1, "b": 1}, burn) == [
        "burned replica b was replaced during the burn"
    ]


def test_the_burner_is_detached_self_bounded_and_marked() -> None:
    script = burner_script(180)
    assert "SECONDS < 180" in script
    assert BURN_MARK in script
    assert "nice -n 19" in script
    assert "</dev/null >/dev/null 2>&1 &" in script
    assert script.endswith("echo $!")


def test_live_pids_leave_zombies_out() -> None:
    assert live_pids(" 41 RN\n 42 Z\nbogus\n") == {41: "RN"}
    assert live_pids("") == {}


def test_the_mechanism_is_registered_as_a_catalog_entry_that_touches_no_data() -> None:
    entry = HpaScale.catalog()
    assert entry.id == "hpa_scale"
    assert not entry.touches_data
    assert "minReplicas" in HpaScale.expected_failure
