"""After every chaos test: proof that the cluster and the pipeline are whole again.

Checked from the real cluster: every node Ready and schedulable; no NetworkPolicy or pod
the harness added (``harness.local/chaos``); every NetworkPolicy 07 declares present (an
isolation sets them aside) and every PodDisruptionBudget 06 declares present with its
declared spec; the SparkApplication RUNNING, its spec as 05 declares it (harness.drift:
restartPolicy, sparkConf, executor instances, the pod templates' tolerations and volumes
compared whole, the rest by declaration); every alert 08 declares loaded in Prometheus;
the checkpoint volume not full and no fill file left on the pipeline's claims; and the
stream making progress.

A probe that cannot be read (no volume-stats series, no reader pod, Prometheus down) is
itself a problem: a check that is silently skipped would pass a broken pipeline.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from typing import Any

from kubernetes import client

from harness.cluster.timing import parse_duration
from harness.deploy.manifests import MANIFESTS, load_documents
from harness.drift import SPARK_APPLICATION_EXACT, drift
from harness.integrity.collect import READER, ensure_reader
from harness.kube import exec_in_pod
from harness.observe.prometheus import Prometheus
from harness.observe.wait import wait_until
from harness.spark_application import APP, NAMESPACE, SparkApplication

__all__ = [
    "CHAOS_LABEL",
    "CORDON_MARK",
    "FILL_FILE",
    "READER_MOUNTS",
    "REPLICAS_MARK",
    "SET_ASIDE_MARK",
    "application_problems",
    "broken_invariants",
    "budget_problems",
    "declared_documents",
    "rule_problems",
    "wait_whole",
]

CHAOS_LABEL = "harness.local/chaos"
"""Every object a fault creates carries this label, so leftovers can be found."""
CORDON_MARK = "harness.local/chaos-cordon"
"""On a node the harness cordoned; removed when it uncordons it (harness.chaos.leftovers)."""
SET_ASIDE_MARK = "harness.local/chaos-set-aside"
"""On an isolation's deny-all policy: the policies it set aside (JSON), to restore them."""
REPLICAS_MARK = "harness.local/chaos-replicas"
"""On a Deployment the harness scaled to zero: the replicas it had; removed on restore."""
FILL_FILE = ".harness-fill"
"""What a volume fill writes at the claim's root (harness.chaos.volumes)."""
READER_MOUNTS = ("/checkpoint", "/data/sink")
"""The pipeline's claims as the reader pod (harness.integrity.collect) mounts them."""
PROGRESS_WITHIN = 60.0
"""Trigger 5 s, scrape 5-10 s: a minute without progress is not a healthy stream."""
READER_TIMEOUT = 60.0
"""Creating the reader pod when none runs: a cached image, one small container."""

Documents = list[dict[str, Any]]


def declared_documents(name: str, image_values: Mapping[str, str] | None = None) -> Documents:
    """A pipeline manifest's documents, rendered with image values when given.

    Without them, each ``@placeholder@`` is left in place, and harness.drift does not
    compare those fields: the rest of the manifest is still checked.
    """
    if image_values is None:
        names = set(re.findall(r"@([a-z_]+)@", (MANIFESTS / name).read_text()))
        return load_documents(name, {n: f"@{n}@" for n in names})
    return load_documents(name, dict(image_values))


def broken_invariants(
    api: client.ApiClient,
    prom: Prometheus,
    image_values: Mapping[str, str] | None = None,
    app_patch: Callable[[dict[str, Any]], None] | None = None,
) -> list[str]:
    """What is not whole; empty when the cluster and the pipeline are.

    ``image_values`` (@role_image@ → image) lets the SparkApplication's image be compared
    with 05's and names the tools image for the reader pod when none runs; without them
    images are not compared and the reader is made from the live ingest Deployment's image.
    ``app_patch`` is a test-only change of 05's application the run made on purpose (a
    property search's planted weakness): the live application is compared with 05 as
    patched.
    """
    core = client.CoreV1Api(api)
    checks: list[tuple[str, Callable[[], list[str]]]] = [
        ("nodes", lambda: _node_problems(core)),
        ("network policies", lambda: _policy_problems(api)),
        ("chaos pods", lambda: _chaos_pods(core)),
        ("disruption budgets (06)", lambda: _budgets(api)),
        ("SparkApplication (05)", lambda: _application(api, prom, image_values, app_patch)),
        ("alert rules (08)", lambda: _rules(prom, image_values)),
        ("checkpoint volume usage", lambda: _volume_usage(prom)),
        ("fill files", lambda: _fill_files(api, image_values)),
        ("streaming progress", lambda: _progress(prom)),
    ]
    problems: list[str] = []
    for what, check in checks:
        try:
            problems += check()
        except Exception as exc:  # an unreadable probe proves nothing whole
            problems.append(f"{what} could not be checked: {type(exc).__name__}: {exc}")
    return problems


def _node_problems(core: client.CoreV1Api) -> list[str]:
    problems = []
    for node in core.list_node().items:
        ready = [c.status for c in node.status.conditions or [] if c.type == "Ready"]
        if ready != ["True"]:
            problems.append(f"node {node.metadata.name} Ready={ready}")
        if node.spec.unschedulable:
            problems.append(f"node {node.metadata.name} is cordoned")
    return problems


def _policy_problems(api: client.ApiClient) -> list[str]:
    net = client.NetworkingV1Api(api)
    problems = [
        f"chaos NetworkPolicy {p.metadata.namespace}/{p.metadata.name} left"
        for p in net.list_network_policy_for_all_namespaces(label_selector=CHAOS_LABEL).items
    ]
    present = {
        (p.metadata.namespace, p.metadata.name)
        for p in net.list_network_policy_for_all_namespaces().items
    }
    declared = {
        (d["metadata"].get("namespace", "default"), d["metadata"]["name"])
        for d in declared_documents("07-networking.yaml")
        if d.get("kind") == "NetworkPolicy"
    }
    return problems + [f"NetworkPolicy {ns}/{name} (07) missing" for ns, name in declared - present]


def _chaos_pods(core: client.CoreV1Api) -> list[str]:
    return [
        f"chaos pod {p.metadata.namespace}/{p.metadata.name} left"
        for p in core.list_pod_for_all_namespaces(label_selector=CHAOS_LABEL).items
    ]


def _budgets(api: client.ApiClient) -> list[str]:
    live = client.PolicyV1Api(api).list_pod_disruption_budget_for_all_namespaces().items
    return budget_problems(
        declared_documents("06-autoscaling.yaml"),
        [api.sanitize_for_serialization(p) for p in live],
    )


def budget_problems(declared: Documents, live: Documents) -> list[str]:
    """Every PodDisruptionBudget the manifest declares exists, with its declared spec."""
    by_key = {(p["metadata"].get("namespace"), p["metadata"]["name"]): p for p in live}
    problems = []
    for doc in declared:
        if doc.get("kind") != "PodDisruptionBudget":
            continue
        key = (doc["metadata"].get("namespace", "default"), doc["metadata"]["name"])
        ref = f"PodDisruptionBudget {key[0]}/{key[1]} (06)"
        if key not in by_key:
            problems.append(f"{ref} missing")
            continue
        problems += [f"{ref}: {d}" for d in drift(doc["spec"], by_key[key].get("spec"), (), "spec")]
    return problems


def _application(
    api: client.ApiClient,
    prom: Prometheus,
    image_values: Mapping[str, str] | None,
    patch: Callable[[dict[str, Any]], None] | None = None,
) -> list[str]:
    declared = next(
        d
        for d in declared_documents("05-spark-application.yaml", image_values)
        if d["kind"] == "SparkApplication" and d["metadata"]["name"] == APP
    )
    if patch is not None:
        patch(declared)
    try:
        live = SparkApplication(api, prom, dict(image_values or {})).get()
    except client.ApiException as exc:
        if exc.status == 404:
            return [f"SparkApplication {NAMESPACE}/{APP} (05) missing"]
        raise
    return application_problems(declared, live)


def application_problems(declared: dict[str, Any], live: dict[str, Any]) -> list[str]:
    """The live SparkApplication RUNNING, and its spec as the manifest declares it.

    Pure: the comparison is tested with a recorded object (tests/unit/data).
    """
    name = declared["metadata"]["name"]
    problems = []
    state = (live.get("status") or {}).get("applicationState", {}).get("state")
    if state != "RUNNING":
        problems.append(f"SparkApplication {name} is {state}, not RUNNING")
    differences = drift(declared["spec"], live.get("spec"), SPARK_APPLICATION_EXACT, "spec")
    return problems + [f"SparkApplication {name} differs from 05: {d}" for d in differences]


def _rules(prom: Prometheus, image_values: Mapping[str, str] | None) -> list[str]:
    declared = declared_documents("08-monitoring.yaml", image_values)
    return rule_problems(declared, prom.api("rules").get("groups") or [])


def rule_problems(declared: Documents, loaded_groups: list[dict[str, Any]]) -> list[str]:
    """Every alert the manifest's PrometheusRules declare is loaded, healthy, with its ``for``.

    ``loaded_groups`` is the ``groups`` field of Prometheus' /api/v1/rules.
    """
    loaded = {
        r["name"]: r
        for g in loaded_groups
        for r in g.get("rules") or []
        if r.get("type") == "alerting"
    }
    problems = []
    for doc in declared:
        if doc.get("kind") != "PrometheusRule":
            continue
        for group in doc["spec"]["groups"]:
            for rule in group["rules"]:
                if "alert" not in rule:
                    continue
                name = rule["alert"]
                if name not in loaded:
                    problems.append(f"alert {name} (08) not loaded in Prometheus")
                    continue
                problems += _rule_state(name, rule, loaded[name])
    return problems


def _rule_state(name: str, declared: dict[str, Any], loaded: dict[str, Any]) -> list[str]:
    problems = []
    if loaded.get("health") == "err":
        problems.append(f"alert {name} fails to evaluate: {loaded.get('lastError', '')}")
    try:
        wanted = parse_duration(str(declared.get("for", "0s")))
    except ValueError:
        return problems  # a duration this parser does not read: not compared
    if abs(float(loaded.get("duration", 0)) - wanted) > 1e-6:
        problems.append(
            f"alert {name} loaded with for {loaded.get('duration')}s, 08 declares {wanted:g}s"
        )
    return problems


def _volume_usage(prom: Prometheus) -> list[str]:
    rows = prom.query(
        'kubelet_volume_stats_available_bytes{persistentvolumeclaim="spark-checkpoint"}'
        ' / kubelet_volume_stats_capacity_bytes{persistentvolumeclaim="spark-checkpoint"}'
    )
    if not rows:
        return ["checkpoint volume usage unknown: Prometheus has no kubelet_volume_stats series"]
    free = min(v for _, v in rows)
    return [f"checkpoint volume {100 * (1 - free):.0f}% full"] if free < 0.5 else []


def _fill_files(api: client.ApiClient, image_values: Mapping[str, str] | None) -> list[str]:
    """Fill files left on the pipeline's claims, seen through the reader pod.

    A reader that does not run is created (harness.integrity.collect.ensure_reader):
    without it there is no proof that no fill file is left.
    """
    core = client.CoreV1Api(api)
    image = (image_values or {}).get("tools_image") or _live_tools_image(api)
    if image is None:
        return ["fill files unknown: no reader pod, and no tools image to create one"]
    ensure_reader(core, image, READER_TIMEOUT)
    paths = [f"{m}/{FILL_FILE}" for m in READER_MOUNTS]
    script = "; ".join(f"test -e {p} && echo {p}" for p in paths) + "; true"
    code, out = exec_in_pod(core, NAMESPACE, READER, ["sh", "-c", script], 20)
    if code != 0:
        return [f"fill files unknown: the reader's check exited {code}: {out.strip()[-200:]}"]
    return [f"fill file {line} left" for line in out.split() if line in paths]


def _live_tools_image(api: client.ApiClient) -> str | None:
    """The tools image as deployed: 05 runs the ingest Deployment from @tools_image@."""
    try:
        ingest = client.AppsV1Api(api).read_namespaced_deployment("ingest", NAMESPACE)
    except client.ApiException as exc:
        if exc.status == 404:
            return None
        raise
    image: str = ingest.spec.template.spec.containers[0].image
    return image


def _progress(prom: Prometheus) -> list[str]:
    progress = prom.query('max(spark_stream_last_progress_timestamp_seconds{query="events"})')
    if not progress:
        return ["no streaming progress reported to Prometheus"]
    late = time.time() - progress[0][1]
    return [f"no streaming progress for {late:.0f}s"] if late > PROGRESS_WITHIN else []


def wait_whole(
    api: client.ApiClient,
    prom: Prometheus,
    timeout: float,
    image_values: Mapping[str, str] | None = None,
) -> None:
    """Wait until no invariant is broken; WaitTimeout names the ones still broken."""

    def whole() -> tuple[bool | None, str]:
        problems = broken_invariants(api, prom, image_values)
        return (True if not problems else None), "; ".join(problems)

    wait_until("the cluster and the pipeline whole again", whole, timeout, 5.0)
