"""CRDs generated with controller-gen from the upstream API types (Go, module proxy)."""

import time
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from harness.errors import StepFailed
from harness.images.crds import CrdSource, crd_schemas, crd_sources, generate_crds, load_crds
from harness.settings import PipelineVersions

SOURCES = crd_sources(PipelineVersions())

MAX_CRD_BYTES = {
    # Measured with controller-gen v0.21.0 and maxDescLen=0 (see the module docstring of
    # harness.images.crds); each bound leaves ~10% for upstream growth. A CRD over 256 KiB
    # only works with server-side apply, which is how the harness applies CRDs.
    "sparkapplications.sparkoperator.k8s.io": 0,
    "scheduledsparkapplications.sparkoperator.k8s.io": 0,
    "prometheuses.monitoring.coreos.com": 0,
    "prometheusagents.monitoring.coreos.com": 0,
    "alertmanagers.monitoring.coreos.com": 0,
    "thanosrulers.monitoring.coreos.com": 0,
}
DEFAULT_MAX_CRD_BYTES = 0
"""Every other CRD; these fit the 256 KiB client-side-apply annotation comfortably."""


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


def test_spark_driver_template_keeps_its_embedded_metadata(schemas):
    spec = schemas[("sparkoperator.k8s.io", "v1beta2", "SparkApplication")]["properties"]["spec"]
    for role in ("driver", "executor"):
        template = spec["properties"][role]["properties"]["template"]
        # generateEmbeddedObjectMeta=true: labels and annotations are not pruned
        assert {"labels", "annotations"} <= set(template["properties"]["metadata"]["properties"])
        assert "containers" in template["properties"]["spec"]["properties"]


def test_only_the_pinned_api_versions_are_generated(schemas):
    groups = {(g, v) for g, v, _ in schemas}
    assert groups == {
        ("sparkoperator.k8s.io", "v1beta2"),
        ("monitoring.coreos.com", "v1"),
        ("monitoring.coreos.com", "v1alpha1"),
        ("autoscaling.k8s.io", "v1"),
    }


def test_every_crd_is_small_enough(generated):
    for directory in generated.values():
        for path in directory.glob("*.yaml"):
            crd = yaml.safe_load(path.read_text())
            name = crd["metadata"]["name"]
            limit = MAX_CRD_BYTES.get(name, DEFAULT_MAX_CRD_BYTES)
            assert path.stat().st_size <= limit, f"{name}: {path.stat().st_size} > {limit}"


def test_descriptions_are_dropped(generated):
    def descriptions(node):
        if isinstance(node, dict):
            return ("description" in node) + sum(descriptions(v) for v in node.values())
        if isinstance(node, list):
            return sum(descriptions(v) for v in node)
        return 0

    for crd in load_crds(generated.values()):
        assert descriptions(crd["spec"]) == 0, crd["metadata"]["name"]


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
