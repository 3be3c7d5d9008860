"""CRDs generated with controller-gen from the upstream API types (Go, module proxy)."""

import json
import time
from dataclasses import replace
from pathlib import Path

import pytest

from harness.errors import StepFailed
from harness.images.crds import CrdSource, crd_schemas, crd_sources, generate_crds, load_crds
from harness.settings import PipelineVersions

SOURCES = crd_sources(PipelineVersions())

MAX_CRD_JSON_BYTES = 128 * 1024
"""Bound on a CRD's compact JSON, what kubectl's last-applied annotation would hold.

Measured with controller-gen v0.21.0 and maxDescLen=0: the largest are Prometheus
(105,973 bytes), ScrapeConfig (104,493), SparkApplication (96,160) and
ScheduledSparkApplication (96,014); their YAML files are 260-282 KB (indentation). With
descriptions upstream's SparkApplication YAML is 798 KB. Half the 256 KiB annotation
limit, so even client-side apply would work; the harness applies CRDs server-side.
"""


@pytest.fixture(scope="module")
def generated() -> dict[str, Path]:
    return {name: generate_crds(source) for name, source in SOURCES.items()}


@pytest.fixture(scope="module")
def schemas(generated):
    return crd_schemas(generated.values())


@pytest.mark.parametrize(
    ("group", "version", "kind"),
    [
        ("sparkoperator.k8s.io", "v1beta2", "SparkApplication"),
        ("sparkoperator.k8s.io", "v1beta2", "ScheduledSparkApplication"),
        ("monitoring.coreos.com", "v1", "ServiceMonitor"),
        ("monitoring.coreos.com", "v1", "PodMonitor"),
        ("monitoring.coreos.com", "v1", "PrometheusRule"),
        ("monitoring.coreos.com", "v1", "Prometheus"),
        ("monitoring.coreos.com", "v1", "Alertmanager"),
        ("monitoring.coreos.com", "v1", "Probe"),
        ("monitoring.coreos.com", "v1alpha1", "AlertmanagerConfig"),
        ("monitoring.coreos.com", "v1alpha1", "ScrapeConfig"),
        ("autoscaling.k8s.io", "v1", "VerticalPodAutoscaler"),
        ("autoscaling.k8s.io", "v1", "VerticalPodAutoscalerCheckpoint"),
    ],
)
def test_generation_serves_the_expected_kinds(schemas, group, version, kind):
    schema = schemas[(group, version, kind)]
    assert schema["type"] == "object"
    assert "spec" in schema["properties"]


def test_spark_driver_template_is_in_the_schema(schemas):
    spec = schemas[("sparkoperator.k8s.io", "v1beta2", "SparkApplication")]["properties"]["spec"]
    for role in ("driver", "executor"):
        # upstream marks the *corev1.PodTemplateSpec Schemaless: any object, kept whole
        assert spec["properties"][role]["properties"]["template"] == {
            "type": "object",
            "x-kubernetes-preserve-unknown-fields": True,
        }


def test_spark_embedded_object_meta_is_generated(schemas):
    # generateEmbeddedObjectMeta=true, as upstream: the claim template's labels survive
    spec = schemas[("sparkoperator.k8s.io", "v1beta2", "SparkApplication")]["properties"]["spec"]
    ephemeral = spec["properties"]["volumes"]["items"]["properties"]["ephemeral"]
    metadata = ephemeral["properties"]["volumeClaimTemplate"]["properties"]["metadata"]
    assert {"labels", "annotations", "name"} <= set(metadata["properties"])


def test_only_the_pinned_api_versions_are_generated(schemas):
    groups = {(g, v) for g, v, _ in schemas}
    assert groups == {
        ("sparkoperator.k8s.io", "v1beta2"),
        ("sparkoperator.k8s.io", "v1alpha1"),
        ("monitoring.coreos.com", "v1"),
        ("monitoring.coreos.com", "v1alpha1"),
        ("autoscaling.k8s.io", "v1"),
    }


def test_every_crd_is_small_enough(generated):
    crds = load_crds(generated.values())
    assert len(crds) == 15
    for crd in crds:
        size = len(json.dumps(crd, separators=(",", ":")))
        assert size <= MAX_CRD_JSON_BYTES, f"{crd['metadata']['name']}: {size} bytes"


def test_descriptions_are_dropped(generated):
    def descriptions(node):
        if isinstance(node, list):
            return sum(descriptions(v) for v in node)
        if not isinstance(node, dict):
            return 0
        found = isinstance(node.get("description"), str)
        fields = node.get("properties", {})  # a field may be called "description"
        return (
            found
            + sum(descriptions(v) for k, v in node.items() if k != "properties")
            + sum(descriptions(v) for v in fields.values())
        )

    for crd in load_crds(generated.values()):
        for version in crd["spec"]["versions"]:  # printer columns keep theirs; they are short
            schema = version["schema"]["openAPIV3Schema"]
            assert descriptions(schema) == 0, crd["metadata"]["name"]


def test_the_cache_is_reused(generated):
    for name, source in SOURCES.items():
        stamp = {p: p.stat().st_mtime_ns for p in generated[name].iterdir()}
        started = time.monotonic()
        assert generate_crds(source) == generated[name]
        assert time.monotonic() - started < 5
        assert {p: p.stat().st_mtime_ns for p in generated[name].iterdir()} == stamp


def test_a_changed_option_is_a_new_recipe():
    source = SOURCES["vpa"]
    changed = replace(source, options=(*source.options, "allowDangerousTypes=false"))
    assert changed.recipe("gen") != source.recipe("gen")
    assert source.recipe("gen") != source.recipe("other controller-gen build")


def test_arguments_generate_each_package_tree_into_one_dir(tmp_path):
    args = SOURCES["prometheus-operator"].arguments(tmp_path)
    monitoring = "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring"
    assert args == [
        "crd:crdVersions=v1,maxDescLen=0",
        f"paths={monitoring}/v1/...",
        f"paths={monitoring}/v1alpha1/...",
        f"output:crd:dir={tmp_path}",
    ]


def test_a_failing_generation_is_a_step_failure(generated):
    broken = CrdSource(
        "vpa-broken-option",
        SOURCES["vpa"].module,
        SOURCES["vpa"].version,
        SOURCES["vpa"].packages,
        ("noSuchOption=true",),
    )
    with pytest.raises(StepFailed) as failure:
        generate_crds(broken)
    assert "controller-gen CRDs for vpa-broken-option" in str(failure.value)
    assert "crd-vpa-broken-option.log" in str(failure.value)
