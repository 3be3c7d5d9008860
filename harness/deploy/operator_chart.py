"""The Spark operator's chart, rendered offline from our Helm values file.

With a chart repository reachable the harness runs Helm on the upstream chart with
04-spark-operator-helm-values.yaml. Offline it renders the same objects here, from the
same file: the controller Deployment (arguments as the chart's
templates/controller/deployment.yaml writes them) and its metrics Service. Keys this
renderer does not understand are an error, so the two paths cannot silently diverge.
"""

from __future__ import annotations

from typing import Any

from harness.errors import InvalidInput

__all__ = ["KNOWN_KEYS", "render_operator"]

NAMESPACE = "spark-operator"
NAME = "spark-operator-controller"
LABELS = {"app.kubernetes.io/name": "spark-operator", "app.kubernetes.io/component": "controller"}

KNOWN_KEYS: dict[str, Any] = {
    "image": {"registry": str, "repository": str, "tag": str, "pullPolicy": str},
    "controller": {
        "replicas": int,
        "workers": int,
        "logLevel": str,
        "leaderElection": {
            "enable": bool,
            "leaseDuration": str,
            "renewDeadline": str,
            "retryPeriod": str,
        },
        "uiService": {"enable": bool},
        "serviceAccount": {"create": bool, "name": str},
        "rbac": {"create": bool},
        "priorityClassName": str,
        "resources": dict,
        "podSecurityContext": dict,
        "securityContext": dict,
    },
    "webhook": {"enable": bool},
    "spark": {
        "jobNamespaces": list,
        "serviceAccount": {"create": bool, "name": str},
        "rbac": {"create": bool},
    },
    "prometheus": {
        "metrics": {
            "enable": bool,
            "port": int,
            "portName": str,
            "endpoint": str,
            "prefix": str,
        },
        "podMonitor": {"create": bool},
    },
}


def _check(values: Any, schema: Any, source: str, path: str) -> None:
    if isinstance(schema, dict):
        if not isinstance(values, dict):
            raise InvalidInput(source, path or "(top)", "a mapping", type(values).__name__)
        for key, value in values.items():
            where = f"{path}.{key}" if path else key
            if key not in schema:
                raise InvalidInput(source, where, f"one of {sorted(schema)}", "unknown key")
            _check(value, schema[key], source, where)
        return
    if not isinstance(values, schema) or (schema is int and isinstance(values, bool)):
        raise InvalidInput(source, path, schema.__name__, f"{values!r}")


def _required(values: dict[str, Any], source: str, *path: str) -> Any:
    node: Any = values
    for part in path:
        if not isinstance(node, dict) or part not in node:
            raise InvalidInput(source, ".".join(path), "present", "missing")
        node = node[part]
    return node


def render_operator(values: dict[str, Any], image: str, source: str) -> list[dict[str, Any]]:
    """The chart's controller objects for these values, with the given image."""
    _check(values, KNOWN_KEYS, source, "")
    if _required(values, source, "webhook", "enable"):
        raise InvalidInput(
            source, "webhook.enable", "false (offline render has no webhook)", "true"
        )
    if _required(values, source, "controller", "serviceAccount", "create") or _required(
        values, source, "controller", "rbac", "create"
    ):
        raise InvalidInput(
            source, "controller.serviceAccount.create/rbac.create", "false (02-rbac.yaml)", "true"
        )
    ctl = values["controller"]
    metrics = _required(values, source, "prometheus", "metrics")
    election = ctl.get("leaderElection", {})
    args = [
        "controller",
        "start",
        f"--zap-log-level={ctl.get('logLevel', 'info')}",
        f"--namespaces={','.join(_required(values, source, 'spark', 'jobNamespaces'))}",
        f"--controller-threads={ctl.get('workers', 10)}",
        f"--enable-ui-service={str(ctl.get('uiService', {}).get('enable', False)).lower()}",
    ]
    if metrics.get("enable"):
        args += [
            "--enable-metrics=true",
            f"--metrics-bind-address=:{metrics['port']}",
            f"--metrics-endpoint={metrics['endpoint']}",
            f"--metrics-prefix={metrics.get('prefix', '')}",
            "--metrics-labels=app_type",
        ]
    if election.get("enable"):
        args += [
            "--leader-election=true",
            "--leader-election-lock-name=spark-operator-controller-lock",
            f"--leader-election-lock-namespace={NAMESPACE}",
            f"--leader-election-lease-duration={election['leaseDuration']}",
            f"--leader-election-renew-deadline={election['renewDeadline']}",
            f"--leader-election-retry-period={election['retryPeriod']}",
        ]
    else:
        args.append("--leader-election=false")
    container: dict[str, Any] = {
        "name": "spark-operator-controller",
        "image": image,
        "imagePullPolicy": values["image"].get("pullPolicy", "IfNotPresent"),
        "args": args,
        "ports": [{"name": metrics["portName"], "containerPort": metrics["port"]}]
        if metrics.get("enable")
        else [],
        "resources": ctl.get("resources", {}),
        "livenessProbe": {"httpGet": {"port": 8081, "scheme": "HTTP", "path": "/healthz"}},
        "readinessProbe": {"httpGet": {"port": 8081, "scheme": "HTTP", "path": "/readyz"}},
        "securityContext": ctl.get("securityContext", {}),
    }
    pod_spec: dict[str, Any] = {
        "serviceAccountName": ctl["serviceAccount"]["name"],
        "securityContext": ctl.get("podSecurityContext", {}),
        "containers": [container],
    }
    if ctl.get("priorityClassName"):
        pod_spec["priorityClassName"] = ctl["priorityClassName"]
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": NAME, "namespace": NAMESPACE, "labels": LABELS},
        "spec": {
            "replicas": ctl.get("replicas", 1),
            "selector": {"matchLabels": LABELS},
            "template": {"metadata": {"labels": LABELS}, "spec": pod_spec},
        },
    }
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": f"{NAME}-metrics", "namespace": NAMESPACE, "labels": LABELS},
        "spec": {
            "selector": LABELS,
            "ports": [{"name": "metrics", "port": metrics["port"], "targetPort": "metrics"}],
        },
    }
    return [deployment, service]
