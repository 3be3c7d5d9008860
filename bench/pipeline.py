"""Benchmark of the pipeline: warm bring-up until data flows, and steady-state usage.

    python bench/pipeline.py            cluster deleted, then `harness up` with warm
                                        image caches until events reach the sink;
                                        then `harness up` again (converge, all reused);
                                        then CPU and memory at steady state
    python bench/pipeline.py --keep     skip the deletion: measure converge and usage only

Steady state is sampled for 60 s after the bring-up: the node containers' CPU and
memory (docker stats; the host has 2 cores, so 200% is everything) and the pipeline's
pods (metrics-server). Results are printed and appended to <cache>/bench/pipeline.jsonl.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from typing import Any

from kubernetes import client

from harness.kube import api_client
from harness.settings import LabSettings, cache_dir

HARNESS = [sys.executable, "-m", "harness.cli"]
SAMPLE_SECONDS = 60
NAMESPACES = ("spark-pipeline", "spark-operator", "monitoring", "kube-system")


def timed(label: str, command: list[str]) -> float:
    """Run a harness command, streaming its output; return wall seconds."""
    print(f"\n=== {label}: {' '.join(command)}", flush=True)
    begun = time.monotonic()
    subprocess.run(command, check=True)
    seconds = time.monotonic() - begun
    print(f"=== {label}: {seconds:.1f}s", flush=True)
    return seconds


def _mib(text: str) -> float:
    for unit, factor in (("KiB", 1 / 1024), ("MiB", 1.0), ("GiB", 1024.0), ("B", 1 / 2**20)):
        if text.endswith(unit):
            return float(text[: -len(unit)]) * factor
    return 0.0


def node_usage(cluster: str) -> dict[str, dict[str, float]]:
    """CPU (% of one core) and memory (MiB) per node container, averaged over the sample."""
    names = subprocess.run(
        [
            "docker",
            "ps",
            "--filter",
            f"label=io.x-k8s.kind.cluster={cluster}",
            "--format",
            "{{.Names}}",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    samples: dict[str, list[tuple[float, float]]] = {n: [] for n in names}
    deadline = time.monotonic() + SAMPLE_SECONDS
    while time.monotonic() < deadline:
        out = subprocess.run(
            [
                "docker",
                "stats",
                "--no-stream",
                "--format",
                "{{.Name}} {{.CPUPerc}} {{.MemUsage}}",
                *names,
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.splitlines()
        for line in out:
            name, cpu, mem = line.split()[:3]
            samples[name].append((float(cpu.rstrip("%")), _mib(mem)))
    return {
        n: {
            "cpu_percent": round(sum(c for c, _ in s) / len(s), 1),
            "memory_mib": round(sum(m for _, m in s) / len(s), 1),
        }
        for n, s in samples.items()
        if s
    }


def pod_usage(settings: LabSettings) -> dict[str, dict[str, float]]:
    """CPU (millicores) and memory (MiB) per namespace, from the metrics API."""
    totals: dict[str, dict[str, float]] = {}
    with api_client(settings) as api:
        custom = client.CustomObjectsApi(api)
        for ns in NAMESPACES:
            items = custom.list_namespaced_custom_object("metrics.k8s.io", "v1beta1", ns, "pods")[
                "items"
            ]
            cpu = mem = 0.0
            for pod in items:
                for c in pod["containers"]:
                    cpu += _cpu_millis(c["usage"]["cpu"])
                    mem += _mem_mib(c["usage"]["memory"])
            totals[ns] = {"cpu_millicores": round(cpu), "memory_mib": round(mem, 1)}
    return totals


def _cpu_millis(q: str) -> float:
    if q.endswith("n"):
        return float(q[:-1]) / 1e6
    if q.endswith("u"):
        return float(q[:-1]) / 1e3
    if q.endswith("m"):
        return float(q[:-1])
    return float(q) * 1000


def _mem_mib(q: str) -> float:
    for unit, factor in (("Ki", 1 / 1024), ("Mi", 1.0), ("Gi", 1024.0)):
        if q.endswith(unit):
            return float(q[: -len(unit)]) * factor
    return float(q) / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--keep", action="store_true", help="do not delete the cluster first")
    args = parser.parse_args()
    settings = LabSettings()
    results: dict[str, Any] = {}
    if not args.keep:
        subprocess.run([*HARNESS, "cluster", "down"], check=True)
        results["up_until_data_warm_s"] = round(
            timed("harness up (new cluster, warm images)", [*HARNESS, "up"]), 1
        )
    results["up_converge_s"] = round(timed("harness up (everything reused)", [*HARNESS, "up"]), 1)
    results["nodes"] = node_usage(settings.cluster_name)
    results["node_cpu_percent_total"] = round(
        sum(n["cpu_percent"] for n in results["nodes"].values()), 1
    )
    results["node_memory_mib_total"] = round(
        sum(n["memory_mib"] for n in results["nodes"].values()), 1
    )
    results["pods_by_namespace"] = pod_usage(settings)
    print(json.dumps(results, indent=2))
    log = cache_dir() / "bench" / "pipeline.jsonl"
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("a") as handle:
        handle.write(json.dumps({"at": time.strftime("%Y-%m-%dT%H:%M:%S"), **results}) + "\n")


if __name__ == "__main__":
    main()
