"""The 18 mechanisms of the catalog, by id; a module registers each one it implements
(harness.mechanisms.template.register), and template.implemented() lists those."""

from __future__ import annotations

from harness.errors import InvalidInput
from harness.mechanisms.model import Mechanism

__all__ = ["MECHANISMS", "mechanism"]

_ALL = (
    Mechanism(
        1,
        "driver_restart",
        "operator restartPolicy",
        "delete the driver pod (grace 0)",
        "app leaves RUNNING and returns to it with executionAttempts +1; submit count "
        "rises; data flows again",
        "restartPolicy Never",
    ),
    Mechanism(
        2,
        "driver_liveness",
        "kubelet liveness probe on the driver",
        "freeze the driver JVM (SIGSTOP)",
        "probe fails, a new driver runs, streaming resumes",
        "no liveness probe",
    ),
    Mechanism(
        3,
        "readiness_gate",
        "readiness probe on ingest (2 replicas)",
        "make one replica's health endpoint fail",
        "its address leaves the EndpointSlice; clients see no errors; it returns when healthy",
        "no readiness probe",
        touches_data=False,
    ),
    Mechanism(
        4,
        "checkpoint_recovery",
        "Structured Streaming checkpoint on a PVC",
        "kill the driver in the middle of a micro-batch",
        "first batch after restart is N+1, not 0; sink holds every event exactly once",
        "checkpoint on emptyDir",
    ),
    Mechanism(
        5,
        "executor_replacement",
        "Spark executor allocation + task retry",
        "delete an executor pod",
        "executor count restored, driver unchanged, exactly-once holds",
        "spark.kubernetes.allocation.maximum: no replacement executor allowed",
    ),
    Mechanism(
        6,
        "executor_oom",
        "kubelet OOM kill + executor replacement",
        "make one executor exceed its memory limit",
        "OOMKilled; replacement runs; exactly-once holds",
        "as executor_replacement",
    ),
    Mechanism(
        7,
        "dynamic_allocation",
        "Spark dynamic allocation",
        "input burst, then idle",
        "executors rise under backlog and fall after idle timeout",
        "dynamic allocation off",
        touches_data=False,
        notes=(
            "Runs on an application of its own beside the job (05 fixes the job's executors, "
            "and its Kafka source keeps every executor busy while data flows), whose sink "
            "is on the executors' emptyDirs: the burst is checked by count (every event "
            "read once), not reconciled.",
        ),
    ),
    Mechanism(
        8,
        "hpa_scale",
        "HPA on ingest",
        "CPU load on ingest",
        "desired > min, then current = desired, then back down",
        "no HPA",
        touches_data=False,
    ),
    Mechanism(
        9,
        "vpa_rightsizing",
        "VPA on the object store",
        "sustained usage above requests",
        "a recommendation appears; recreated pods get it",
        "no VPA",
        touches_data=False,
    ),
    Mechanism(
        10,
        "pdb_drain_block",
        "PodDisruptionBudget",
        "drain the node holding the broker",
        "eviction refused (429) while the budget is 0; the broker keeps its UID",
        "no PDB",
    ),
    Mechanism(
        11,
        "executor_decommission",
        "Spark graceful decommission",
        "evict one executor pod via the Eviction API, as a drain does",
        "exit 0 through its preStop hook, the driver records a decommission, no failed "
        "tasks, replaced under the same driver, exactly-once holds",
        "spark.decommission.enabled unset",
        notes=(
            "A whole node is not drained: the broker's PodDisruptionBudget refuses its "
            "eviction, and a cordoned worker leaves the other one to take every "
            "replacement. The eviction is what a drain does to each executor.",
        ),
    ),
    Mechanism(
        12,
        "node_failure_reschedule",
        "node lifecycle controller + taint eviction",
        "stop the driver's worker node's container",
        "node NotReady, pods evicted and rescheduled, pipeline recovers with no data loss",
        "tolerations that never expire",
        notes=(
            "An evicted pod on a dead node stays Terminating and the operator resubmits only "
            "once the old driver pod is gone: the harness fences (force-deletes the evicted "
            "pods), standing in for the cloud's Node deletion or the out-of-service taint.",
        ),
    ),
    Mechanism(
        13,
        "operator_leader_failover",
        "operator leader election (2 replicas)",
        "freeze the lease-holding operator (SIGSTOP)",
        "lease holder changes; new apps submit; running app unaffected",
        "1 replica, no election",
        notes=(
            "The catalog deletes the lease-holding pod; its replacement then races the "
            "standby for the expired Lease and can win (seen in CI), which proves a takeover "
            "but not the standby's. A frozen leader keeps its pod: the standby is the only "
            "contender until liveness restarts the frozen container.",
        ),
    ),
    Mechanism(
        14,
        "priority_preemption",
        "PriorityClass",
        "fill nodes with low-priority pods, restart the driver",
        "low-priority pods preempted; driver runs",
        "driver without priority",
    ),
    Mechanism(
        15,
        "network_partition_recovery",
        "NetworkPolicy + Spark network timeouts",
        "deny driver-executor traffic, then lift it",
        "executors survive or are replaced; throughput returns; exactly-once holds",
        "partition beyond the timeout",
    ),
    Mechanism(
        16,
        "pvc_full_recovery",
        "alerting + checkpoint retention + restart",
        "fill the checkpoint PVC to 100%",
        "alert fires; job fails cleanly; resumes at "
        "the next batch after the fill is removed; exactly-once holds",
        "no alert rule",
    ),
    Mechanism(
        17,
        "prometheus_alerting",
        "PrometheusRule + Alertmanager",
        "take the driver away with restart delayed",
        "alert pending → firing, webhook receives it, it resolves",
        "rule removed",
        touches_data=False,
    ),
    Mechanism(
        18,
        "backup_restore",
        "backup CronJob + restore Job",
        "back up, destroy the checkpoint, restore",
        "objects with checksums; resumes at a batch ≥ the backup's",
        "backup CronJob suspended",
    ),
)

MECHANISMS: dict[str, Mechanism] = {m.id: m for m in _ALL}


def mechanism(mechanism_id: str, source: str = "mechanism id") -> Mechanism:
    """The mechanism with this id; an unknown id is an error listing the known ones."""
    try:
        return MECHANISMS[mechanism_id]
    except KeyError:
        raise InvalidInput(source, "id", f"one of {sorted(MECHANISMS)}", mechanism_id) from None
