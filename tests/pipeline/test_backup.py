"""A manually triggered backup job succeeds and its objects exist, with checksums."""

from __future__ import annotations

import json
import uuid

from kubernetes import client

from harness.fixtures.pipeline import Pipeline
from harness.kube import exec_in_pod
from harness.observe.wait import wait_until
from tests.pipeline.conftest import NAMESPACE


def test_manual_backup_succeeds_and_objects_exist(pipeline: Pipeline) -> None:
    batch = client.BatchV1Api(pipeline.lab.api)
    cron = batch.read_namespaced_cron_job("checkpoint-backup", NAMESPACE)
    name = f"backup-manual-{uuid.uuid4().hex[:6]}"
    job = client.V1Job(
        metadata=client.V1ObjectMeta(
            name=name, annotations={"cronjob.kubernetes.io/instantiate": "manual"}
        ),
        spec=cron.spec.job_template.spec,
    )
    batch.create_namespaced_job(NAMESPACE, job)
    try:

        def finished() -> tuple[str | None, str]:
            status = batch.read_namespaced_job_status(name, NAMESPACE).status
            for cond in status.conditions or []:
                if cond.status == "True" and cond.type in ("Complete", "Failed"):
                    return cond.type, f"{cond.type}: {cond.message}"
            return None, f"active={status.active} failed={status.failed}"

        outcome = wait_until(f"job {name} finished", finished, 240.0, 2.0)
        assert outcome == "Complete", f"backup job {name} ended {outcome}"
        pods = pipeline.core.list_namespaced_pod(NAMESPACE, label_selector=f"job-name={name}")
        log = pipeline.core.read_namespaced_pod_log(pods.items[0].metadata.name, NAMESPACE)
        uploaded = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
        assert {u["key"].split("/")[0] for u in uploaded} == {"checkpoint", "sink"}, log
        listed = _list_backups(pipeline)
        for item in uploaded:
            assert item["key"] in listed, f"{item['key']} not in the bucket: {sorted(listed)}"
            assert listed[item["key"]]["sha256"] == item["sha256"]
    finally:
        batch.delete_namespaced_job(name, NAMESPACE, propagation_policy="Background")


def _list_backups(pipeline: Pipeline) -> dict[str, dict[str, str]]:
    """Objects in the bucket, read by our tools from inside the cluster."""
    from harness.integrity.collect import READER, ensure_reader

    ensure_reader(pipeline.core, pipeline.image("tools"))
    found: dict[str, dict[str, str]] = {}
    for prefix in ("checkpoint", "sink"):
        code, out = exec_in_pod(
            pipeline.core,
            NAMESPACE,
            READER,
            ["pipeline-tools", "list-backups", "--prefix", prefix],
            timeout=60,
        )
        assert code == 0, out
        for line in out.splitlines():
            if line.startswith("{"):
                item = json.loads(line)
                found[item["key"]] = item
    return found
