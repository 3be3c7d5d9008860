"""The ``harness`` command: host setup, offline images, the lab cluster."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace

from harness.cluster import cluster_down, cluster_status, cluster_up
from harness.errors import HarnessError, InvalidInput
from harness.host.docker import setup_host
from harness.images import LabImages, resolve_images
from harness.images.source import kind_binary
from harness.progress import console, note
from harness.settings import LabSettings

__all__ = ["main"]


def _settings(args: argparse.Namespace) -> LabSettings:
    settings = LabSettings()
    if args.cluster_name:
        settings = replace(settings, cluster_name=args.cluster_name)
    if args.images:
        settings = replace(settings, image_source=args.images)
    return settings


def _host(args: argparse.Namespace) -> None:
    report = setup_host()
    note(
        f"Docker {report.docker_version}: "
        + ("; ".join(report.changed) if report.changed else "already working, left as it is")
    )


def _images(args: argparse.Namespace) -> LabImages:
    images = resolve_images(_settings(args))
    note(f"images ({images.source}): node {images.node_image}, toolbox {images.toolbox_image}")
    return images


def _cluster_up(args: argparse.Namespace) -> None:
    settings = _settings(args)
    images = _images(args)
    status = cluster_up(settings, images.kind, images.node_image)
    note(f"cluster {status.name} up: {', '.join(sorted(status.nodes_ready))}")
    note(f"kubeconfig: {settings.kubeconfig} (context {settings.context})")


def _cluster_down(args: argparse.Namespace) -> None:
    cluster_down(_settings(args), kind_binary())


def _cluster_status(args: argparse.Namespace) -> None:
    status = cluster_status(_settings(args))
    verdict = "healthy" if status.healthy else f"not healthy: {status.problem}"
    note(f"cluster {status.name}: {verdict}")
    for name, state in sorted(status.containers.items()):
        ready = status.nodes_ready.get(name)
        note(f"  {name}: container {state}, node {'Ready' if ready else 'NotReady'}")
    if not status.healthy:
        raise SystemExit(1)


def _pipeline_up(args: argparse.Namespace) -> None:
    from harness.deploy.pipeline import pipeline_up

    settings = _settings(args)
    images = _images(args)
    result = pipeline_up(settings, images)
    note(f"pipeline up in {result.seconds['total']:.0f}s ({images.source} images)")
    for part, seconds in result.seconds.items():
        note(f"  {part}: {seconds:.1f}s")


def _experiment_validate(args: argparse.Namespace) -> None:
    from pathlib import Path

    from harness.experiments import validate_experiment

    for name in args.files:
        validate_experiment(Path(name))
        note(f"{name}: valid")


def _experiment_run(args: argparse.Namespace) -> None:
    import json
    import shutil
    import subprocess
    import time
    from pathlib import Path

    from harness.experiments import validate_experiment, verdict
    from harness.settings import PROJECT_ROOT

    path = Path(args.file)
    validate_experiment(path)  # before anything touches the cluster
    out = PROJECT_ROOT / "reports" / f"{time.strftime('%Y%m%d-%H%M%S')}-{path.stem}"
    out.mkdir(parents=True, exist_ok=True)
    journal_path = out / "journal.json"
    chaos = shutil.which("chaos") or str(Path(sys.executable).parent / "chaos")
    note(f"chaos run {path} (journal {journal_path})")
    subprocess.run([chaos, "run", "--journal-path", str(journal_path), str(path)], check=False)
    result = verdict(json.loads(journal_path.read_text()))
    (out / "verdict.json").write_text(
        json.dumps(
            {"passed": result.passed, "reasons": result.reasons, "outcome": result.outcome},
            indent=2,
        )
    )
    note(f"harness verdict: {'PASSED' if result.passed else 'FAILED'} ({out / 'verdict.json'})")
    for reason in result.reasons:
        note(f"  {reason}")
    if not result.passed:
        raise SystemExit(1)


def _up(args: argparse.Namespace) -> None:
    _host(args)
    _cluster_up(args)
    _pipeline_up(args)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="harness", description=__doc__)
    parser.add_argument("--cluster-name", help="kind cluster name (default spark-chaos)")
    parser.add_argument(
        "--images",
        choices=("auto", "offline", "upstream"),
        help="image source (default: $HARNESS_IMAGES or auto)",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    def add(
        name: str,
        func: Callable[[argparse.Namespace], object],
        text: str,
        parent: argparse._SubParsersAction[argparse.ArgumentParser] = sub,
    ) -> None:
        p = parent.add_parser(name, help=text, description=text)
        p.set_defaults(func=func)

    add("up", _up, "host setup, images, the lab cluster (reused when healthy) and the pipeline")
    host = sub.add_parser("host", help="prepare this machine's Docker").add_subparsers(
        dest="host_command", required=True
    )
    add("setup", _host, "install/start Docker with the runc wrapper; prove --privileged", host)
    images = sub.add_parser("images", help="the lab's images").add_subparsers(
        dest="images_command", required=True
    )
    add("build", _images, "build (or find cached) every image the lab needs", images)
    cluster = sub.add_parser("cluster", help="the kind cluster").add_subparsers(
        dest="cluster_command", required=True
    )
    add("up", _cluster_up, "create the 3-node cluster, or reuse it when healthy", cluster)
    add("down", _cluster_down, "delete the cluster", cluster)
    add("status", _cluster_status, "show whether the cluster is healthy", cluster)
    pipeline = sub.add_parser("pipeline", help="the Spark streaming pipeline").add_subparsers(
        dest="pipeline_command", required=True
    )
    add("up", _pipeline_up, "deploy manifests 01-10 in dependency order; wait for data", pipeline)
    experiment = sub.add_parser("experiment", help="chaostoolkit experiments").add_subparsers(
        dest="experiment_command", required=True
    )
    validate = experiment.add_parser("validate", help="check experiment files; change nothing")
    validate.add_argument("files", nargs="+")
    validate.set_defaults(func=_experiment_validate)
    run_exp = experiment.add_parser(
        "run", help="validate, run with chaostoolkit, judge the journal with the harness"
    )
    run_exp.add_argument("file")
    run_exp.set_defaults(func=_experiment_run)
    add("down", _cluster_down, "delete the lab cluster")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``harness`` command."""
    args = _parser().parse_args(argv)
    try:
        args.func(args)
    except InvalidInput as exc:
        console.print(f"[red]error:[/red] {exc}")
        return 2
    except HarnessError as exc:
        console.print(f"[red]error:[/red] {exc}")
        return 1
    except KeyboardInterrupt:
        console.print("[yellow]interrupted[/yellow]")
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
