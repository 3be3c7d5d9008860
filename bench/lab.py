"""Benchmark of the lab: build times, cluster bring-up, and the running cluster's memory.

    python bench/lab.py            warm build, cluster up from nothing, reuse, memory
    python bench/lab.py --cold     also a cold build: empty build cache, Go caches and
                                   Docker images (slow: 30-60 min on two cores)

Results are printed as a table and appended to <cache>/bench/lab.jsonl.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

from harness.settings import LabSettings, cache_dir

HARNESS = [sys.executable, "-m", "harness.cli"]
OUR_IMAGE_PREFIXES = ("harness.local/", "registry.k8s.io/")


def timed(label: str, command: list[str], env: dict[str, str] | None = None) -> float:
    """Run a harness command, streaming its output; return wall seconds."""
    print(f"\n=== {label}: {' '.join(command)}", flush=True)
    begun = time.monotonic()
    subprocess.run(command, check=True, env={**os.environ, **(env or {})})
    seconds = time.monotonic() - begun
    print(f"=== {label}: {seconds:.1f}s", flush=True)
    return seconds


def remove_our_images() -> None:
    """Delete every image the offline builder makes (the cold case)."""
    out = subprocess.run(
        ["docker", "images", "--format", "{{.Repository}}:{{.Tag}}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    ours = [ref for ref in out if ref.startswith(OUR_IMAGE_PREFIXES)]
    if ours:
        subprocess.run(["docker", "rmi", "-f", *ours], capture_output=True, check=False)


def cluster_memory_mib(name: str) -> dict[str, float]:
    """Memory each node container uses, from docker stats."""
    names = subprocess.run(
        [
            "docker",
            "ps",
            "--filter",
            f"label=io.x-k8s.kind.cluster={name}",
            "--format",
            "{{.Names}}",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    stats = subprocess.run(
        ["docker", "stats", "--no-stream", "--format", "{{.Name}} {{.MemUsage}}", *names],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    usage = {}
    for line in stats:
        node, used = line.split()[0], line.split()[1]
        units = {"KiB": 1 / 1024, "MiB": 1, "GiB": 1024}
        for unit, factor in units.items():
            if used.endswith(unit):
                usage[node] = float(used[: -len(unit)]) * factor
    return usage


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cold", action="store_true", help="also measure a cold build")
    args = parser.parse_args()
    settings = LabSettings()
    results: dict[str, float | dict[str, float]] = {}

    if args.cold:
        with tempfile.TemporaryDirectory(prefix="harness-cold-") as tmp:
            env = {
                "HARNESS_CACHE_DIR": f"{tmp}/cache",
                "GOCACHE": f"{tmp}/gocache",
                "GOMODCACHE": f"{tmp}/gomod",
            }
            subprocess.run([*HARNESS, "cluster", "down"], check=False)
            remove_our_images()
            results["cold_build_s"] = timed("cold build", [*HARNESS, "images", "build"], env)
            subprocess.run(
                ["chmod", "-R", "u+w", tmp], check=False
            )  # Go's module cache is read-only
            shutil.rmtree(tmp, ignore_errors=True)

    results["warm_build_s"] = timed("warm build", [*HARNESS, "images", "build"])
    subprocess.run([*HARNESS, "cluster", "down"], check=True)
    results["cluster_up_new_s"] = timed("cluster up from nothing", [*HARNESS, "cluster", "up"])
    results["cluster_up_reuse_s"] = timed("cluster up, reusing", [*HARNESS, "cluster", "up"])
    memory = cluster_memory_mib(settings.cluster_name)
    results["memory_mib"] = memory
    results["memory_total_mib"] = round(sum(memory.values()), 1)

    print("\n| measure | value |\n|---|---|")
    for key, value in results.items():
        if isinstance(value, dict):
            shown = ", ".join(f"{k} {v:.0f} MiB" for k, v in sorted(value.items()))
        else:
            shown = f"{value:.1f}" + ("s" if key.endswith("_s") else " MiB")
        print(f"| {key} | {shown} |")
    log = cache_dir() / "bench" / "lab.jsonl"
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("a") as out:
        out.write(
            json.dumps({"at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), **results}) + "\n"
        )
    print(f"\nappended to {log}")


if __name__ == "__main__":
    main()
