"""Java libraries from Maven Central, resolved by Maven itself and cached by recipe.

We never hand-pick transitive jars: a generated pom names what we need and
``mvn dependency:copy-dependencies`` copies the runtime closure (or exactly the named
artifacts, when the consumer already ships their dependencies, as Spark does).
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from harness.settings import cache_dir
from harness.steps import run_logged

__all__ = ["JarSet", "resolve"]


@dataclass(frozen=True)
class JarSet:
    """A named set of Maven artifacts (group:artifact:version)."""

    name: str
    artifacts: tuple[str, ...]
    transitive: bool
    """Copy the runtime closure; False copies only the named artifacts."""

    def recipe(self) -> str:
        """Digest of what decides the folder's content."""
        text = json.dumps([self.name, self.artifacts, self.transitive])
        return hashlib.sha256(text.encode()).hexdigest()[:12]


def _pom(jars: JarSet) -> str:
    deps = []
    for coord in jars.artifacts:
        group, artifact, version = coord.split(":")
        deps.append(
            "    <dependency>"
            f"<groupId>{group}</groupId><artifactId>{artifact}</artifactId>"
            f"<version>{version}</version></dependency>"
        )
    return (
        '<project xmlns="http://maven.apache.org/POM/4.0.0">\n'
        "  <modelVersion>4.0.0</modelVersion>\n"
        f"  <groupId>harness.local</groupId><artifactId>{jars.name}</artifactId>"
        "<version>1</version><packaging>pom</packaging>\n"
        "  <dependencies>\n" + "\n".join(deps) + "\n  </dependencies>\n</project>\n"
    )


def resolve(jars: JarSet, log_dir: Path) -> Path:
    """Return a folder holding the jars, running Maven only when the cache lacks them."""
    out = cache_dir() / "jars" / f"{jars.name}-{jars.recipe()}"
    if (out / ".done").exists():
        return out
    work = cache_dir() / "jars" / f"{jars.name}.work"
    shutil.rmtree(work, ignore_errors=True)
    shutil.rmtree(out, ignore_errors=True)
    work.mkdir(parents=True)
    (work / "pom.xml").write_text(_pom(jars))
    run_logged(
        f"mvn resolve {jars.name}",
        [
            "mvn",
            "-B",
            "-q",
            "-f",
            str(work / "pom.xml"),
            "org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies",
            f"-DoutputDirectory={out}",
            "-DincludeScope=runtime",
            f"-DexcludeTransitive={'false' if jars.transitive else 'true'}",
        ],
        log_dir / f"mvn-{jars.name}.log",
    )
    (out / ".done").write_text(jars.recipe())
    shutil.rmtree(work, ignore_errors=True)
    return out
