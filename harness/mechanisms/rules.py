"""08's alert rules as the mechanisms switch them: an alert removed for a negative control,
put back after it, and whether Prometheus has loaded the change.

A PrometheusRule change reaches Prometheus through the operator, a ConfigMap and the
config reloader, which takes tens of seconds: a mechanism's steady state waits for
``alert_rules`` to show (or no longer show) the alert before it strikes.
"""

from __future__ import annotations

from typing import Any

from harness.cluster.timing import parse_duration
from harness.deploy.manifests import load_documents
from harness.mechanisms.context import MechanismContext

__all__ = [
    "alert_rules",
    "put_rule",
    "remove_alert",
    "rule_for",
    "rule_manifest",
    "without_alert",
]

RULES = ("monitoring.coreos.com", "v1", "prometheusrules")


def rule_manifest(ctx: MechanismContext, alert: str) -> dict[str, Any]:
    """08's PrometheusRule that declares alert."""
    return next(
        d
        for d in load_documents("08-monitoring.yaml", ctx.image_values)
        if d["kind"] == "PrometheusRule"
        and any(r.get("alert") == alert for g in d["spec"]["groups"] for r in g["rules"])
    )


def put_rule(ctx: MechanismContext, doc: dict[str, Any]) -> None:
    """Replace the live PrometheusRule with doc."""
    meta = doc["metadata"]
    custom = ctx.custom
    current = custom.get_namespaced_custom_object(
        *RULES[:2], meta["namespace"], RULES[2], meta["name"]
    )
    version = current["metadata"]["resourceVersion"]
    body = {**doc, "metadata": {**meta, "resourceVersion": version}}
    custom.replace_namespaced_custom_object(
        *RULES[:2], meta["namespace"], RULES[2], meta["name"], body
    )


def remove_alert(ctx: MechanismContext, alert: str) -> None:
    """A negative control's switch: the alert taken out of 08's PrometheusRule, with the
    re-apply of 08's rule registered first."""
    rule_doc = rule_manifest(ctx, alert)
    ctx.rollbacks.register("re-apply 08's PrometheusRule", lambda: put_rule(ctx, rule_doc))
    put_rule(ctx, without_alert(rule_doc, alert))


def without_alert(doc: dict[str, Any], alert: str) -> dict[str, Any]:
    """doc with the alert's rule taken out."""
    groups = [
        {**g, "rules": [r for r in g["rules"] if r.get("alert") != alert]}
        for g in doc["spec"]["groups"]
    ]
    return {**doc, "spec": {**doc["spec"], "groups": groups}}


def rule_for(doc: dict[str, Any], alert: str) -> float:
    """The alert's ``for`` as doc declares it, in seconds."""
    rule = next(r for g in doc["spec"]["groups"] for r in g["rules"] if r.get("alert") == alert)
    return parse_duration(str(rule.get("for", "0s")))


def alert_rules(ctx: MechanismContext) -> dict[str, dict[str, Any]]:
    """The alerting rules Prometheus has loaded now, by alert name."""
    groups = ctx.prom.api("rules")["groups"]
    return {r["name"]: r for g in groups for r in g["rules"] if r.get("type") == "alerting"}
