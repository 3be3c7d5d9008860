"""The nightly CI workflow users copy: it passes actionlint (built from the Go module proxy
by harness.ci), its docs copy is the same file, and the linter does fail a broken one."""

from __future__ import annotations

import shutil

import pytest

from harness.ci import ACTIONLINT, WORKFLOWS, lint_workflows
from harness.settings import cache_dir


@pytest.fixture(scope="module")
def can_build():
    built = cache_dir() / "go" / f"actionlint-{ACTIONLINT.version}" / "bin" / "actionlint"
    if not built.exists() and shutil.which("go") is None:
        pytest.skip("actionlint is not built and Go is not installed")


def test_docs_copy_is_the_workflow():
    workflow, copy = WORKFLOWS
    assert copy.read_text() == workflow.read_text()


def test_nightly_workflow_passes_actionlint(can_build):
    done = lint_workflows()
    assert done.returncode == 0, done.stdout + done.stderr


def test_actionlint_fails_a_broken_workflow(can_build, tmp_path):
    broken = tmp_path / "broken.yml"
    text = WORKFLOWS[0].read_text().replace("runs-on: ubuntu-24.04", "runs-on: [")
    broken.write_text(text.replace("actions/checkout@v4", "actions/checkout@v4\n        with: 3"))
    done = lint_workflows([broken])
    assert done.returncode != 0
