"""executor_decommission without a cluster: the preStop script against a stand-in JVM,
the eviction's proof, how a pod's end is read, and the verdict's decisions.

The script test runs harness/images/assets/spark/decom.sh itself, with a Python process
standing in for the executor JVM (its command line names the backend class and it
exits on SIGPWR, as the JVM does once decommissioned).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from kubernetes import client

from harness.chaos import evictions
from harness.chaos.rollback import Rollbacks
from harness.errors import FaultNotLanded, Inconclusive
from harness.images.gobuild import ASSETS
from harness.invariants import declared_documents
from harness.mechanisms import executor_decommission as module
from harness.mechanisms.executor_decommission import (
    SIGTERM_EXIT,
    SWITCH,
    decommission_failures,
    failed_tasks,
    is_decommission,
    jvm_decommission_lines,
    prestop_command,
    removal,
    sigterm_evidence,
    without_decommission,
)
from harness.observe.pod_end import PodEnd, Termination, termination
from harness.observe.timeline import Timeline
from harness.spark_application import control_twin

SCRIPT = ASSETS / "spark" / "decom.sh"
BACKEND = "test.harness.KubernetesExecutorBackend"
STAND_IN = """
import os, signal, sys, time
def decommission(signum, frame):
    print("decommissioned", flush=True)
    sys.exit(0)
signal.signal(signal.SIGPWR, decommission)
print(os.getpid(), flush=True)
while True:
    time.sleep(0.05)
"""
REAPER = '"$1" -c "$2" "$3" & wait "$!"'
"""The stand-in's parent reaps it at once, as tini does the JVM: ``tail --pid`` waits
for as long as a zombie remains."""
DECOMMISSIONED = "Executor decommission: Executor 1 is decommissioned."
DISASSOCIATED = (
    "Remote RPC client disassociated. Likely due to containers exceeding thresholds, or"
    " network issues. Check driver logs for WARN messages."
)


def _tools() -> bool:
    if shutil.which("pgrep") is None or shutil.which("tail") is None:
        return False
    probe = subprocess.run(["tail", "--version"], capture_output=True, text=True, check=False)
    return "GNU coreutils" in probe.stdout


needs_procps = pytest.mark.skipif(not _tools(), reason="needs pgrep and GNU tail --pid")


def _run_script(tmp_path: Path, backend: str = BACKEND) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DECOMMISSION_BACKEND": backend,
        "DECOMMISSION_REPORT": str(tmp_path / "termination-log"),
        "DECOMMISSION_CONSOLE": str(tmp_path / "console"),
    }
    return subprocess.run(
        ["bash", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=20, check=False
    )


@needs_procps
def test_decom_script_sends_sigpwr_and_waits_for_the_executor_to_exit(tmp_path: Path) -> None:
    command = ["bash", "-c", REAPER, "reaper", sys.executable, STAND_IN, BACKEND]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as reaper:
        assert reaper.stdout is not None
        try:
            pid = int(reaper.stdout.readline())
            done = _run_script(tmp_path)
            assert done.returncode == 0, done.stderr
            assert reaper.wait(timeout=5) == 0  # it ended on SIGPWR, with status 0
            assert reaper.stdout.read().strip() == "decommissioned"
        finally:
            reaper.kill()
    report = (tmp_path / "termination-log").read_text()
    assert f"sending SIGPWR to the executor JVM (pid {pid})" in report
    assert f"executor JVM (pid {pid}) exited" in report
    assert report == (tmp_path / "console").read_text()
    assert all("decom.sh:" in line for line in report.splitlines())


@needs_procps
def test_decom_script_with_no_executor_jvm_does_nothing_and_succeeds(tmp_path: Path) -> None:
    done = _run_script(tmp_path, backend="no.such.Backend")
    assert done.returncode == 0
    assert "nothing to decommission" in (tmp_path / "termination-log").read_text()


def _application() -> dict[str, Any]:
    docs = declared_documents("05-spark-application.yaml")
    app: dict[str, Any] = next(d for d in docs if d["kind"] == "SparkApplication")
    return app


def test_decom_script_is_executable_and_the_image_ships_it_where_05_points() -> None:
    assert os.access(SCRIPT, os.X_OK)
    pipeline = (Path(evictions.__file__).parents[1] / "images" / "pipeline.py").read_text()
    app = _application()
    conf = app["spec"]["sparkConf"]
    assert f'"COPY decom.sh {conf["spark.kubernetes.decommission.script"]}"' in pipeline
    assert conf[SWITCH] == "true"
    assert conf["spark.storage.decommission.enabled"] == "true"
    grace = app["spec"]["executor"]["template"]["spec"]["terminationGracePeriodSeconds"]
    interval = conf["spark.storage.decommission.replicationReattemptInterval"]
    assert int(interval.rstrip("s")) < grace  # a migration pass fits in the grace period


def test_executor_decommission_control_twin_only_loses_the_switch() -> None:
    app = _application()
    twin = control_twin(app)
    without_decommission(twin)
    assert SWITCH not in twin["spec"]["sparkConf"]
    assert SWITCH in app["spec"]["sparkConf"]
    left = set(app["spec"]["sparkConf"]) - set(twin["spec"]["sparkConf"])
    assert left == {SWITCH}


# The eviction: answered 201, then proven terminating.


class FakeCore:
    """read_namespaced_pod answers in turn (the last repeats; None: 404); evictions are
    answered ``answer``."""

    def __init__(self, reads: list[Any], answer: int = 201) -> None:
        self.reads, self.answer = reads, answer
        self.evictions: list[dict[str, Any]] = []

    def read_namespaced_pod(self, name: str, namespace: str) -> Any:
        pod = self.reads.pop(0) if len(self.reads) > 1 else self.reads[0]
        if pod is None:
            raise client.ApiException(status=404, reason="Not Found")
        return pod

    def create_namespaced_pod_eviction(self, name: str, namespace: str, body: Any) -> None:
        self.evictions.append(body)
        if self.answer != 201:
            raise client.ApiException(status=self.answer, reason="Too Many Requests")


def _pod(uid: str = "uid-1", deleting: bool = False) -> SimpleNamespace:
    return SimpleNamespace(
        metadata=SimpleNamespace(
            uid=uid,
            name="events-stream-exec-1",
            deletion_timestamp=datetime.now(UTC) if deleting else None,
            deletion_grace_period_seconds=30 if deleting else None,
        ),
        spec=SimpleNamespace(node_name="spark-chaos-worker", termination_grace_period_seconds=30),
    )


@pytest.fixture
def scope() -> SimpleNamespace:
    return SimpleNamespace(api=object(), rollbacks=Rollbacks(), timeline=Timeline())


def _install(monkeypatch: pytest.MonkeyPatch, core: FakeCore) -> None:
    monkeypatch.setattr(evictions.client, "CoreV1Api", lambda api: core)


def test_eviction_lands_when_answered_201_and_the_pod_terminates(monkeypatch, scope) -> None:
    core = FakeCore([_pod(), _pod(deleting=True)])
    _install(monkeypatch, core)
    evidence = evictions.evict(scope, "spark-pipeline", "events-stream-exec-1")
    assert evidence["answer"] == 201
    assert evidence["uid"] == "uid-1"
    assert evidence["grace_seconds"] == 30
    assert evidence["evicted"] == "terminating (deletionGracePeriodSeconds 30)"
    assert core.evictions[0]["deleteOptions"] == {"preconditions": {"uid": "uid-1"}}


def test_an_eviction_a_budget_refuses_did_not_land(monkeypatch, scope) -> None:
    _install(monkeypatch, FakeCore([_pod()], answer=429))
    with pytest.raises(FaultNotLanded, match="answered 429"):
        evictions.evict(scope, "spark-pipeline", "events-stream-exec-1")


def test_evicting_a_missing_pod_did_not_land(monkeypatch, scope) -> None:
    _install(monkeypatch, FakeCore([None]))
    with pytest.raises(FaultNotLanded, match="no pod"):
        evictions.evict(scope, "spark-pipeline", "events-stream-exec-1")


def test_a_pod_that_never_terminates_after_201_did_not_land(monkeypatch, scope) -> None:
    _install(monkeypatch, FakeCore([_pod()]))
    with pytest.raises(FaultNotLanded, match="not terminating"):
        evictions.evict(scope, "spark-pipeline", "events-stream-exec-1", timeout=0.6)


def test_a_pod_gone_or_replaced_counts_as_evicted() -> None:
    assert evictions.terminating(None, "uid-1") == "gone"
    assert evictions.terminating(_pod("uid-2"), "uid-1") == "replaced by uid uid-2"
    assert evictions.terminating(_pod(), "uid-1") == ""


# How a pod's end is read.


def _status(terminated: Any = None, last: Any = None, name: str = "spark-kubernetes-executor"):
    return SimpleNamespace(
        name=name,
        state=SimpleNamespace(terminated=terminated),
        last_state=SimpleNamespace(terminated=last),
    )


def _ended(code: int, reason: str, message: str = "") -> SimpleNamespace:
    finished = datetime(2026, 12, 2, 12, 0, 0, tzinfo=UTC)
    return SimpleNamespace(
        exit_code=code, reason=reason, message=message, signal=None, finished_at=finished
    )


def test_termination_is_read_from_the_state_or_the_last_state() -> None:
    pod = SimpleNamespace(status=SimpleNamespace(container_statuses=[_status(_ended(0, "x"))]))
    ended = termination(pod, "spark-kubernetes-executor")
    assert ended is not None
    assert ended.exit_code == 0
    assert ended.finished_at == datetime(2026, 12, 2, 12, tzinfo=UTC).timestamp()
    pod.status.container_statuses = [_status(last=_ended(143, "Error", "decom.sh: sent"))]
    ended = termination(pod, "spark-kubernetes-executor")
    assert ended is not None
    assert (ended.exit_code, ended.message) == (143, "decom.sh: sent")
    pod.status.container_statuses = [_status()]
    assert termination(pod, "spark-kubernetes-executor") is None
    pod.status.container_statuses = None
    assert termination(pod, "spark-kubernetes-executor") is None


def test_pod_end_keeps_matching_lines_across_chunks_once() -> None:
    end = PodEnd(
        SimpleNamespace(configuration=None),
        "ns",
        "pod",
        "uid",
        "c",
        re.compile("decommission", re.IGNORECASE),
        timeout=1.0,
    )
    end.take("INFO Got assigned task 7\nINFO Decommission exec")
    end.take("utor 1.\nINFO Decommission executor 1.\nWARN Finished decommissioning")
    assert end.kept() == ["INFO Decommission executor 1."]
    end.take("\n")
    assert end.kept() == ["INFO Decommission executor 1.", "WARN Finished decommissioning"]


def test_prestop_command_reads_the_executor_containers_hook() -> None:
    hook = client.V1LifecycleHandler(_exec=client.V1ExecAction(command=["/opt/decom.sh"]))
    with_hook = client.V1Container(
        name="spark-kubernetes-executor", lifecycle=client.V1Lifecycle(pre_stop=hook)
    )
    pod = SimpleNamespace(spec=SimpleNamespace(containers=[with_hook]))
    assert prestop_command(pod) == ["/opt/decom.sh"]
    pod.spec.containers = [client.V1Container(name="spark-kubernetes-executor")]
    assert prestop_command(pod) is None


# The verdict's decisions.


def test_is_decommission_reads_the_drivers_removal_reason() -> None:
    assert is_decommission(DECOMMISSIONED)
    assert is_decommission("Finished decommissioning")
    assert not is_decommission(DISASSOCIATED)
    assert not is_decommission("The executor with id 1 exited with exit code 143(unexpected).")
    assert not is_decommission(None)


def test_only_the_jvms_own_decommissioning_lines_count() -> None:
    lines = [
        "INFO Backend: Registering SIGPWR handler to trigger decommissioning.",
        "2026-12-02T12:00:00Z decom.sh: sending SIGPWR to the JVM (pid 42) to decommission it",
        "INFO Backend: Decommission executor 1.",
        "INFO Backend: Checking to see if we can shutdown.",
        "INFO Backend: Executor self-exiting due to : Finished decommissioning",
    ]
    assert jvm_decommission_lines(lines) == [lines[2], lines[4]]
    assert jvm_decommission_lines(lines[:2]) == []


def test_removal_is_the_inactive_row_of_that_executor() -> None:
    rows = [
        {"id": "driver", "isActive": True, "failedTasks": 0},
        {"id": "1", "isActive": False, "removeReason": DECOMMISSIONED, "failedTasks": 1},
        {"id": "2", "isActive": True, "failedTasks": None},
    ]
    assert removal(rows, "1") == rows[1]
    assert removal(rows, "2") is None
    assert removal(rows, "3") is None
    assert failed_tasks(rows) == 1


def _termination(code: int, reason: str = "Completed") -> Termination:
    return Termination(code, reason, "decom.sh: sending SIGPWR", None, 1.0)


PASSING: dict[str, Any] = {
    "hook": ["/opt/decom.sh"],
    "script": "/opt/decom.sh",
    "ended": _termination(0),
    "jvm_lines": ["INFO Backend: Decommission executor 1."],
    "removed": {"id": "1", "isActive": False, "removeReason": DECOMMISSIONED},
    "failed": 0,
}


def test_a_decommissioned_executor_passes_every_check() -> None:
    assert decommission_failures(**PASSING) == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"hook": None}, "no preStop hook"),
        ({"ended": _termination(SIGTERM_EXIT, "Error")}, "exit 143 Error, not exit 0"),
        ({"ended": _termination(137, "Error")}, "exit 137"),
        ({"jvm_lines": []}, "no decommissioning line"),
        ({"removed": None}, "does not list the executor as removed"),
        (
            {"removed": {"id": "1", "isActive": False, "removeReason": DISASSOCIATED}},
            "not a decommission",
        ),
        ({"failed": 2}, "2 task(s) failed"),
    ],
    ids=[
        "no_hook",
        "sigterm",
        "killed_after_grace",
        "no_jvm_line",
        "not_removed",
        "other_reason",
        "failed_tasks",
    ],
)
def test_an_executor_that_did_not_decommission_fails_for_that_reason(
    change: dict[str, Any], expected: str
) -> None:
    failures = decommission_failures(**{**PASSING, **change})
    assert len(failures) == 1
    assert expected in failures[0]


def test_the_controls_evidence_needs_sigterm_and_another_reason() -> None:
    sigterm, removed = _termination(SIGTERM_EXIT, "Error"), {"id": "1", "isActive": False}
    evidence = sigterm_evidence(sigterm, {**removed, "removeReason": DISASSOCIATED})
    assert evidence == {
        "exit_code": SIGTERM_EXIT,
        "termination_reason": "Error",
        "remove_reason": DISASSOCIATED,
    }
    assert sigterm_evidence(sigterm, {**removed, "removeReason": DECOMMISSIONED}) == {}
    assert sigterm_evidence(_termination(0), {**removed, "removeReason": DISASSOCIATED}) == {}
    assert sigterm_evidence(None, {**removed, "removeReason": DISASSOCIATED}) == {}
    assert sigterm_evidence(sigterm, None) == {}


# The mechanism's parts in the runner's order, against a fake application and pod end.


class FakeEnd:
    """A PodEnd whose end the test sets."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.ending: Termination | None = None
        self.lines: list[str] = []
        self.log_read, self.log_error, self.watch_error = True, "", ""
        self.stopped = False

    def start(self) -> FakeEnd:
        return self

    def stop(self) -> None:
        self.stopped = True

    def ended(self) -> Termination | None:
        return self.ending

    def kept(self) -> list[str]:
        return list(self.lines)

    def wait(self, timeout: float) -> bool:
        return True


def _executor(number: int, hook: list[str] | None) -> SimpleNamespace:
    lifecycle = None
    if hook is not None:
        handler = client.V1LifecycleHandler(_exec=client.V1ExecAction(command=hook))
        lifecycle = client.V1Lifecycle(pre_stop=handler)
    container = client.V1Container(name="spark-kubernetes-executor", lifecycle=lifecycle)
    return SimpleNamespace(
        metadata=SimpleNamespace(
            name=f"events-stream-exec-{number}",
            uid=f"uid-exec-{number}",
            labels={"spark-exec-id": str(number)},
        ),
        spec=SimpleNamespace(containers=[container], termination_grace_period_seconds=30),
    )


class FakeApp:
    """Two executors and a driver; the driver's REST rows are the test's to change."""

    def __init__(self, hook: list[str] | None) -> None:
        self.driver_pod = SimpleNamespace(metadata=SimpleNamespace(name="driver", uid="uid-d"))
        self.executors = [_executor(1, hook), _executor(2, hook)]
        self.rows: list[dict[str, Any]] = [
            {"id": "driver", "isActive": True, "failedTasks": 0},
            {"id": "1", "isActive": True, "failedTasks": 0},
            {"id": "2", "isActive": True, "failedTasks": 0},
        ]

    def get(self) -> dict[str, Any]:
        return {"spec": {"executor": {"instances": 2}, "sparkConf": {}}}

    def pods(self, role: str, ready: bool = False) -> list[Any]:
        return [self.driver_pod] if role == "driver" else list(self.executors)

    def pod_names(self, role: str) -> set[str]:
        return {p.metadata.name for p in self.pods(role)}

    def driver(self) -> Any:
        return self.driver_pod

    def driver_executors(self) -> list[dict[str, Any]]:
        return [dict(r) for r in self.rows]

    def spark_conf(self, key: str, default: str) -> str:
        return default

    def metric(self, name: str) -> str:
        return name

    def state(self) -> Any:
        return SimpleNamespace(state="RUNNING", attempts=1)

    def replace(self, reason: str) -> None:
        """Executor 1 removed for reason; executor 3 takes its place."""
        self.rows[1] = {"id": "1", "isActive": False, "removeReason": reason, "failedTasks": 0}
        self.rows.append({"id": "3", "isActive": True, "failedTasks": 0})
        self.executors = [self.executors[1], _executor(3, None)]


def _mechanism(
    monkeypatch: pytest.MonkeyPatch, hook: list[str] | None, control: bool
) -> tuple[Any, FakeApp]:
    app = FakeApp(hook)
    core = SimpleNamespace(
        read_namespaced_pod=lambda name, ns: next(
            p for p in app.executors if p.metadata.name == name
        ),
        read_namespaced_pod_log=lambda *args, **kwargs: "WARN Received executor 1 decommissioned",
    )
    ctx = SimpleNamespace(
        app=app,
        control_app=app,
        core=core,
        api=object(),
        namespace="spark-pipeline",
        rollbacks=Rollbacks(),
        timeline=Timeline(),
        metric_eventually=lambda promql, good, timeout: time.time() + 60,
    )
    monkeypatch.setattr(module, "PodEnd", FakeEnd)
    monkeypatch.setattr(module, "evict", lambda scope, ns, name: {"pod": name, "answer": 201})
    mechanism = module.ExecutorDecommission(ctx, negative_control=control)
    assert mechanism.steady_state()[0] is True
    mechanism.outcome.bound = mechanism.bound()
    return mechanism, app


def test_executor_decommission_that_decommissions_passes_its_checks(monkeypatch) -> None:
    m, app = _mechanism(monkeypatch, ["/opt/decom.sh"], control=False)
    assert m.outcome.bound.terms[0].seconds == 30
    landed = m.strike()
    assert landed["executor_id"] == "1"
    assert landed["prestop"] == ["/opt/decom.sh"]
    app.replace(DECOMMISSIONED)
    m.end.ending = Termination(0, "Completed", "decom.sh: sending SIGPWR", None, time.time())
    m.end.lines = ["INFO Decommission executor 1.", "INFO Migrated shuffle_0_1 to peer"]
    at, _ = m.recovered()
    assert at is not None
    m.outcome.mttr_seconds = m.mttr(at)
    m.check()
    assert m.outcome.failures == []
    assert m.outcome.evidence["shuffle_blocks_migrated"] == 1
    assert m.outcome.evidence["driver_removal"]["removeReason"] == DECOMMISSIONED


def test_executor_decommission_killed_by_sigterm_fails_for_it(monkeypatch) -> None:
    m, app = _mechanism(monkeypatch, ["/opt/decom.sh"], control=False)
    m.strike()
    app.replace(DISASSOCIATED)
    m.end.ending = Termination(SIGTERM_EXIT, "Error", "", None, time.time())
    m.end.lines = ["INFO RECEIVED SIGNAL TERM"]
    m.outcome.mttr_seconds = 10.0
    m.check()
    text = " ".join(m.outcome.failures)
    assert "exit 143" in text
    assert "not a decommission" in text
    assert "no decommissioning line" in text


def test_executor_decommission_control_sees_sigterm_and_not_a_decommission(monkeypatch) -> None:
    m, app = _mechanism(monkeypatch, None, control=True)
    m.strike()
    assert m.control_failed()[0] is None  # nothing ended yet
    assert m.control_healed()[0] is None
    app.replace(DISASSOCIATED)
    m.end.ending = Termination(SIGTERM_EXIT, "Error", "", None, time.time())
    evidence, _ = m.control_failed()
    assert evidence is not None
    assert evidence["exit_code"] == SIGTERM_EXIT
    assert evidence["remove_reason"] == DISASSOCIATED
    assert evidence["prestop"] is None


def test_executor_decommission_control_that_decommissions_healed(monkeypatch) -> None:
    m, app = _mechanism(monkeypatch, None, control=True)
    m.strike()
    app.replace(DECOMMISSIONED)
    m.end.ending = Termination(0, "Completed", "", None, time.time())
    assert m.control_failed()[0] is None
    assert m.control_healed()[0] is not None


def test_executor_decommission_control_whose_twin_kept_the_hook_is_inconclusive(
    monkeypatch,
) -> None:
    m, _ = _mechanism(monkeypatch, ["/opt/decom.sh"], control=True)
    with pytest.raises(Inconclusive, match="not switched off"):
        m.strike()


def test_pod_end_sees_the_end_the_deleted_event_carries_and_the_log(monkeypatch) -> None:
    from harness.observe import pod_end

    running = SimpleNamespace(
        metadata=SimpleNamespace(uid="uid-1"),
        status=SimpleNamespace(container_statuses=[_status()]),
    )
    deleted = SimpleNamespace(
        metadata=SimpleNamespace(uid="uid-1"),
        status=SimpleNamespace(container_statuses=[_status(_ended(0, "Completed", "bye"))]),
    )

    class Watch:
        def stream(self, func: Any, *args: Any, **kwargs: Any) -> Any:
            assert kwargs["field_selector"] == "metadata.name=events-stream-exec-1"
            yield {"type": "MODIFIED", "object": running}
            yield {"type": "DELETED", "object": deleted}

        def stop(self) -> None:
            pass

    class Log:
        def stream(self, amount: int, decode_content: bool) -> Any:
            yield b"INFO Decommission executor 1.\nINFO Got assigned task 9\n"
            yield b"INFO Executor self-exiting due to : Finished decommissioning"

        def close(self) -> None:
            pass

    core = SimpleNamespace(
        list_namespaced_pod=lambda *args, **kwargs: None,
        read_namespaced_pod_log=lambda *args, **kwargs: Log(),
    )
    monkeypatch.setattr(pod_end.watch, "Watch", Watch)
    monkeypatch.setattr(pod_end.client, "CoreV1Api", lambda api: core)
    monkeypatch.setattr(
        pod_end.client, "ApiClient", lambda configuration: SimpleNamespace(close=lambda: None)
    )
    timeline = Timeline()
    end = PodEnd(
        SimpleNamespace(configuration=None),
        "spark-pipeline",
        "events-stream-exec-1",
        "uid-1",
        "spark-kubernetes-executor",
        re.compile("decommission", re.IGNORECASE),
        timeout=10.0,
        timeline=timeline,
    ).start()
    assert end.wait(5.0), end.watch_error
    end.stop()
    ended = end.ended()
    assert ended is not None
    assert (ended.exit_code, ended.reason, ended.message) == (0, "Completed", "bye")
    assert end.kept() == [
        "INFO Decommission executor 1.",
        "INFO Executor self-exiting due to : Finished decommissioning",
    ]
    assert end.log_read
    assert any("ended exit 0 Completed" in e.what for e in timeline.ordered())
