"""operator_leader_failover without a cluster: the election's flags and terms, the Lease's
holder, the metric's leaders, the submitter from the logs, the control's switch-off, the
probe application, and the verdict's decisions on recorded states."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from harness.chaos.deployments import rollout_problems
from harness.chaos.leftovers import EXTRA_APPLICATIONS
from harness.deploy.manifests import load_documents
from harness.deploy.operator_chart import render_operator
from harness.deploy.validate import pipeline_crd_schemas, validate_documents
from harness.invariants import CHAOS_LABEL, declared_documents
from harness.mechanisms.leader_election import (
    Candidate,
    Election,
    LeaseRecord,
    classify_holder,
    controller_args,
    election_settings,
    holder_pod,
    leader_problems,
    submissions,
    takeover_terms,
    without_election,
)
from harness.mechanisms.model import Bound
from harness.mechanisms.operator_leader_failover import (
    CONTROLLER_START,
    NEVER_SCHEDULED,
    PROBE,
    SUBMIT,
    control_evidence,
    failover_problems,
    one_replica_no_election,
    probe_application,
)
from harness.spark_application import APP

STRIKE = 1_000.0
LEADER, STANDBY, FRESH = "ctl-a", "ctl-b", "ctl-c"
# Recorded from the operator v2.5.2 on the lab (2026-12-03), shortened.
LOG = "\n".join(
    [
        "I1203 06:09:47.580930       6 leaderelection.go:257] attempting to acquire leader lease"
        " spark-operator/spark-operator-controller-lock...",
        '{"level":"INFO","ts":"2026-12-03T06:10:15.590Z","caller":"sparkapplication/'
        'controller.go:899","msg":"Submitting SparkApplication","controller":"sparkapplication",'
        '"SparkApplication":{"name":"events-stream","namespace":"spark-pipeline"},"state":""}',
        '{"level":"INFO","ts":"2026-12-03T06:12:54.676Z","caller":"sparkapplication/'
        'controller.go:899","msg":"Submitting SparkApplication","controller":"sparkapplication",'
        '"SparkApplication":{"name":"failover-probe","namespace":"spark-pipeline"},"state":""}',
        '{"level":"INFO","ts":"2026-12-03T06:12:54.684Z","msg":"Running spark-submit",'
        '"SparkApplication":{"name":"failover-probe","namespace":"spark-pipeline"}}',
        "{not json",
    ]
)


def _controller() -> dict[str, Any]:
    values = load_documents("04-spark-operator-helm-values.yaml", {})[0]
    deployment: dict[str, Any] = render_operator(values, "img:1", "04")[0]
    return deployment


def _candidate(name: str, created: float, uid: str = "", container: str = "c1") -> Candidate:
    return Candidate(name, uid or f"uid-{name}", created, container, 0, True, False)


def _lease(holder: str, acquired: float, renewed: float, transitions: int) -> LeaseRecord:
    return LeaseRecord(f"{holder}_4f1c", 15.0, acquired, renewed, transitions)


BEFORE = {LEADER: _candidate(LEADER, STRIKE - 600), STANDBY: _candidate(STANDBY, STRIKE - 600)}
AFTER = {STANDBY: BEFORE[STANDBY], FRESH: _candidate(FRESH, STRIKE + 1)}
LEASE_BEFORE = _lease(LEADER, STRIKE - 600, STRIKE - 1, 0)


# The election's settings


def test_the_live_flags_are_read_from_the_controllers_arguments() -> None:
    election = election_settings(controller_args(_controller()))
    assert election == Election(True, "spark-operator-controller-lock", "spark-operator", 15, 10, 2)


@pytest.mark.parametrize(
    ("args", "enabled"),
    [
        (["--leader-election"], True),
        (["--leader-election=true"], True),
        (["--leader-election=false"], False),
        ([], False),
    ],
)
def test_the_boolean_flag_reads_as_pflag_reads_it(args: list[str], enabled: bool) -> None:
    assert election_settings(args).enabled is enabled


def test_a_flag_and_its_value_may_be_two_arguments() -> None:
    election = election_settings(["--leader-election-lease-duration", "1m", "--x"])
    assert election.lease_duration == 60
    assert election.retry_period == 2, "the operator's own default"


def test_the_control_switches_election_off_and_keeps_the_durations() -> None:
    args = controller_args(_controller())
    off = without_election(args)
    assert election_settings(off).enabled is False
    assert off.count("--leader-election=false") == 1
    assert "--leader-election=true" not in off
    assert [a for a in off if "lease-duration" in a] == ["--leader-election-lease-duration=15s"]


def test_the_controls_spec_has_one_replica_without_election() -> None:
    deployment = _controller()
    spec = copy.deepcopy(deployment["spec"])
    one_replica_no_election(spec)
    assert spec["replicas"] == 1
    assert election_settings(controller_args({"spec": spec})).enabled is False
    assert deployment["spec"]["replicas"] == 2, "the original is left alone"


# The bound


def test_the_takeover_terms_are_lease_plus_two_jittered_retries() -> None:
    terms = takeover_terms(Election(True, lease_duration=15, retry_period=2))
    assert [t.seconds for t in terms] == [15, 4.4, 4.4]
    assert all("live Deployment args" in t.source or "retry-period" in t.source for t in terms)
    bound = Bound((*terms, CONTROLLER_START, SUBMIT))
    assert bound.seconds == pytest.approx(88.8)
    assert bound.arithmetic().endswith("= 88.8s")


def test_a_longer_lease_lengthens_the_bound() -> None:
    terms = takeover_terms(Election(True, lease_duration=60, retry_period=5))
    assert sum(t.seconds for t in terms) == pytest.approx(82)


# The Lease and its candidates


def test_a_holder_identity_names_its_pod() -> None:
    assert holder_pod("spark-operator-controller-74b99dcf94-2m665_a0259cbf-1458") == (
        "spark-operator-controller-74b99dcf94-2m665"
    )
    assert holder_pod("") == ""


def test_a_lease_is_valid_within_its_duration_of_the_last_renewal() -> None:
    lease = _lease(LEADER, 0, 100, 0)
    assert lease.valid(114)
    assert not lease.valid(115)
    assert not LeaseRecord("", 15, 0, 100, 0).valid(101), "no holder, no leader"


@pytest.mark.parametrize(
    ("pod", "now", "kind"),
    [
        (STANDBY, AFTER, "standby"),
        (FRESH, AFTER, "new"),
        (LEADER, AFTER, "struck"),
        ("ctl-x", AFTER, "gone"),
        (STANDBY, {STANDBY: _candidate(STANDBY, STRIKE - 600, container="c2")}, "restarted"),
        (STANDBY, {STANDBY: _candidate(STANDBY, STRIKE + 3, uid="other")}, "new"),
    ],
)
def test_the_holder_is_classified_against_the_candidates_before_the_strike(
    pod: str, now: dict[str, Candidate], kind: str
) -> None:
    assert classify_holder(pod, LEADER, BEFORE, now) == kind


# The metric


def test_exactly_one_leader_is_the_holder_over_every_running_pod() -> None:
    assert leader_problems({STANDBY: 1, FRESH: 0}, {STANDBY, FRESH}, STANDBY) == []


def test_an_unscraped_pod_a_stale_series_or_two_leaders_are_problems() -> None:
    assert leader_problems({STANDBY: 1}, {STANDBY, FRESH}, STANDBY) == [
        f"leader_election_master_status not scraped from ['{FRESH}']"
    ]
    stale = leader_problems({STANDBY: 1, FRESH: 0, LEADER: 1}, {STANDBY, FRESH}, STANDBY)
    assert any("not running" in p for p in stale)
    assert any("sum(" in p for p in stale)
    assert any("leaders by" in p for p in leader_problems({FRESH: 1}, {FRESH}, STANDBY))


# The submitter, from the logs


def test_the_submission_of_one_application_is_read_from_the_controllers_log() -> None:
    (at,) = submissions(LOG, PROBE)
    assert at == pytest.approx(1796278374.676)
    assert len(submissions(LOG, APP)) == 1
    assert submissions(LOG, "other") == []


# The probe application


def _probe() -> dict[str, Any]:
    doc = next(
        d
        for d in declared_documents("05-spark-application.yaml")
        if d["kind"] == "SparkApplication" and d["metadata"]["name"] == APP
    )
    return probe_application(doc)


def test_the_probe_is_a_valid_sparkapplication_that_never_runs_a_driver() -> None:
    probe = _probe()
    assert validate_documents([("probe", probe)], crds=pipeline_crd_schemas()) == []
    spec = probe["spec"]
    assert spec["restartPolicy"] == {"type": "Never"}
    for role in ("driver", "executor"):
        pod = spec[role]["template"]["spec"]
        assert pod["nodeSelector"] == NEVER_SCHEDULED
        assert pod["priorityClassName"] == "pipeline-low"
        assert "volumes" not in pod
        assert spec[role]["labels"]["harness.local/spark-app"] == PROBE
        assert spec[role]["labels"][CHAOS_LABEL] == PROBE
        assert pod["securityContext"]["runAsNonRoot"] is True


def test_an_interrupted_run_leaves_no_probe_behind() -> None:
    assert PROBE in EXTRA_APPLICATIONS


# The verdict's decisions


def test_the_standbys_takeover_and_submission_pass() -> None:
    lease = _lease(STANDBY, STRIKE + 17.2, STRIKE + 19, 1)
    by = {STANDBY: STRIKE + 18.0}
    assert failover_problems(LEADER, BEFORE, AFTER, LEASE_BEFORE, lease, STRIKE, 23.8, by) == []


def test_a_takeover_by_a_new_pod_or_too_late_or_another_submitter_fails() -> None:
    by_fresh = _lease(FRESH, STRIKE + 17.2, STRIKE + 19, 1)
    problems = failover_problems(
        LEADER, BEFORE, AFTER, LEASE_BEFORE, by_fresh, STRIKE, 23.8, {FRESH: STRIKE + 18}
    )
    assert problems == [f"the Lease is held by {FRESH}, a new pod, not the standby"]
    late = _lease(STANDBY, STRIKE + 30, STRIKE + 30, 1)
    problems = failover_problems(
        LEADER, BEFORE, AFTER, LEASE_BEFORE, late, STRIKE, 23.8, {STANDBY: STRIKE + 31}
    )
    assert problems == [
        "the Lease was acquired 30.0s after the strike, over the takeover terms' 23.8s"
    ]
    lease = _lease(STANDBY, STRIKE + 17, STRIKE + 19, 1)
    two = {STANDBY: STRIKE + 18, FRESH: STRIKE + 18}
    assert any(
        "not by the holder" in p
        for p in failover_problems(LEADER, BEFORE, AFTER, LEASE_BEFORE, lease, STRIKE, 23.8, two)
    )
    slow = {STANDBY: STRIKE + 23}
    assert failover_problems(LEADER, BEFORE, AFTER, LEASE_BEFORE, lease, STRIKE, 23.8, slow) == [
        "the holder began the probe's submission 6.0s after it won the Lease, over the"
        " controllers' start 5s"
    ]
    early = {STANDBY: STRIKE + 16}
    assert failover_problems(LEADER, BEFORE, AFTER, LEASE_BEFORE, lease, STRIKE, 23.8, early) == [
        "the holder logged the probe's submission before it held the Lease"
    ]
    assert failover_problems(LEADER, BEFORE, AFTER, LEASE_BEFORE, None, STRIKE, 23.8, {}) == [
        "the Lease is gone"
    ]


# The control (one replica, no election), recorded as the lab shows it

CONTROL_BEFORE = {LEADER: _candidate(LEADER, STRIKE - 60)}
CONTROL_NOW = {FRESH: _candidate(FRESH, STRIKE + 1.5)}
# The ReplicaSet's replacement, 0.4 s after the strike, carries the strike's whole second.
SAME_SECOND = {FRESH: _candidate(FRESH, STRIKE - 0.0)}
STALE = _lease("ctl-old", STRIKE - 900, STRIKE - 70, 3)


def _control(**changes: Any) -> tuple[dict[str, Any] | None, str]:
    args: dict[str, Any] = {
        "seconds_after": 31.0,
        "takeover_bound": 23.8,
        "struck": LEADER,
        "before": CONTROL_BEFORE,
        "now": CONTROL_NOW,
        "lease_before": STALE,
        "lease_now": STALE,
        "fault_epoch": STRIKE,
        "submitted_after": 30.0,
        "submitted_by": {FRESH: STRIKE + 8.0},
        "series": {},
        "scraped": {FRESH},
    }
    args.update(changes)
    return control_evidence(**args)


def test_a_replacement_created_in_the_strikes_second_is_fresh() -> None:
    evidence, seen = _control(fault_epoch=STRIKE + 0.4, now=SAME_SECOND)
    assert evidence is not None, seen


def test_the_frozen_pods_restarted_container_is_fresh_and_not_from_before() -> None:
    # The fault freezes the only controller; liveness restarts its container, and that new
    # run (same pod, same UID) submits the probe without an election.
    restarted = {LEADER: Candidate(LEADER, f"uid-{LEADER}", STRIKE - 60, "c2", 1, True, False)}
    evidence, seen = _control(now=restarted, submitted_by={LEADER: STRIKE + 28.0}, scraped={LEADER})
    assert evidence is not None, seen
    assert evidence["controllers_from_before_the_strike_running"] == []
    # still frozen (the same container run): neither fresh nor the declared failure
    evidence, seen = _control(
        now=CONTROL_BEFORE, submitted_by={LEADER: STRIKE + 28.0}, scraped={LEADER}
    )
    assert evidence is None, seen


def test_the_control_fails_as_declared_when_only_a_fresh_pod_submits() -> None:
    evidence, seen = _control()
    assert evidence is not None, seen
    assert evidence["controllers_from_before_the_strike_running"] == []
    assert evidence["probe_submitted_by"][FRESH]["created_s"] == 1.5
    assert evidence["lease"]["holder"] == STALE.holder
    assert evidence["lease"]["renewed_s"] == -70
    assert evidence["lease_transitions"] == [3, 3]
    assert evidence["leader_election_master_status"] == {}


@pytest.mark.parametrize(
    "changes",
    [
        {"seconds_after": 20.0},  # a standby could still take over
        {"submitted_after": None, "submitted_by": {}},  # not submitted yet
        {"now": {**CONTROL_NOW, STANDBY: _candidate(STANDBY, STRIKE - 60)}, "before": BEFORE},
        {"lease_now": _lease("ctl-old", STRIKE - 900, STRIKE + 2, 3)},  # renewed since
        {"lease_now": _lease(FRESH, STRIKE + 20, STRIKE + 20, 4)},  # taken
        {"submitted_by": {STANDBY: STRIKE + 8.0}},  # by a pod not running now
        {"series": {FRESH: 0.0}},  # an elector runs
        {"scraped": set()},  # the metric's absence not yet shown
    ],
)
def test_the_control_waits_or_refuses_what_is_not_the_declared_failure(
    changes: dict[str, Any],
) -> None:
    evidence, seen = _control(**changes)
    assert evidence is None
    assert "takeover bound" in seen


# The rollout the control and its restore wait for


def _deployment(want: int, generation: int = 2, **status: int) -> dict[str, Any]:
    counts = {"updatedReplicas": want, "availableReplicas": want, "replicas": want}
    return {
        "metadata": {"generation": generation},
        "spec": {"replicas": want},
        "status": {"observedGeneration": 2, **counts, **status},
    }


def _pods(*names: str, ending: str = "") -> list[dict[str, Any]]:
    pods = [{"metadata": {"name": n}} for n in names]
    if ending:
        pods.append({"metadata": {"name": ending, "deletionTimestamp": "2026-12-03T06:00:00Z"}})
    return pods


def test_a_rollout_is_done_with_every_replica_updated_available_and_alone() -> None:
    assert rollout_problems(_deployment(1), _pods("a")) == []
    assert rollout_problems(_deployment(1, generation=3), _pods("a")) == [
        "the Deployment controller has not observed the last change"
    ]
    assert rollout_problems(_deployment(1, replicas=2), _pods("a", "b")) == [
        "replicas 2/1",
        "2 pods for 1 replicas",
    ]
    assert rollout_problems(_deployment(1), _pods("a", ending="old")) == [
        "pods terminating: ['old']",
        "2 pods for 1 replicas",
    ]
    assert rollout_problems(_deployment(2, availableReplicas=1), _pods("a", "b")) == [
        "availableReplicas 1/2"
    ]
