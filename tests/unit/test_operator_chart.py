"""The offline render of the Spark operator chart from 04-spark-operator-helm-values.yaml."""

from __future__ import annotations

import copy

import pytest

from harness.deploy.manifests import load_documents
from harness.deploy.operator_chart import render_operator
from harness.errors import InvalidInput

SOURCE = "04-spark-operator-helm-values.yaml"


def _values() -> dict[str, object]:
    return load_documents(SOURCE, {})[0]


def test_renders_deployment_with_chart_arguments() -> None:
    deployment, service = render_operator(_values(), "img:1", SOURCE)
    spec = deployment["spec"]
    container = spec["template"]["spec"]["containers"][0]
    assert spec["replicas"] == 2
    assert container["image"] == "img:1"
    args = container["args"]
    assert args[:2] == ["controller", "start"]
    assert "--namespaces=spark-pipeline" in args
    assert "--leader-election=true" in args
    assert "--enable-metrics=true" in args
    assert "--metrics-bind-address=:8080" in args
    assert spec["template"]["spec"]["serviceAccountName"] == "spark-operator-controller"
    assert service["spec"]["ports"][0]["port"] == 8080


def test_unknown_key_names_file_and_field() -> None:
    values = copy.deepcopy(_values())
    values["controller"]["replicaCount"] = 3  # type: ignore[index]
    with pytest.raises(InvalidInput) as info:
        render_operator(values, "img:1", SOURCE)
    assert "controller.replicaCount" in str(info.value)
    assert SOURCE in str(info.value)


def test_wrong_type_is_rejected() -> None:
    values = copy.deepcopy(_values())
    values["controller"]["replicas"] = "two"  # type: ignore[index]
    with pytest.raises(InvalidInput) as info:
        render_operator(values, "img:1", SOURCE)
    assert "controller.replicas" in str(info.value)


def test_webhook_cannot_be_enabled_offline() -> None:
    values = copy.deepcopy(_values())
    values["webhook"]["enable"] = True  # type: ignore[index]
    with pytest.raises(InvalidInput, match=r"webhook\.enable"):
        render_operator(values, "img:1", SOURCE)
