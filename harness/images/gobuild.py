"""Compile Go programs from the Go module proxy into the build cache.

Upstream modules whose go.mod has replace directives (Kubernetes, etcd, ...) cannot be
``go install``ed. For those we write a wrapper module of our own that requires the
upstream module and repeats its replace/exclude lines as version pins, then build the
upstream packages from it. Our own small programs are built from harness/images/assets.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from harness.settings import cache_dir
from harness.steps import run, run_logged

__all__ = [
    "GO_ENV",
    "GoProgram",
    "build",
    "outputs",
    "prepare_wrapper_module",
    "work_dir",
    "wrapper_go_mod",
]

ASSETS = Path(__file__).resolve().parent / "assets"
BASE_FLAGS = ("-trimpath",)
GO_ENV = {"CGO_ENABLED": "0", "GOFLAGS": "-buildvcs=false", "GOTOOLCHAIN": "local"}


@dataclass(frozen=True)
class GoProgram:
    """One Go build: upstream packages at a version, or our own source directory."""

    name: str
    """Short name; the cache folder is <name>-<version>."""
    version: str
    """Upstream version (a module tag), or our own version label."""
    packages: tuple[str, ...]
    """Import paths of the main packages to build; binaries are named after the last element."""
    module: str = ""
    """Upstream module path; empty for our own source under assets/<name>."""
    wrapper: bool = False
    """Build through a wrapper module that pins the upstream replace/exclude lines."""
    sibling_version: str = ""
    """Version for modules the upstream go.mod replaces with local paths (staging trees)."""
    shim: str = ""
    """Go source of a tiny main package of our own, for modules that only export a library."""
    tags: tuple[str, ...] = ()
    ldflags: tuple[str, ...] = ("-s", "-w")
    outputs: tuple[str, ...] = field(default=())
    """Binary names, when they differ from the packages' last path elements."""

    def binaries(self) -> tuple[str, ...]:
        """Names of the binaries this build produces."""
        if self.outputs:
            return self.outputs
        return tuple(p.rstrip("/").rsplit("/", 1)[-1] for p in self.packages)

    def recipe(self) -> str:
        """A digest of everything that decides the output; a change means a rebuild."""
        parts = json.dumps(
            [
                self.name,
                self.version,
                self.packages,
                self.module,
                self.wrapper,
                self.sibling_version,
                self.shim,
                self.tags,
                self.ldflags,
                BASE_FLAGS,
                _own_source_digest(self),
            ],
            sort_keys=True,
        )
        return hashlib.sha256(parts.encode()).hexdigest()[:16]


def work_dir(program: GoProgram) -> Path:
    """The program's folder in the cache: <cache>/go/<name>-<version>."""
    return cache_dir() / "go" / f"{program.name}-{program.version}"


def outputs(program: GoProgram) -> tuple[Path, ...]:
    """What build() checks before it skips: the recipe stamp and the binaries."""
    work = work_dir(program)
    return (work / ".recipe", *(work / "bin" / b for b in program.binaries()))


def build(program: GoProgram, log_dir: Path) -> Path:
    """Build the program unless the cache already holds this exact recipe; return its bin dir."""
    work = work_dir(program)
    bin_dir = work / "bin"
    stamp = work / ".recipe"
    recipe = program.recipe()
    if (
        stamp.exists()
        and stamp.read_text() == recipe
        and all((bin_dir / b).exists() for b in program.binaries())
    ):
        return bin_dir
    work.mkdir(parents=True, exist_ok=True)
    stamp.unlink(missing_ok=True)
    log = log_dir / f"go-{program.name}.log"
    if program.module:
        _prepare_wrapper(program, work, log)
        src = work
    else:
        src = work / "src"
        shutil.rmtree(src, ignore_errors=True)
        shutil.copytree(ASSETS / program.name, src)
    bin_dir.mkdir(exist_ok=True)
    command = ["go", "build", *BASE_FLAGS, "-ldflags", " ".join(program.ldflags), "-o"]
    if len(program.packages) == 1 and program.outputs:
        command.append(str(bin_dir / program.outputs[0]))
    else:
        command.append(str(bin_dir) + os.sep)
    if program.tags:
        command += ["-tags", ",".join(program.tags)]
    run_logged(
        f"go build {program.name} {program.version}",
        [*command, *program.packages],
        log,
        env=GO_ENV,
        cwd=src,
    )
    stamp.write_text(recipe)
    return bin_dir


def _prepare_wrapper(program: GoProgram, work: Path, log: Path) -> None:
    """Write go.mod (and a shim or tools file) for building upstream packages, then tidy."""
    prepare_wrapper_module(
        program.name,
        program.module,
        program.version,
        program.packages,
        work,
        log,
        sibling_version=program.sibling_version if program.wrapper else "",
        pin=program.wrapper,
        shim=program.shim,
    )


def prepare_wrapper_module(
    name: str,
    module: str,
    version: str,
    packages: tuple[str, ...],
    work: Path,
    log: Path,
    *,
    sibling_version: str = "",
    pin: bool = True,
    shim: str = "",
) -> None:
    """A module of ours requiring ``module@version``: go.mod from wrapper_go_mod, plus a
    shim main package or a tools file importing ``packages``, then ``go mod tidy``.

    Skipped when the same go.mod and source were already tidied in ``work``.
    """
    info = run(
        f"download {module}@{version}",
        ["go", "mod", "download", "-json", f"{module}@{version}"],
        env=GO_ENV,
        cwd=work,
    )
    upstream_mod = Path(json.loads(info.stdout)["GoMod"]).read_text()
    mod = wrapper_go_mod(name, module, version, upstream_mod, sibling_version, pin)
    if shim:
        source_name, source = "main.go", shim
    else:
        imports = "\n".join(f'\t_ "{p}"' for p in packages)
        source_name = "tools.go"
        source = f"//go:build tools\n\npackage tools\n\nimport (\n{imports}\n)\n"
    stamp = work / ".wrapper"
    if stamp.exists() and stamp.read_text() == mod + source and (work / "go.sum").exists():
        return  # tidied before; go.mod now also lists the indirect requirements
    stamp.unlink(missing_ok=True)
    (work / "go.mod").write_text(mod)
    (work / source_name).write_text(source)
    run_logged(f"go mod tidy for {name}", ["go", "mod", "tidy"], log, env=GO_ENV, cwd=work)
    stamp.write_text(mod + source)


_REPLACE_BLOCK = re.compile(r"^replace\s*\((.*?)^\)", re.S | re.M)
_EXCLUDE_BLOCK = re.compile(r"^exclude\s*\((.*?)^\)", re.S | re.M)
_GO_LINE = re.compile(r"^go\s+(\S+)", re.M)
_GODEBUG = re.compile(r"^godebug\s.*$", re.M)


def wrapper_go_mod(
    name: str, module: str, version: str, upstream: str, sibling_version: str, pin: bool
) -> str:
    """Our wrapper's go.mod: require upstream, repeat its replaces and excludes as pins.

    A replace to a local path (``=> ./staging/src/k8s.io/api``) becomes a pin of that
    module at ``sibling_version``; replaces to other modules and excludes are copied.
    """
    go_match = _GO_LINE.search(upstream)
    lines = [f"module harness.local/build/{name}", "", f"go {go_match[1] if go_match else '1.22'}"]
    lines += ["", *_GODEBUG.findall(upstream)] if _GODEBUG.search(upstream) else []
    lines += ["", f"require {module} {version}"]
    if not pin:
        return "\n".join(lines) + "\n"
    replaces: list[str] = []
    for entry in _directive_entries(upstream, "replace", _REPLACE_BLOCK):
        left, _, right = (part.strip() for part in entry.partition("=>"))
        target = right.split()
        if target and target[0].startswith((".", "/")):
            mod = left.split()[0]
            # Only modules upstream requires are pinned; the rest (etcd's
            # FORBIDDEN_DEPENDENCY guards) never enter the build.
            if sibling_version and _requires(upstream, mod):
                replaces.append(f"\t{mod} => {mod} {sibling_version}")
        else:
            replaces.append(f"\t{left} => {right}")
    if replaces:
        lines += ["", "replace (", *replaces, ")"]
    excludes = [f"\t{e}" for e in _directive_entries(upstream, "exclude", _EXCLUDE_BLOCK)]
    if excludes:
        lines += ["", "exclude (", *excludes, ")"]
    return "\n".join(lines) + "\n"


def _requires(go_mod: str, module: str) -> bool:
    return re.search(rf"^\s*(require\s+)?{re.escape(module)}\s+v\S+", go_mod, re.M) is not None


def _directive_entries(text: str, word: str, block: re.Pattern[str]) -> list[str]:
    entries: list[str] = []
    for body in block.findall(text):
        entries += [ln.split("//")[0].strip() for ln in body.splitlines()]
    single = re.compile(rf"^{word}\s+([^(\s].*)$", re.M)
    entries += [m.split("//")[0].strip() for m in single.findall(text)]
    return [e for e in entries if e]


def _own_source_digest(program: GoProgram) -> str:
    if program.module:
        return ""
    digest = hashlib.sha256()
    for path in sorted((ASSETS / program.name).rglob("*")):
        if path.is_file():
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]
