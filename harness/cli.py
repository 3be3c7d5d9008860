"""The ``harness`` command: host setup, offline images, the lab cluster, mechanisms and
experiments."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace

from rich.markup import escape

from harness.cluster import ClusterStatus, cluster_down, cluster_status, cluster_up
from harness.errors import HarnessError, InvalidInput
from harness.host.docker import setup_host
from harness.images import LabImages, resolve_images
from harness.images.source import kind_binary
from harness.progress import console, note
from harness.report.cli import add_report_parser
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


def _host_chromium(args: argparse.Namespace) -> None:
    from harness.host.chromium import ensure_chromium

    note(f"chromium: {ensure_chromium()}")


def _images(args: argparse.Namespace) -> LabImages:
    images = resolve_images(_settings(args))
    note(f"images ({images.source}): node {images.node_image}, toolbox {images.toolbox_image}")
    return images


def _images_save(args: argparse.Namespace) -> None:
    from pathlib import Path

    from harness.images.archive import save_archive

    settings = _settings(args)
    if settings.image_source == "upstream":
        raise InvalidInput(
            "--images", "image source", "auto or offline (save carries offline builds)", "upstream"
        )
    saved = save_archive(Path(args.file), settings, args.compression)
    m = saved.manifest
    note(
        f"wrote {saved.path}: {saved.bytes / 1e9:.2f} GB ({args.compression};"
        f" {m.total_bytes() / 1e9:.2f} GB uncompressed), {len(m.images)} images,"
        f" {len(m.files)} cache files, in {saved.seconds:.0f}s"
    )


def _images_load(args: argparse.Namespace) -> None:
    from pathlib import Path

    from harness.images.archive import load_archive

    loaded = load_archive(Path(args.file), _settings(args))
    note(
        f"loaded {args.file}: {loaded.images_loaded} of {len(loaded.manifest.images)} images,"
        f" {loaded.units_installed} cache units installed, in {loaded.seconds:.0f}s"
    )


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
    for line in node_lines(status):
        note(f"  {line}")
    if not status.healthy:
        raise SystemExit(1)


def node_lines(status: ClusterStatus) -> list[str]:
    """One line per node container: its Docker state and its own Ready condition.

    A node the API did not list is "unknown", never NotReady by association.
    """
    lines = []
    for name, state in sorted(status.containers.items()):
        ready = status.nodes_ready.get(name)
        node = "unknown (not listed by the API)" if ready is None else _ready_word(ready)
        lines.append(f"{name}: container {state}, node {node}")
    return lines


def _ready_word(ready: bool) -> str:
    return "Ready" if ready else "NotReady"


def _pipeline_up(args: argparse.Namespace) -> None:
    from harness.deploy.pipeline import pipeline_up

    settings = _settings(args)
    images = _images(args)
    result = pipeline_up(settings, images)
    note(f"pipeline up in {result.seconds['total']:.0f}s ({images.source} images)")
    for part, seconds in result.seconds.items():
        note(f"  {part}: {seconds:.1f}s")


def _experiment_validate(args: argparse.Namespace) -> int:
    from pathlib import Path

    from harness.experiments import validate_experiment

    invalid = 0
    for name in args.files:
        try:
            validate_experiment(Path(name))
        except InvalidInput as exc:
            invalid += 1
            console.print(f"[red]invalid:[/red] {escape(str(exc))}")
        else:
            note(f"{escape(name)}: valid")
    return 2 if invalid else 0


def _experiment_new(args: argparse.Namespace) -> int:
    from harness.chaostoolkit.experiment import experiment, filename, render
    from harness.chaostoolkit.loader import SUFFIXES
    from harness.mechanisms.template import implemented_mechanism
    from harness.settings import PROJECT_ROOT

    implemented_mechanism(args.id, "harness experiment new")
    suffix = ".yaml" if args.yaml else ".json"
    folder = PROJECT_ROOT / "experiments"
    path = folder / filename(args.id, args.negative_control, suffix)
    for other in (folder / filename(args.id, args.negative_control, s) for s in SUFFIXES):
        if other.exists() and not (args.force and other == path):
            raise InvalidInput(
                str(other),
                "(file)",
                "no experiment of that name yet (--force replaces it)",
                "exists",
            )
    path.write_text(render(experiment(args.id, args.negative_control), suffix))
    note(f"wrote {path}")
    return 0


EXIT_CODES = {"passed": 0, "failed": 1, "inconclusive": 3}
"""Exit codes of a run: inconclusive is not failed (it may be worth running again)."""


def _experiment_run(args: argparse.Namespace) -> int:
    import json
    import os
    import shutil
    import subprocess
    import time
    from pathlib import Path

    from harness.experiments import validate_experiment, verdict
    from harness.safety import check_fault_target
    from harness.settings import PROJECT_ROOT

    path = Path(args.file)
    validate_experiment(path)  # before anything touches the cluster
    settings = _settings(args)
    if settings.cluster_name != LabSettings().cluster_name:
        raise InvalidInput(
            "--cluster-name",
            "cluster_name",
            f"{LabSettings().cluster_name}: the experiment's activities use the harness's default"
            " settings (harness mechanism run takes --cluster-name)",
            settings.cluster_name,
        )
    check_fault_target(settings, None)  # the activities check again before any fault
    out = PROJECT_ROOT / "reports" / f"{time.strftime('%Y%m%d-%H%M%S')}-{path.stem}"
    out.mkdir(parents=True, exist_ok=True)
    journal_path = out / "journal.json"
    beside = Path(sys.executable).parent / "chaos"
    chaos = str(beside) if beside.is_file() else shutil.which("chaos")
    if chaos is None:
        raise HarnessError("no chaos command: install chaostoolkit in this environment")
    env = dict(os.environ)
    if args.images:
        env["HARNESS_IMAGES"] = args.images
    note(f"chaos run {path} (journal {journal_path})")
    # Rollbacks always: chaostoolkit's default skips them after an interruption or an
    # unmet steady state, which is when the run's own rollbacks matter most.
    command = [chaos, "run", "--rollback-strategy", "always"]
    done = subprocess.run([*command, "--journal-path", str(journal_path), str(path)], env=env)
    try:
        journal = json.loads(journal_path.read_text())
    except (OSError, ValueError) as exc:
        raise HarnessError(
            f"chaos run exited {done.returncode} without a readable journal ({journal_path}: {exc})"
        ) from exc
    result = verdict(journal)
    report = {**result.as_json(), "chaos_exit_code": done.returncode}
    (out / "verdict.json").write_text(json.dumps(report, indent=2))
    note(f"harness verdict: {result.verdict.value.upper()} ({out / 'verdict.json'})")
    for reason in result.reasons:
        note(f"  {escape(reason)}")
    return EXIT_CODES[result.verdict.value]


def _mechanism_list(args: argparse.Namespace) -> int:
    from harness.mechanisms.registry import MECHANISMS
    from harness.mechanisms.template import implemented

    known = implemented()
    for m in MECHANISMS.values():
        state = "implemented" if m.id in known else "catalog"
        print(f"{m.number:2d}  {m.id:<27} {state:<12} {m.provided_by}: {m.trigger}")
    print(f"{len(known)} of {len(MECHANISMS)} implemented")
    return 0


def _mechanism_run(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    from harness.chaostoolkit import runs
    from harness.chaostoolkit.experiment import RESTORE_TIMEOUT
    from harness.mechanisms.template import implemented_mechanism

    implemented_mechanism(args.id, "harness mechanism run")
    settings = _settings(args)
    # The same functions the chaostoolkit activities call; begin checks the fault target
    # (harness.safety) before anything, and on an error rolls back what it did.
    opened = runs.begin(args.id, args.negative_control, settings)
    try:
        runs.strike(args.id)
        concluded = runs.conclude(args.id)
        if args.json:
            Path(args.json).write_text(json.dumps(concluded, indent=2))
        note(escape(opened.outcome.explain()))
    finally:
        note("restore: the run's rollbacks, then the pipeline whole again")
        restored = runs.restore(args.id, settings, RESTORE_TIMEOUT)
        for rollback in restored.rollbacks:
            note(f"  rolled back: {escape(rollback.description)} ({rollback.seconds:.1f}s)")
    return EXIT_CODES[opened.outcome.verdict.value]


def _search(args: argparse.Namespace) -> int:
    import time

    from harness.chaos.rollback import RollbackFailed, Rollbacks
    from harness.deploy.pipeline import current_image_values
    from harness.invariants import wait_whole
    from harness.kube import api_client
    from harness.mechanisms.context import MechanismContext
    from harness.observe.prometheus import prometheus
    from harness.observe.timeline import Recorder
    from harness.property.search import budget_from
    from harness.property.session import run_search
    from harness.safety import check_fault_target
    from harness.settings import PROJECT_ROOT

    budget = budget_from(lambda name: getattr(args, name))
    settings = _settings(args)
    check_fault_target(settings, None)
    out = PROJECT_ROOT / "reports" / f"{time.strftime('%Y%m%d-%H%M%S')}-search"
    with api_client(settings) as api, prometheus(settings) as prom, Rollbacks() as undo:
        ctx = MechanismContext(
            api, prom, undo, current_image_values(settings), kind_config=settings.kind_config
        )
        with Recorder(api, ctx.timeline, ("spark-pipeline", "spark-operator")):
            data = run_search(ctx, budget, out, args.plant, args.seed, progress=note)
        failures = [r for r in undo.run_all() if r.error]
        if failures:
            raise RollbackFailed(failures)
        note("the pipeline whole again?")
        wait_whole(api, prom, 300.0, image_values=ctx.image_values)
    note(escape(str(data["summary"])))
    for command in data["replay"]:
        note(f"replay: {escape(command)}")
    note(f"written: {out / 'search.json'}")
    return 1 if data["shrunk"] is not None else 0


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
    add("chromium", _host_chromium, "install headless Chromium (report test, screenshots)", host)
    images = sub.add_parser("images", help="the lab's images").add_subparsers(
        dest="images_command", required=True
    )
    add("build", _images, "build (or find cached) every image the lab needs", images)
    save = images.add_parser(
        "save",
        help="write one archive of every built image and the cache files the build checks",
        description="Build what is missing, then write FILE (through FILE.part): one docker"
        " save of every image, the cache files the warm path checks, and their manifest.",
    )
    save.add_argument("file", metavar="FILE")
    save.add_argument(
        "--compression",
        choices=("zstd", "gzip", "none"),
        default="zstd",
        help="how FILE is compressed (default zstd, one thread)",
    )
    save.set_defaults(func=_images_save)
    load = images.add_parser(
        "load",
        help="import an archive of harness images save; verified whole before anything moves",
        description="Verify FILE against its manifest, then load its images and install its"
        " cache files; what is already in place is left alone.",
    )
    load.add_argument("file", metavar="FILE")
    load.set_defaults(func=_images_load)
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
    validate = experiment.add_parser(
        "validate",
        help="check experiment files (JSON or YAML); change nothing",
        description="Check experiment files as the harness runs them; exit 2 if one is invalid.",
    )
    validate.add_argument("files", nargs="+")
    validate.set_defaults(func=_experiment_validate)
    new = experiment.add_parser(
        "new", help="write experiments/<id>[_negative_control].json|yaml from the catalog"
    )
    new.add_argument("id", help="an implemented mechanism (harness mechanism list)")
    new.add_argument("--negative-control", action="store_true", help="the control's experiment")
    new.add_argument("--yaml", action="store_true", help="write YAML, not JSON")
    new.add_argument("--force", action="store_true", help="overwrite an existing file")
    new.set_defaults(func=_experiment_new)
    run_exp = experiment.add_parser(
        "run",
        help="validate, run with chaostoolkit, judge the journal with the harness",
        description="Validate, run with chaos run (rollbacks always), judge the journal;"
        " exit 0 passed, 1 failed, 3 inconclusive.",
    )
    run_exp.add_argument("file")
    run_exp.set_defaults(func=_experiment_run)
    mechanisms = sub.add_parser("mechanism", help="the catalog's mechanisms").add_subparsers(
        dest="mechanism_command", required=True
    )
    add("list", _mechanism_list, "the catalog of 18, and which are implemented", mechanisms)
    run_mechanism = mechanisms.add_parser(
        "run",
        help="run one mechanism (or its negative control) against the lab",
        description="Begin, strike, conclude, restore: what an experiment's activities do;"
        " exit 0 passed, 1 failed, 3 inconclusive.",
    )
    run_mechanism.add_argument("id", help="an implemented mechanism (harness mechanism list)")
    run_mechanism.add_argument(
        "--negative-control", action="store_true", help="switch the mechanism off first"
    )
    run_mechanism.add_argument("--json", metavar="FILE", help="write the outcome JSON there")
    run_mechanism.set_defaults(func=_mechanism_run)
    _search_parser(sub)
    add("down", _cluster_down, "delete the lab cluster")
    add_report_parser(sub)
    return parser


def _search_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from harness.property.live import PLANTS
    from harness.property.search import BUDGET_OPTIONS

    p = sub.add_parser(
        "search",
        help="property-based chaos: hypothesis draws fault sequences, shrinks a failure",
        description="Search fault sequences against the lab's pipeline within a budget;"
        " a failing one is shrunk and written as a chaostoolkit experiment. Exit 0: every"
        " promise kept, 1: a failure found (see search.json and replay.json).",
    )
    for option in BUDGET_OPTIONS:
        p.add_argument(
            f"--{option.name}",
            type=option.type,
            default=option.default,
            help=f"{option.help} (default {option.default})",
        )
    p.add_argument("--plant", choices=sorted(PLANTS), help="a test-only weakness to find")
    p.add_argument("--seed", type=int, help="hypothesis seed (a search prints the one it used)")
    p.set_defaults(func=_search)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``harness`` command."""
    args = _parser().parse_args(argv)
    try:
        code = args.func(args)
    except InvalidInput as exc:
        console.print(f"[red]error:[/red] {escape(str(exc))}")
        return 2
    except HarnessError as exc:
        console.print(f"[red]error:[/red] {escape(str(exc))}")
        return 1
    except KeyboardInterrupt:
        console.print("[yellow]interrupted[/yellow]")
        return 130
    return code if isinstance(code, int) else 0


if __name__ == "__main__":
    sys.exit(main())
