"""The nightly CI workflow's linter: actionlint, compiled from the Go module proxy into the
harness's cache (outside the clone), then run on the workflow files.

``python -m harness.ci [FILE...]`` (or ``.ci/actionlint``) builds it on first use and lints
``.github/workflows/*.yml`` and the copy under docs/; exit status is actionlint's.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from harness.images.gobuild import GoProgram, build
from harness.settings import PROJECT_ROOT, cache_dir

__all__ = ["ACTIONLINT", "WORKFLOWS", "actionlint", "lint_workflows", "main"]

ACTIONLINT = GoProgram(
    "actionlint",
    "v1.7.12",
    ("github.com/rhysd/actionlint/cmd/actionlint",),
    module="github.com/rhysd/actionlint",
)
WORKFLOWS = (
    PROJECT_ROOT / ".github" / "workflows" / "nightly.yml",
    PROJECT_ROOT / "docs" / "ci" / "nightly.yml",
)


def actionlint() -> Path:
    """The actionlint binary, built unless the cache holds this exact version."""
    return build(ACTIONLINT, cache_dir() / "logs") / "actionlint"


def lint_workflows(files: Sequence[Path] = WORKFLOWS) -> subprocess.CompletedProcess[str]:
    """actionlint's verdict on the files (returncode 0: clean), with its output."""
    return subprocess.run(
        [str(actionlint()), "-no-color", *map(str, files)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=PROJECT_ROOT,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Lint the given workflow files (default: the nightly workflow and its docs copy)."""
    args = list(sys.argv[1:] if argv is None else argv)
    done = lint_workflows([Path(a) for a in args] if args else WORKFLOWS)
    sys.stdout.write(done.stdout + done.stderr)
    if done.returncode == 0:
        sys.stdout.write("actionlint: no problems\n")
    return done.returncode


if __name__ == "__main__":
    sys.exit(main())
