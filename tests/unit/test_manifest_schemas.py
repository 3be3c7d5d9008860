"""The pipeline manifests against the Kubernetes and CRD schemas, and the validator itself."""

import re
from pathlib import Path

import pytest
import yaml

from harness.deploy.operator_chart import render_operator
from harness.deploy.validate import builtin_schema_version, pipeline_crd_schemas, validate_documents

MANIFESTS = Path(__file__).parents[2] / "manifests"
PLACEHOLDER = re.compile(r"@[a-z_]+@")
DUMMY = "example.invalid/placeholder:1"
"""Every @name@ becomes this: placeholders are whole scalar strings, images mostly."""


def pipeline_manifests() -> list[Path]:
    """01-namespace.yaml ... 10-disaster-recovery.yaml (not kind-cluster.yaml)."""
    return sorted(p for p in MANIFESTS.glob("*.yaml") if re.match(r"^\d\d-", p.name))


def platform_manifests() -> list[Path]:
    return sorted((MANIFESTS / "platform").glob("*.yaml"))


def documents(path: Path) -> list[tuple[str, dict]]:
    text = PLACEHOLDER.sub(DUMMY, path.read_text())
    docs = [doc for doc in yaml.safe_load_all(text) if doc is not None]
    if path.name.endswith("-helm-values.yaml"):
        # Helm values, not objects: check what the offline chart renderer makes of them
        (values,) = docs
        docs = render_operator(values, DUMMY, path.name)
    return [(path.name, doc) for doc in docs]


def parse(text: str) -> list[tuple[str, dict]]:
    return [("inline.yaml", doc) for doc in yaml.safe_load_all(text) if doc is not None]


@pytest.fixture(scope="module")
def crds():
    return pipeline_crd_schemas()


def test_there_are_ten_pipeline_manifests():
    names = [p.name for p in pipeline_manifests()]
    assert len(names) == 10, names
    assert names[0] == "01-namespace.yaml"
    assert names[-1] == "10-disaster-recovery.yaml"


@pytest.mark.parametrize("path", pipeline_manifests(), ids=lambda p: p.name)
def test_manifest_matches_the_api_schemas(path, crds):
    docs = documents(path)
    assert docs, f"{path.name} holds no objects"
    assert validate_documents(docs, crds=crds) == []


@pytest.mark.parametrize("path", platform_manifests(), ids=lambda p: f"platform/{p.name}")
def test_platform_manifest_matches_the_api_schemas(path, crds):
    docs = documents(path)
    assert docs, f"{path.name} holds no objects"
    assert validate_documents(docs, crds=crds) == []


def test_core_kinds_use_the_newest_bundled_schemas_up_to_the_cluster():
    assert builtin_schema_version("1.34") == "v1.34.0"
    assert builtin_schema_version("v1.34.4") == "v1.34.0"


DEPLOYMENT = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: pipeline}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
        - name: web
          image: example.invalid/placeholder:1
          ports: [{containerPort: 8080, name: http}]
          readinessProbe: {httpGet: {path: /, port: http}}
          livenessProbe: {httpGet: {path: /, port: 8080}}
          resources: {requests: {cpu: 100m, memory: 64Mi}, limits: {cpu: 1}}
"""


def test_a_valid_deployment_passes():
    # int-or-string ports take both; quantities take strings and numbers
    assert validate_documents(parse(DEPLOYMENT), crds={}) == []


def test_an_unknown_field_in_a_deployment_is_named():
    text = DEPLOYMENT.replace(
        "      containers:", "      restartPolicy: Always\n      contaners: []\n      containers:"
    )
    assert validate_documents(parse(text), crds={}) == [
        "inline.yaml: Deployment/web: spec.template.spec.contaners: unknown field "
        "(did you mean 'containers'?)"
    ]


def test_a_wrong_type_in_a_deployment_is_named():
    errors = validate_documents(parse(DEPLOYMENT.replace("replicas: 2", "replicas: two")), crds={})
    assert errors == [
        'inline.yaml: Deployment/web: spec.replicas: expected integer, got string "two"'
    ]


def test_a_missing_required_field_is_named():
    text = DEPLOYMENT.replace("        - name: web\n", "        -\n")
    errors = validate_documents(parse(text), crds={})
    assert errors == [
        "inline.yaml: Deployment/web: spec.template.spec.containers[0].name: "
        "required field is missing"
    ]


def test_an_unknown_kind_is_an_error_not_skipped():
    text = "apiVersion: example.invalid/v1\nkind: Widget\nmetadata: {name: w}\n"
    errors = validate_documents(parse(text), crds={})
    assert len(errors) == 1
    assert errors[0].startswith("inline.yaml: Widget/w: apiVersion, kind: no schema for")


def test_a_crd_kind_without_its_crd_is_an_error():
    text = "apiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\nmetadata: {name: r}\n"
    assert len(validate_documents(parse(text), crds={})) == 1


def test_a_same_named_kind_of_another_group_is_not_mistaken_for_a_core_kind():
    # autoscaling.k8s.io/v1 would map to the same schema file name as autoscaling/v1
    text = "apiVersion: autoscaling.k8s.io/v1\nkind: HorizontalPodAutoscaler\nmetadata: {name: h}\n"
    assert "no schema for" in validate_documents(parse(text), crds={})[0]


PROMETHEUS_RULE = """
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata: {name: pipeline-alerts, namespace: monitoring, labels: {role: alert-rules}}
spec:
  groups:
    - name: pipeline
      rules:
        - alert: StreamStalled
          expr: rate(spark_streaming_processed_records_total[5m]) == 0
          for: 5m
          labels: {severity: critical}
          annotations: {summary: stalled}
"""


def test_a_valid_prometheus_rule_passes(crds):
    assert validate_documents(parse(PROMETHEUS_RULE), crds=crds) == []


def test_a_bad_field_in_a_prometheus_rule_is_named(crds):
    text = PROMETHEUS_RULE.replace(
        "          for: 5m", "          for: 5m\n          severity: high"
    )
    assert validate_documents(parse(text), crds=crds) == [
        "inline.yaml: PrometheusRule/pipeline-alerts: spec.groups[0].rules[0].severity: "
        "unknown field (known fields: alert, annotations, expr, for, keep_firing_for, labels, "
        "record)"
    ]


def test_a_wrong_type_in_a_prometheus_rule_is_named(crds):
    text = PROMETHEUS_RULE.replace("rules:\n", "interval: [30s]\n      rules:\n")
    errors = validate_documents(parse(text), crds=crds)
    assert len(errors) == 1
    assert "PrometheusRule/pipeline-alerts: spec.groups[0].interval: expected string" in errors[0]


SPARK_APPLICATION = """
apiVersion: sparkoperator.k8s.io/v1beta2
kind: SparkApplication
metadata: {name: stream, namespace: pipeline}
spec:
  type: Python
  mode: cluster
  image: example.invalid/placeholder:1
  mainApplicationFile: local:///opt/app/stream.py
  sparkVersion: 4.2.0
  restartPolicy: {type: Always, onFailureRetryInterval: 10}
  sparkConf: {spark.sql.streaming.checkpointLocation: s3a://checkpoints/stream}
  driver:
    cores: 1
    memory: 512m
    serviceAccount: spark
    template:
      metadata: {labels: {app: stream}, annotations: {a: b}}
      spec:
        containers:
          - name: spark-kubernetes-driver
            ports: [{containerPort: 4040, name: ui}]
            livenessProbe: {httpGet: {path: /, port: ui}}
  executor:
    instances: 2
    cores: 1
    memory: 512m
"""


def test_a_valid_spark_application_passes(crds):
    assert validate_documents(parse(SPARK_APPLICATION), crds=crds) == []


def test_a_wrong_type_in_a_spark_application_is_named(crds):
    errors = validate_documents(
        parse(SPARK_APPLICATION.replace("instances: 2", "instances: two")), crds=crds
    )
    assert errors == [
        "inline.yaml: SparkApplication/stream: spec.executor.instances: expected integer, "
        'got string "two"'
    ]


def test_a_wrong_type_deep_in_the_spark_driver_template_is_named(crds):
    text = SPARK_APPLICATION.replace("containerPort: 4040", "containerPort: [4040]")
    errors = validate_documents(parse(text), crds=crds)
    assert errors == [
        "inline.yaml: SparkApplication/stream: "
        "spec.driver.template.spec.containers[0].ports[0].containerPort: "
        "expected integer, got array"
    ]


def test_an_unknown_field_in_a_spark_application_is_named(crds):
    text = SPARK_APPLICATION.replace("  executor:\n", "  executer: {}\n  executor:\n")
    errors = validate_documents(parse(text), crds=crds)
    assert errors == [
        "inline.yaml: SparkApplication/stream: spec.executer: unknown field "
        "(did you mean 'executor'?)"
    ]


def test_a_custom_objects_own_metadata_is_checked_as_object_meta(crds):
    text = SPARK_APPLICATION.replace(
        "metadata: {name: stream, namespace: pipeline}",
        "metadata: {name: stream, namespace: pipeline, generateName: s-, label: {tier: 2}}",
    )
    assert validate_documents(parse(text), crds=crds) == [
        "inline.yaml: SparkApplication/stream: metadata.label: unknown field "
        "(did you mean 'labels'?)"
    ]


PROMETHEUS = """
apiVersion: monitoring.coreos.com/v1
kind: Prometheus
metadata: {name: main, namespace: monitoring}
spec:
  replicas: 1
  storage:
    volumeClaimTemplate:
      metadata: {labels: {app: prometheus}, generateName: data-}
      spec:
        accessModes: [ReadWriteOnce]
        resources: {requests: {storage: 1Gi}}
"""


def test_embedded_metadata_is_checked_leniently(crds):
    assert validate_documents(parse(PROMETHEUS), crds=crds) == []
    text = PROMETHEUS.replace("{app: prometheus}", "{app: 2}")
    assert validate_documents(parse(text), crds=crds) == [
        "inline.yaml: Prometheus/main: spec.storage.volumeClaimTemplate.metadata.labels.app: "
        "expected string, got integer 2"
    ]


def test_a_crd_among_the_documents_counts():
    crd = """
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.invalid}
spec:
  group: example.invalid
  names: {kind: Widget, plural: widgets, singular: widget, listKind: WidgetList}
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              properties:
                port: {x-kubernetes-int-or-string: true, anyOf: [{type: integer}, {type: string}]}
                extra: {type: object, x-kubernetes-preserve-unknown-fields: true}
---
apiVersion: example.invalid/v1
kind: Widget
metadata: {name: a}
spec: {port: http, extra: {anything: [1, 2]}}
---
apiVersion: example.invalid/v1
kind: Widget
metadata: {name: b}
spec: {port: 8080, color: red}
---
apiVersion: example.invalid/v1
kind: Widget
metadata: {name: c}
spec: {port: [8080]}
"""
    assert validate_documents(parse(crd), crds={}) == [
        "inline.yaml: Widget/b: spec.color: unknown field (known fields: extra, port)",
        "inline.yaml: Widget/c: spec.port: expected integer or string, got array",
    ]
