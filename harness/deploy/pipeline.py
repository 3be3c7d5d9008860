"""`harness pipeline up`: images into the cluster, CRDs, then the manifests layer by layer.

Each layer is applied with server-side apply and waited on (deployments available,
jobs complete, claims bound, CRDs established, the SparkApplication RUNNING) before
the next one starts; the last wait is for data: rows counted by the streaming query.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from kubernetes import client

from harness.chaos.leftovers import sweep
from harness.cluster.kind import node_containers
from harness.cluster.shared_storage import check_visible_in_nodes
from harness.deploy.manifests import MANIFESTS, layers, load_documents
from harness.deploy.operator_chart import render_operator
from harness.deploy.operator_helm import chart_repo_reachable, helm_install_operator
from harness.deploy.readiness import not_ready
from harness.errors import StepFailed
from harness.images.crds import CRD_SOURCES, generate_crds, load_crds
from harness.images.pipeline import (
    PipelineImages,
    build_pipeline_images,
    upstream_pipeline_images,
)
from harness.images.source import LabImages
from harness.invariants import CHAOS_LABEL
from harness.kube import api_client
from harness.observe.prometheus import Prometheus, prometheus
from harness.observe.wait import wait_until
from harness.progress import note, phase
from harness.safety import CLUSTER_SCOPED_WRITES, check_fault_target
from harness.settings import LabSettings, PipelineVersions
from harness.spark_application import APP, GROUP, NAMESPACE, PLURAL, VERSION
from harness.steps import run

__all__ = ["PipelineResult", "pipeline_up"]

FIELD_MANAGER = "spark-chaos-harness"
LAYER_TIMEOUT = 420.0
DATA_TIMEOUT = 300.0


@dataclass(frozen=True)
class PipelineResult:
    """What came up and how long each part took."""

    images: PipelineImages
    seconds: dict[str, float]


OBSERVER_ROLES = ("prometheus", "alertmanager", "config_reloader")
"""Images the control plane needs too: 08 prefers it for Prometheus and Alertmanager."""


def pipeline_up(
    settings: LabSettings, lab: LabImages, named_context: str | None = None
) -> PipelineResult:
    """Deploy (or converge) the whole pipeline and wait until events reach the sink.

    The deployment writes cluster-scoped objects (CRDs, ClusterRoles, admission policies,
    PriorityClasses), so it is refused (UnsafeTarget), before anything is built, loaded
    or applied, on a cluster the harness did not create unless ``named_context`` (the
    user's --kube-context) names its context.
    """
    check_fault_target(settings, named_context, CLUSTER_SCOPED_WRITES)
    timings: dict[str, float] = {}
    begun = time.monotonic()
    with phase("pipeline images"):
        images = _images(settings, lab)
    timings["images"] = time.monotonic() - begun
    workers = sorted(n for n in node_containers(settings.cluster_name) if "worker" in n)
    step = time.monotonic()
    with phase(f"load images into {', '.join(workers)} (observers: the control plane too)"):
        load_images(lab.kind, settings.cluster_name, workers, list(images.refs.values()))
        control = sorted(n for n in node_containers(settings.cluster_name) if n not in workers)
        observers = [images.refs[role] for role in OBSERVER_ROLES if role in images.refs]
        load_images(lab.kind, settings.cluster_name, control, observers)
    timings["load"] = time.monotonic() - step
    check_visible_in_nodes(settings, workers)
    kubectl = _kubectl(settings, lab.kubectl)
    step = time.monotonic()
    with phase("CRDs (generated from the upstream Go API types)"):
        crd_docs: list[dict[str, Any]] = []
        for source in CRD_SOURCES:
            crd_docs += load_crds([generate_crds(source)])
        apply(kubectl, crd_docs)
        _wait_layer(settings, "CRDs", crd_docs, 120.0)
    timings["crds"] = time.monotonic() - step
    values = images.placeholders()
    step = time.monotonic()
    with phase("leftovers of an interrupted run (chaos marks)"), api_client(settings) as api:
        for undone in sweep(api, values.get("tools_image")):
            note(f"  {undone}")
    timings["sweep"] = time.monotonic() - step
    for layer in layers():
        step = time.monotonic()
        with phase(layer.name):
            docs = _layer_documents(layer.files, values, images)
            if layer.files[0].startswith("04-") and _use_helm(images):
                helm_install_operator(
                    settings,
                    MANIFESTS / layer.files[0],
                    images.refs["spark_operator"],
                    PipelineVersions(),
                )
                timings[layer.name] = time.monotonic() - step
                continue
            if layer.files[0] == "01-namespace.yaml":
                apply(kubectl, docs)
                apply(kubectl, [_job_configmap()])
            else:
                if "platform/vpa.yaml" in layer.files:
                    _ensure_vpa_certs(settings)
                _replace_changed_jobs(settings, docs)
                apply(kubectl, docs)
            _wait_layer(settings, layer.name, docs, LAYER_TIMEOUT)
        timings[layer.name] = time.monotonic() - step
    step = time.monotonic()
    with phase("data flowing (rows counted by the streaming query, read from Prometheus)"):
        wait_for_data(settings)
    timings["data"] = time.monotonic() - step
    timings["total"] = time.monotonic() - begun
    return PipelineResult(images, timings)


def _images(settings: LabSettings, lab: LabImages) -> PipelineImages:
    p = PipelineVersions()
    if lab.source == "offline":
        return build_pipeline_images(settings, lab.toolbox_image, p)
    offline = build_pipeline_images(settings, lab.toolbox_image, p, only=("tools",))
    return upstream_pipeline_images(p, offline.refs["tools"])


def current_image_values(settings: LabSettings) -> dict[str, str]:
    """@role_image@ values of the deployed pipeline: the images the build would use now
    (cached builds return at once; nothing is loaded or applied)."""
    from harness.images.source import resolve_images

    return _images(settings, resolve_images(settings)).placeholders()


def _use_helm(images: PipelineImages) -> bool:
    """Helm from the chart repository with upstream images; the offline render otherwise."""
    if images.source != "upstream":
        return False
    reachable = chart_repo_reachable(PipelineVersions())
    note(f"  operator chart repository {'reachable: helm' if reachable else 'unreachable: render'}")
    return reachable


def _layer_documents(
    files: tuple[str, ...], values: dict[str, str], images: PipelineImages
) -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = []
    for name in files:
        loaded = load_documents(name, values)
        if name.startswith("04-"):
            docs += render_operator(loaded[0], images.refs["spark_operator"], str(MANIFESTS / name))
        else:
            docs += loaded
    return docs


def _job_configmap() -> dict[str, Any]:
    source = MANIFESTS / "app" / "stream.py"
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": "events-stream-job",
            "namespace": NAMESPACE,
            "labels": {"app.kubernetes.io/part-of": "spark-pipeline"},
        },
        "data": {"stream.py": source.read_text()},
    }


def _replace_changed_jobs(settings: LabSettings, docs: list[dict[str, Any]]) -> None:
    """A Job's pod template is immutable: delete a Job whose containers changed, so the
    apply that follows creates it anew (a new image after a rebuild, new arguments)."""
    with api_client(settings) as api:
        batch = client.BatchV1Api(api)
        for doc in docs:
            if doc["kind"] != "Job":
                continue
            name, ns = doc["metadata"]["name"], doc["metadata"]["namespace"]
            try:
                live = batch.read_namespaced_job(name, ns)
            except client.ApiException as exc:
                if exc.status == 404:
                    continue
                raise
            wanted = [
                (c["image"], c.get("command"), c.get("args"))
                for c in doc["spec"]["template"]["spec"]["containers"]
            ]
            have = [(c.image, c.command, c.args) for c in live.spec.template.spec.containers]
            if wanted == have:
                continue
            note(f"  job {ns}/{name} changed: replacing it")
            batch.delete_namespaced_job(name, ns, propagation_policy="Foreground")

            def gone(name: str = name, ns: str = ns) -> tuple[bool | None, str]:
                try:
                    batch.read_namespaced_job(name, ns)
                except client.ApiException as exc:
                    if exc.status == 404:
                        return True, "deleted"
                    raise
                return None, "still there"

            wait_until(f"job {ns}/{name} deleted", gone, 120.0, 1.0)


def _kubectl(settings: LabSettings, binary: Path) -> list[str]:
    return [str(binary), "--kubeconfig", str(settings.kubeconfig), "--context", settings.context]


def apply(kubectl: list[str], docs: list[dict[str, Any]]) -> None:
    """Server-side apply: no 256 KiB annotation limit, conflicts resolved in our favour."""
    if not docs:
        return
    run(
        f"kubectl apply ({len(docs)} objects)",
        [
            *kubectl,
            "apply",
            "--server-side",
            "--force-conflicts",
            f"--field-manager={FIELD_MANAGER}",
            "-f",
            "-",
        ],
        input=yaml.safe_dump_all(docs).encode(),
        timeout=300,
    )


def _wait_layer(
    settings: LabSettings, name: str, docs: list[dict[str, Any]], timeout: float
) -> None:
    with api_client(settings) as api:

        def probe() -> tuple[bool | None, str]:
            waiting = not_ready(api, docs)
            return (True if not waiting else None), "; ".join(waiting[:6])

        wait_until(f"every object of layer {name!r} ready", probe, timeout, 2.0)


def wait_for_data(settings: LabSettings, timeout: float = DATA_TIMEOUT) -> float:
    """Wait until the streaming query has counted input rows; return the count."""
    with prometheus(settings) as prom, api_client(settings) as api:

        def probe() -> tuple[float | None, str]:
            rows = prom.query('sum(spark_stream_input_rows_total{query="events"})')
            total = rows[0][1] if rows else 0.0
            if total > 0:
                return total, ""
            return None, f"input rows counted: {total:.0f}; " + pipeline_state(api, prom)

        return wait_until("events flowing through the streaming query", probe, timeout, 3.0)


def pipeline_state(api: client.ApiClient, prom: Prometheus) -> str:
    """One line on why data may not flow: the application's state, the pipeline's pods
    that are not ready, the scrape targets that are down, chaos objects left in place."""
    parts = []
    try:
        app = client.CustomObjectsApi(api).get_namespaced_custom_object(
            GROUP, VERSION, NAMESPACE, PLURAL, APP
        )
        state = (app.get("status") or {}).get("applicationState") or {}
        parts.append(f"SparkApplication {state.get('state')} {state.get('errorMessage', '')}")
    except client.ApiException as exc:
        parts.append(f"SparkApplication unreadable ({exc.status})")
    core = client.CoreV1Api(api)
    unready = []
    for pod in core.list_namespaced_pod(NAMESPACE).items:
        statuses = pod.status.container_statuses or []
        if pod.status.phase == "Succeeded" or (statuses and all(c.ready for c in statuses)):
            continue
        waiting = [c.state.waiting.reason for c in statuses if c.state and c.state.waiting]
        unready.append(f"{pod.metadata.name} {pod.status.phase} {','.join(waiting)}".strip())
    parts.append(f"pods not ready: {unready or 'none'}")
    parts.append(f"targets down: {targets_down(prom) or 'none'}")
    policies = client.NetworkingV1Api(api).list_network_policy_for_all_namespaces(
        label_selector=CHAOS_LABEL
    )
    if policies.items:
        parts.append(f"chaos NetworkPolicies: {[p.metadata.name for p in policies.items]}")
    return "; ".join(parts)


def targets_down(prom: Prometheus) -> list[str]:
    """The scrape targets that are down, each with its last scrape error: a timeout (packets
    dropped, e.g. a NetworkPolicy not yet enforced for Prometheus) reads differently from a
    refused connection (nothing listening) or an HTTP error."""
    active = prom.api("targets", state="active").get("activeTargets", [])
    return [
        f"{labels.get('job', '?')}/{labels.get('pod', labels.get('instance', '?'))}"
        f" ({target.get('lastError') or 'no error recorded'})"
        for target in active
        if target.get("health") == "down"
        for labels in [target.get("labels") or {}]
    ]


def load_images(kind: Path, cluster: str, nodes: list[str], refs: list[str]) -> list[str]:
    """Load local images into the nodes' containerd, skipping those already there."""
    missing = [ref for ref in refs if not all(_on_node(node, ref) for node in nodes)]
    if missing:
        note(f"  loading {len(missing)} images: {', '.join(missing)}")
        with tempfile.TemporaryDirectory(prefix="harness-load-") as tmp:
            archive = Path(tmp) / "images.tar"
            run("docker save", ["docker", "save", "-o", str(archive), *missing], timeout=600)
            run(
                "kind load image-archive",
                [
                    str(kind),
                    "load",
                    "image-archive",
                    str(archive),
                    "--name",
                    cluster,
                    "--nodes",
                    ",".join(nodes),
                ],
                timeout=900,
            )
    return missing


def _on_node(node: str, ref: str) -> bool:
    local = run("image id", ["docker", "image", "inspect", "-f", "{{.Id}}", ref], check=False)
    if local.returncode != 0:
        raise StepFailed(f"find image {ref}", ["docker", "image", "inspect", ref], 1, "not built")
    image_id = local.stdout.decode().strip()
    remote = run(
        "image on node",
        [
            "docker",
            "exec",
            node,
            "crictl",
            "inspecti",
            "-o",
            "go-template",
            "--template",
            "{{.status.id}}",
            ref,
        ],
        check=False,
    )
    return remote.returncode == 0 and remote.stdout.decode().strip() == image_id


def _ensure_vpa_certs(settings: LabSettings) -> None:
    """The VPA admission controller's CA and serving certificate, made once with openssl."""
    with api_client(settings) as api:
        core = client.CoreV1Api(api)
        try:
            core.read_namespaced_secret("vpa-tls-certs", "kube-system")
            return
        except client.ApiException as exc:
            if exc.status != 404:
                raise
        with tempfile.TemporaryDirectory(prefix="harness-vpa-") as tmp:
            d = Path(tmp)
            service = "vpa-webhook.kube-system.svc"
            (d / "server.conf").write_text(
                "[req]\ndistinguished_name=dn\n[dn]\n[ext]\n"
                f"subjectAltName=DNS:{service}\nbasicConstraints=CA:FALSE\n"
                "keyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n"
            )
            openssl = shutil.which("openssl") or "openssl"
            steps = [
                [
                    openssl,
                    "req",
                    "-x509",
                    "-newkey",
                    "rsa:2048",
                    "-nodes",
                    "-days",
                    "3650",
                    "-subj",
                    "/CN=vpa_webhook_ca",
                    "-keyout",
                    "caKey.pem",
                    "-out",
                    "caCert.pem",
                ],
                [
                    openssl,
                    "req",
                    "-newkey",
                    "rsa:2048",
                    "-nodes",
                    "-subj",
                    f"/CN={service}",
                    "-keyout",
                    "serverKey.pem",
                    "-out",
                    "server.csr",
                    "-config",
                    "server.conf",
                ],
                [
                    openssl,
                    "x509",
                    "-req",
                    "-in",
                    "server.csr",
                    "-CA",
                    "caCert.pem",
                    "-CAkey",
                    "caKey.pem",
                    "-CAcreateserial",
                    "-days",
                    "3650",
                    "-out",
                    "serverCert.pem",
                    "-extfile",
                    "server.conf",
                    "-extensions",
                    "ext",
                ],
            ]
            for command in steps:
                subprocess.run(command, cwd=d, check=True, capture_output=True)
            data = {
                n: (d / n).read_text() for n in ("caCert.pem", "serverCert.pem", "serverKey.pem")
            }
            core.create_namespaced_secret(
                "kube-system",
                client.V1Secret(
                    metadata=client.V1ObjectMeta(name="vpa-tls-certs"), string_data=data
                ),
            )
