"""Mechanism 13, operator_leader_failover: the standby operator takes the Lease and submits.

The Spark operator runs two controller replicas with leader election (04
``controller.leaderElection``: lease 15 s, renew 10 s, retry 2 s); only the Lease holder
reconciles. The election's facts (flags, Lease, metric, logs) are in
harness.mechanisms.leader_election.

Trigger: freeze the Lease holder's controller process (SIGSTOP; harness.chaos.pods.
freeze_process: the controller runs under tini, so it is not the container's PID 1), then,
while the Lease still names it, create a tiny SparkApplication (``failover-probe``, its
deletion registered first). It landed when ps shows the controller stopped and the probe
was created before any other pod held the Lease. The catalog deletes the holder's pod;
that was the trigger until CI showed why it cannot prove a standby's takeover: the
ReplicaSet's replacement started 3 s after the deletion, raced the standby for the
expired Lease, and won (acquired 18.4 s after the strike, within the standby's jittered
retry; 2026-12-04). Deleting the pod asks "does any pod take over", which a replacement
answers as well as a standby. A frozen leader is a leader that hangs (a deadlock, a
stopped node's process, a GC pause). It keeps its pod, so the standby is the only
contender until liveness (period 10 s, threshold 3) restarts the frozen container, at
least 20 s later. A restarted elector must then see the Lease unchanged for a whole lease
(15 s) before it may take it: not before 35 s, past the takeover terms (23.8 s). v2.5.2
never releases the Lease, so for the standby a frozen leader and a deleted one differ
in nothing. The probe's driver can never schedule (a
nodeSelector no node carries): submission is the operator's act, and a second driver JVM
on two cores would load the stream under test.

Verification: the probe is submitted (SUBMITTED or RUNNING, with the driver pod the
operator's spark-submit created); the Lease moved to the standby that ran before the
strike (same pod UID and container, created before the strike), with one more
transition, within the takeover terms of the bound (lease + two jittered retries); the
standby's log shows the probe's submission, begun within the controllers' start term of
winning the Lease, and no other pod's log does; exactly one leader by
``leader_election_master_status`` from Prometheus (08's PodMonitor ``spark-operator``
scrapes every controller pod, so the one observer the verdicts read serves here too),
every running controller pod scraped and the holder the only one at 1; the running stream
untouched (same driver UID, no container restart, same executionAttempts, a batch after
the strike). ``spark_application_submit_count`` per pod is recorded before and after (it
lives in the leader's process and starts at 0 on the new one). MTTR is the strike to the
probe seen submitted; the Lease's acquireTime and the holder's ``Submitting`` line are
recorded as stages (``stages_after_strike_s``): the takeover is the mechanism's part,
the spark-submit after it (22-45 s on two cores) is most of the MTTR.

Integrity: the catalog marks the mechanism as touching data, so the window's events are
reconciled, exactly once (the stream must not notice the operator's failover).

Negative control: the controller Deployment patched to one replica with
``--leader-election=false`` (harness.chaos.deployments.patch_deployment; the rollback
restores the whole spec and waits for both replicas and a leader), same fault on its only
pod. Timing cannot tell the two apart (a restarted controller without election submits
about as soon as a standby takes over), so the control asserts what differs. Declared
failure, once the standby's takeover bound has passed and the probe is submitted: no
controller runs the container run it ran before the strike (the frozen one was
restarted by liveness); the Lease still names its old holder, not renewed since the
strike, with no new transition; the probe's only submitter is a controller whose
container started after the strike (a new pod, or the frozen pod's restarted container);
no running controller reports ``leader_election_master_status`` (its scrape target is
up).
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Mapping
from typing import Any

from kubernetes import client

from harness.chaos.deployments import RETURN_TIMEOUT, PatchedDeployment, patch_deployment
from harness.chaos.pods import freeze_process
from harness.errors import FaultNotLanded, ObserverUnavailable, WaitTimeout
from harness.invariants import CHAOS_LABEL
from harness.mechanisms.context import MechanismContext
from harness.mechanisms.leader_election import (
    CONTROLLER,
    OPERATOR_NAMESPACE,
    Candidate,
    Election,
    LeaseRecord,
    candidates,
    classify_holder,
    controller_args,
    election_settings,
    leader_problems,
    leader_series,
    operator_settled,
    read_lease,
    submitters,
    takeover_terms,
    without_election,
)
from harness.mechanisms.model import Bound, Term
from harness.mechanisms.template import MechanismTemplate, Seen, register
from harness.observe.wait import wait_until
from harness.spark_application import GROUP, PLURAL, VERSION, SparkApplication

__all__ = [
    "PROBE",
    "OperatorLeaderFailover",
    "control_evidence",
    "failover_problems",
    "one_replica_no_election",
    "probe_application",
]

PROBE = "failover-probe"
"""The SparkApplication created during the failover (harness.chaos.leftovers sweeps it)."""
NEVER_SCHEDULED = {"harness.local/never-scheduled": "true"}
"""A node label no node carries: the probe's driver stays Pending, its submission done."""
SUBMITTED = ("SUBMITTED", "RUNNING")
CONTROLLER_START = Term(
    "the new leader's controllers start and reconcile",
    5,
    "controller-runtime starts the controllers once the lease is won; measured ~1 s, + margin",
)
SUBMIT = Term(
    "spark-submit of the probe in the new leader",
    60,
    "measured 22-45 s on 2 cores (2026-12-03: the stream's 22 and 24, the probe's 36 and 44"
    " after a takeover, 28 and 34 by a fresh pod; the controller requests 50m CPU, so a busy"
    " machine stretches its spark-submit JVM), + margin",
)
CONTROLLER_PROCESS = "spark-operator controller start"
"""The controller's command line (under tini, PID 1, which ignores the SIGSTOP)."""
PROGRESS_WITHIN = 60.0
"""A batch of the stream after the strike: trigger 5 s, scrape 5 s, with margin."""


def one_replica_no_election(spec: dict[str, Any]) -> None:
    """The control's Deployment spec: one replica, its controller without election."""
    spec["replicas"] = 1
    for container in spec["template"]["spec"]["containers"]:
        if container["name"] == CONTROLLER:
            container["args"] = without_election(container.get("args") or [])


def probe_application(doc: Mapping[str, Any], name: str = PROBE) -> dict[str, Any]:
    """The tiny application created during the failover, from 05's (image, type, main
    file, service account, security contexts): restartPolicy Never, no volumes, no
    probes, priority pipeline-low, one executor, and a driver whose nodeSelector no node
    matches. Its pods carry ``harness.local/chaos`` (the invariants name one left)."""
    spec = doc["spec"]
    labels = {
        "app.kubernetes.io/name": name,
        "app.kubernetes.io/part-of": "spark-pipeline",
        "harness.local/spark-app": name,
        CHAOS_LABEL: name,
    }

    def pod(role: str) -> dict[str, Any]:
        template = spec[role]["template"]["spec"]
        container = template["containers"][0]
        return {
            "priorityClassName": "pipeline-low",
            "nodeSelector": dict(NEVER_SCHEDULED),
            "securityContext": copy.deepcopy(template["securityContext"]),
            "containers": [
                {
                    "name": container["name"],
                    "securityContext": copy.deepcopy(container["securityContext"]),
                }
            ],
        }

    conf = {k: v for k, v in spec["sparkConf"].items() if k.endswith("podTemplateContainerName")}
    return {
        "apiVersion": doc["apiVersion"],
        "kind": "SparkApplication",
        "metadata": {
            "name": name,
            "namespace": doc["metadata"]["namespace"],
            "labels": {k: labels[k] for k in ("app.kubernetes.io/name", CHAOS_LABEL)},
        },
        "spec": {
            **{k: spec[k] for k in ("type", "pythonVersion", "mode", "image", "imagePullPolicy")},
            "mainApplicationFile": spec["mainApplicationFile"],
            "sparkVersion": spec["sparkVersion"],
            "restartPolicy": {"type": "Never"},
            "sparkConf": conf,
            "driver": {
                "cores": 1,
                "coreRequest": "50m",
                "memory": "512m",
                "serviceAccount": spec["driver"]["serviceAccount"],
                "labels": dict(labels),
                "template": {"spec": pod("driver")},
            },
            "executor": {
                "instances": 1,
                "cores": 1,
                "coreRequest": "50m",
                "memory": "512m",
                "labels": dict(labels),
                "template": {"spec": pod("executor")},
            },
        },
    }


def failover_problems(
    struck: str,
    before: Mapping[str, Candidate],
    now: Mapping[str, Candidate],
    lease_before: LeaseRecord,
    lease_now: LeaseRecord | None,
    fault_epoch: float,
    takeover_bound: float,
    submitted_by: Mapping[str, float],
    controller_start: float = CONTROLLER_START.seconds,
) -> list[str]:
    """Why the failover was not the standby's: the Lease not acquired after the strike by
    a pod that ran before it (same UID and container run), not one transition more, too
    late for the takeover terms, or the probe submitted by another pod than the holder
    (or before it held the Lease, or later than its controllers' start). Empty when it
    was."""
    if lease_now is None:
        return ["the Lease is gone"]
    problems = []
    kind = classify_holder(lease_now.pod, struck, before, now)
    if kind != "standby":
        problems.append(f"the Lease is held by {lease_now.pod}, a {kind} pod, not the standby")
    if lease_now.acquired <= fault_epoch:
        problems.append("the Lease was not acquired after the strike")
    elif lease_now.acquired - fault_epoch > takeover_bound:
        problems.append(
            f"the Lease was acquired {lease_now.acquired - fault_epoch:.1f}s after the strike,"
            f" over the takeover terms' {takeover_bound:g}s"
        )
    if lease_now.transitions != lease_before.transitions + 1:
        problems.append(
            f"leaseTransitions {lease_before.transitions} → {lease_now.transitions}, expected +1"
        )
    if sorted(submitted_by) != [lease_now.pod]:
        problems.append(
            f"the probe's submission is logged by {sorted(submitted_by)}, not by the holder"
            f" {lease_now.pod} alone"
        )
    elif submitted_by[lease_now.pod] < lease_now.acquired:
        problems.append("the holder logged the probe's submission before it held the Lease")
    elif submitted_by[lease_now.pod] - lease_now.acquired > controller_start:
        problems.append(
            f"the holder began the probe's submission"
            f" {submitted_by[lease_now.pod] - lease_now.acquired:.1f}s after it won the Lease,"
            f" over the controllers' start {controller_start:g}s"
        )
    return problems


def control_evidence(
    seconds_after: float,
    takeover_bound: float,
    struck: str,
    before: Mapping[str, Candidate],
    now: Mapping[str, Candidate],
    lease_before: LeaseRecord | None,
    lease_now: LeaseRecord | None,
    fault_epoch: float,
    submitted_after: float | None,
    submitted_by: Mapping[str, float],
    series: Mapping[str, float],
    scraped: set[str],
) -> Seen[dict[str, Any]]:
    """The control's declared failure, once it is certain: past the takeover bound, the
    probe submitted, no container run from before the strike running, the Lease not
    taken or renewed since the strike, the only submitters started after the strike (a
    new pod, or a container restarted since), and no running controller (scraped)
    reporting the election metric."""
    old = sorted(n for n, c in now.items() if _same_run(before.get(n), c))
    moved = lease_now is not None and (
        lease_before is None
        or lease_now.holder != lease_before.holder
        or lease_now.renewed > fault_epoch
        or lease_now.transitions != lease_before.transitions
    )
    # creationTimestamp has whole seconds, and the ReplicaSet replaces a deleted pod within
    # a second (seen: 0.4 s): a pod is fresh when its UID was not among the candidates
    # before and it was created no earlier than the strike's second.
    fresh = {
        n: now[n]
        for n in submitted_by
        if n in now
        and (
            (
                (n not in before or before[n].uid != now[n].uid)
                and now[n].created >= math.floor(fault_epoch)
            )
            or (n in before and before[n].uid == now[n].uid and not _same_run(before[n], now[n]))
        )
    }
    unscraped = sorted(set(now) - scraped)
    reporting = sorted(set(series) & set(now))
    seen = (
        f"{seconds_after:.0f}s of the {takeover_bound:g}s takeover bound; controllers"
        f" {sorted(now)} (from before the strike: {old}); probe submitted"
        f" {'no' if submitted_after is None else f'{submitted_after:.1f}s'} after the strike"
        f" by {sorted(submitted_by)}; Lease moved: {moved}; election metric from {reporting};"
        f" not scraped: {unscraped}"
    )
    certain = (
        seconds_after >= takeover_bound
        and submitted_after is not None
        and not old
        and not moved
        and bool(submitted_by)
        and len(fresh) == len(submitted_by)
        and not unscraped
        and not reporting
    )
    if not certain:
        return None, seen
    lease = None if lease_now is None else lease_now.as_json(fault_epoch)
    return {
        "seconds_after_strike": round(seconds_after, 1),
        "takeover_bound_s": round(takeover_bound, 3),
        "struck": before[struck].as_json(fault_epoch) if struck in before else struck,
        "controllers_from_before_the_strike_running": old,
        "controllers_now": [c.as_json(fault_epoch) for c in now.values()],
        "probe_submitted_after_s": round(submitted_after, 1) if submitted_after else None,
        "probe_submitted_by": {
            n: {**fresh[n].as_json(fault_epoch), "submitting_s": round(t - fault_epoch, 1)}
            for n, t in submitted_by.items()
        },
        "lease": lease,
        "lease_transitions": [
            None if lease_before is None else lease_before.transitions,
            None if lease_now is None else lease_now.transitions,
        ],
        "leader_election_master_status": dict(series),
    }, seen


def _same_run(then: Candidate | None, now: Candidate) -> bool:
    """The same pod running the same container run (no restart in between)."""
    return (
        then is not None
        and then.uid == now.uid
        and then.container == now.container
        and then.restarts == now.restarts
    )


@register
class OperatorLeaderFailover(MechanismTemplate):
    """Freeze the operator's leader; its standby takes the Lease and submits a new app."""

    id = "operator_leader_failover"
    expected_failure = (
        "with one controller replica and --leader-election=false, no container that ran"
        " before the strike takes over: the Lease keeps its old holder (not renewed, no new"
        " transition), no controller reports leader_election_master_status, and the"
        " application created during the failover is submitted only by a controller whose"
        " container started after the strike (the frozen one, restarted by liveness)"
    )
    poll = 1.0

    def __init__(self, ctx: MechanismContext, negative_control: bool) -> None:
        super().__init__(ctx, negative_control)
        self.probe = SparkApplication(
            ctx.api, ctx.prom, ctx.image_values, name=PROBE, namespace=ctx.namespace, query=PROBE
        )
        self.stages: dict[str, float] = {}
        self.patched: PatchedDeployment | None = None
        self.apps = client.AppsV1Api(ctx.api)

    def _election(self) -> Election:
        """The election flags of the live controller Deployment."""
        deployment = self.apps.read_namespaced_deployment(CONTROLLER, OPERATOR_NAMESPACE)
        return election_settings(
            controller_args(self.ctx.api.sanitize_for_serialization(deployment))
        )

    def _settled(self) -> Seen[bool]:
        problems = operator_settled(self.ctx.api, self._election(), time.time())
        return (True if not problems else None), "; ".join(problems) or "settled"

    def _wait_settled(self) -> None:
        wait_until("the operator's replicas and a leader", self._settled, RETURN_TIMEOUT, 1.0)

    def switch_off(self) -> None:
        self.patched = patch_deployment(
            self.ctx, OPERATOR_NAMESPACE, CONTROLLER, one_replica_no_election, self._settled
        )
        self.note("switched_off", self.patched.evidence)

    def steady_state(self) -> Seen[bool]:
        state, driver = self.app.state(), self.app.driver()
        election = self._election()
        pods = candidates(self.ctx.api)
        live = {n: c for n, c in pods.items() if not c.terminating}
        deployment = self.apps.read_namespaced_deployment(CONTROLLER, OPERATOR_NAMESPACE)
        want = int(deployment.spec.replicas or 0)
        problems = []
        if state.state != "RUNNING" or driver is None:
            problems.append(f"application {state}, driver {'running' if driver else 'none'}")
        if election.enabled == self.negative_control:
            problems.append(f"leader election {'on' if election.enabled else 'off'}")
        if len(pods) != want or len(live) != want or not all(c.ready for c in live.values()):
            problems.append(f"controllers {sorted(pods)}: want {want} ready, none terminating")
        if not self.negative_control and not problems:
            lease = read_lease(self.ctx.api, election)
            if lease is None or not lease.valid(time.time()) or lease.pod not in live:
                problems.append(f"no valid Lease held by a running controller: {lease}")
            else:
                problems += leader_problems(
                    leader_series(self.ctx.prom, election), set(live), lease.pod
                )
        seen = "; ".join(problems) or f"controllers {sorted(live)}, election {election.enabled}"
        return (True if not problems else None), seen

    def bound(self) -> Bound:
        self.election = self._election()
        self.takeover = takeover_terms(self.election)
        lease = read_lease(self.ctx.api, self.election)
        if lease is not None and lease.duration != self.election.lease_duration:
            self.note("lease_duration_mismatch", [lease.duration, self.election.lease_duration])
        return Bound((*self.takeover, CONTROLLER_START, SUBMIT))

    @property
    def takeover_bound(self) -> float:
        """The takeover terms' sum: by then a standby holds the Lease."""
        return sum(t.seconds for t in self.takeover)

    def strike(self) -> dict[str, Any]:
        api = self.ctx.api
        self.before = candidates(api)
        self.lease_before = read_lease(api, self.election)
        live = sorted(n for n, c in self.before.items() if not c.terminating)
        if not self.negative_control:
            if self.lease_before is None or self.lease_before.pod not in live:
                raise FaultNotLanded(f"no Lease holder among the controllers {live}")
            target = self.lease_before.pod
        elif len(live) == 1:
            target = live[0]
        else:
            raise FaultNotLanded(f"the control needs one controller pod, found {live}")
        driver = self.app.driver()
        if driver is None:
            raise FaultNotLanded("no running driver of the stream to watch")
        self.stream = {
            "uid": driver.metadata.uid,
            "restarts": _restarts(driver),
            "attempts": self.app.state().attempts,
        }
        self.submits_before = _submit_counts(self.ctx)
        self.probe.delete()  # one an earlier run left; at once when there is none
        if not self.negative_control:
            self.ctx.rollbacks.register(
                "the operator back to its replicas, with a leader",
                self._wait_settled,
                leftover=lambda: operator_settled(api, self._election(), time.time()),
            )
        self.struck = target
        self.fault_epoch = time.time()
        pids = freeze_process(self.ctx, OPERATOR_NAMESPACE, target, CONTROLLER_PROCESS)
        frozen_after = time.time() - self.fault_epoch
        lease_on_exit = read_lease(api, self.election)
        self.ctx.rollbacks.register(
            f"delete the SparkApplication {PROBE}", self.probe.delete, leftover=self.probe.leftovers
        )
        manifest = probe_application(self.ctx.app.manifest())
        self.ctx.custom.create_namespaced_custom_object(
            GROUP, VERSION, self.ctx.namespace, PLURAL, manifest
        )
        created_after = time.time() - self.fault_epoch
        self.ctx.timeline.add("fault", PROBE, f"created {created_after:.1f}s after the strike")
        lease_at_creation = read_lease(api, self.election)
        if (
            not self.negative_control
            and lease_at_creation is not None
            and self.lease_before is not None
            and lease_at_creation.holder != self.lease_before.holder
        ):
            raise FaultNotLanded(
                f"{lease_at_creation.pod} held the Lease before {PROBE} was created"
                f" ({created_after:.1f}s after the strike): not created during the failover"
            )
        struck = self.before[target]
        return {
            "struck": {
                "pod": f"{OPERATOR_NAMESPACE}/{target}",
                "uid": struck.uid,
                "container": struck.container,
                "frozen_pids": pids,
            },
            "frozen_after_s": round(frozen_after, 1),
            "lease_before": None
            if self.lease_before is None
            else self.lease_before.as_json(self.fault_epoch),
            "lease_when_frozen": None
            if lease_on_exit is None
            else lease_on_exit.as_json(self.fault_epoch),
            "probe_created_after_s": round(created_after, 1),
            "stream_driver": self.stream,
        }

    def _observe(self) -> str:
        """Advance the stages (Lease acquired, probe submitted); say what is seen."""
        lease = read_lease(self.ctx.api, self.election)
        if (
            lease is not None
            and self.lease_before is not None
            and lease.holder != self.lease_before.holder
            and "lease acquired" not in self.stages
        ):
            self.stages["lease acquired"] = lease.acquired
            self.ctx.timeline.add("symptom", "lease", f"acquired by {lease.pod}")
        status = self.probe.get().get("status", {})
        state = status.get("applicationState", {}).get("state", "NEW")
        drivers = sorted(self.probe.pod_names("driver"))
        if state in SUBMITTED and drivers and "submitted" not in self.stages:
            self.stages["submitted"] = time.time()
            self.ctx.timeline.add("recovered", PROBE, f"{state}, driver {drivers}")
        holder = "none" if lease is None else lease.pod
        return f"Lease holder {holder}; {PROBE} {state}, driver pods {drivers}"

    def recovered(self) -> Seen[float]:
        seen = self._observe()
        return self.stages.get("submitted"), seen

    def _note_stages(self) -> None:
        ordered = sorted(self.stages.items(), key=lambda kv: kv[1])
        self.note("stages_after_strike_s", {k: round(v - self.fault_epoch, 1) for k, v in ordered})

    def mttr(self, recovered_at: float) -> float:
        self._note_stages()
        return recovered_at - self.fault_epoch

    def check(self) -> None:
        api = self.ctx.api
        now = candidates(api)
        lease = read_lease(api, self.election)
        by = submitters(api, sorted(now), PROBE, self.fault_epoch)
        self.note("candidates_before", [c.as_json(self.fault_epoch) for c in self.before.values()])
        self.note("lease_after", None if lease is None else lease.as_json(self.fault_epoch))
        self.note("probe_submitted_by", {n: round(t - self.fault_epoch, 1) for n, t in by.items()})
        if lease is not None and lease.pod in by:
            self.stages["submitting (the holder's log)"] = by[lease.pod]
            self._note_stages()
        assert self.lease_before is not None  # strike() refused a run without one
        for problem in failover_problems(
            self.struck,
            self.before,
            now,
            self.lease_before,
            lease,
            self.fault_epoch,
            self.takeover_bound,
            by,
        ):
            self.fail(problem)
        if lease is not None:
            self._one_leader(lease.pod)
            # The count lives in the leader's process: the new one's starts at 0 and shows
            # the probe once scraped (recorded, a finding rather than a check).
            self.ctx.metric_eventually(
                f'sum(spark_application_submit_count{{pod="{lease.pod}"}})',
                lambda v: v >= 1,
                2 * self.ctx.prom_settings().scrape,
                1.0,
            )
        self._stream_untouched()
        self.note("spark_application_submit_count", [self.submits_before, _submit_counts(self.ctx)])

    def _one_leader(self, holder: str) -> None:
        """Exactly one leader by the metric, the holder, over every running controller."""
        within = 3 * self.ctx.prom_settings().scrape + 30.0

        def one() -> Seen[dict[str, float]]:
            live = {n for n, c in candidates(self.ctx.api).items() if not c.terminating}
            series = leader_series(self.ctx.prom, self.election)
            problems = leader_problems(series, live, holder)
            return (series if not problems else None), "; ".join(problems)

        try:
            series = wait_until("exactly one leader by the metric", one, within, 2.0)
        except WaitTimeout as exc:
            if exc.probe_errors:
                raise ObserverUnavailable(f"the election metric unreadable: {exc}") from exc
            self.fail(f"not exactly one leader by the metric: {exc.last_seen}")
            return
        self.note("leader_election_master_status", series)

    def _stream_untouched(self) -> None:
        """The running stream: same driver, no restart, same attempts, a batch since."""
        driver, state = self.app.driver(), self.app.state()
        after = {
            "uid": None if driver is None else driver.metadata.uid,
            "restarts": None if driver is None else _restarts(driver),
            "attempts": state.attempts,
        }
        self.note("stream_driver", [self.stream, after])
        if after != self.stream or state.state != "RUNNING":
            self.fail(f"the stream was touched: {self.stream} → {after}, {state}")
        last = self.ctx.metric_eventually(
            f"max({self.app.metric('spark_stream_last_progress_timestamp_seconds')})",
            lambda v: v > self.fault_epoch,
            PROGRESS_WITHIN,
        )
        self.note("stream_last_progress_after_strike_s", round(last - self.fault_epoch, 1))
        if last <= self.fault_epoch:
            self.fail(f"the stream made no progress within {PROGRESS_WITHIN:.0f}s of the strike")

    def control_failed(self) -> Seen[dict[str, Any]]:
        seen = self._observe()
        api = self.ctx.api
        now = {n: c for n, c in candidates(api).items() if not c.terminating}
        submitted = self.stages.get("submitted")
        by = submitters(api, sorted(now), PROBE, self.fault_epoch) if submitted else {}
        scraped = {
            labels.get("pod", "")
            for labels, _ in self.ctx.prom.query(f'up{{namespace="{OPERATOR_NAMESPACE}"}} == 1')
        }
        evidence, more = control_evidence(
            time.time() - self.fault_epoch,
            self.takeover_bound,
            self.struck,
            self.before,
            now,
            self.lease_before,
            read_lease(api, self.election),
            self.fault_epoch,
            None if submitted is None else submitted - self.fault_epoch,
            by,
            leader_series(self.ctx.prom, self.election),
            scraped,
        )
        return evidence, f"{seen}; {more}"

    def control_healed(self) -> Seen[float]:
        """Healed: a controller from before the strike took the Lease (it cannot, with the
        struck pod the only one; a second replica left running would)."""
        lease = read_lease(self.ctx.api, self.election)
        if lease is None or self.lease_before is None or lease.holder == self.lease_before.holder:
            return None, "the Lease did not move"
        kind = classify_holder(lease.pod, self.struck, self.before, candidates(self.ctx.api))
        if kind == "standby":
            return lease.acquired, f"the Lease went to {lease.pod}, a controller from before"
        return None, f"the Lease went to {lease.pod}, a {kind} pod"


def _restarts(pod: Any) -> int:
    return sum(int(s.restart_count or 0) for s in pod.status.container_statuses or [])


def _submit_counts(ctx: MechanismContext) -> dict[str, float]:
    """``spark_application_submit_count`` per controller pod (only a leader has one)."""
    counts: dict[str, float] = {}
    for labels, value in ctx.prom.query("spark_application_submit_count"):
        pod = labels.get("pod", "")
        counts[pod] = counts.get(pod, 0.0) + value
    return counts
