"""The pipeline's images: offline from package registries, or the upstream ones.

Offline, every image is built here and cached by recipe like the lab's:

* Spark: Debian's JRE 17 + the Spark distribution carried by the pyspark sdist (jars,
  bin/, the Python package, py4j) + the Kafka connector jars from Maven Central + our
  driver/executor entrypoint and executor decommission script (the sdist has neither).
* the Spark operator: the Spark image + the operator compiled from the Go module proxy
  (it runs spark-submit, so it needs the distribution too).
* Kafka: Debian's JRE 17 + the broker's runtime closure resolved by Maven.
* Go programs (Prometheus Operator and its config reloader, Prometheus, Alertmanager,
  kube-state-metrics, metrics-server, VPA, the versitygw object store, our own
  pipeline-tools) on the lab's Debian toolbox base.

With a registry reachable the upstream images are used instead, except pipeline-tools,
our own program, which is always built here (it needs only the Go module proxy).
"""

from __future__ import annotations

import hashlib
import shutil
import tarfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

from harness.aptsources import debian_mirror
from harness.images.catalog import pipeline_programs
from harness.images.docker import build_image, has_image, import_rootfs
from harness.images.gobuild import ASSETS, GoProgram, build, outputs
from harness.images.maven import JarSet, resolve
from harness.images.pypi import fetch_sdist
from harness.images.rootfs import JRE_ROOTFS, ensure_rootfs
from harness.progress import note, phase
from harness.settings import LabSettings, PipelineVersions, cache_dir

__all__ = ["ROLES", "PipelineImages", "build_pipeline_images", "upstream_pipeline_images"]

ROLES = (
    "spark",
    "spark_operator",
    "kafka",
    "tools",
    "prometheus_operator",
    "config_reloader",
    "prometheus",
    "alertmanager",
    "kube_state_metrics",
    "metrics_server",
    "vpa_recommender",
    "vpa_updater",
    "vpa_admission",
    "object_store",
)
"""Every image the manifests name, as @<role>_image@ placeholders."""

SPARK_UID = 185
_LAYOUT_VERSION = "2"
"""Bump when _spark_distribution changes what it lays out."""
JAVA_HOME = "/usr/lib/jvm/java-17-openjdk-amd64"


@dataclass(frozen=True)
class PipelineImages:
    """Image reference per role, and where they came from."""

    source: str
    refs: dict[str, str]
    seconds: float = 0.0
    intermediates: tuple[str, ...] = ()
    """Images built on the way that no manifest names (the JRE base; harness images save)."""
    cached: tuple[Path, ...] = ()
    """The cache files and folders the warm path checks: Go outputs, the JRE root
    filesystem, the jar sets, the pyspark sdist."""

    def placeholders(self) -> dict[str, str]:
        """@<role>_image@ values for the manifests."""
        return {f"{role}_image": ref for role, ref in self.refs.items()}


def tools_program() -> GoProgram:
    """Our own Go tools: the producer, topic and sink readers, backup and restore."""
    return GoProgram("pipeline-tools", "1", ("./",), outputs=("pipeline-tools",))


def upstream_pipeline_images(p: PipelineVersions, tools_ref: str) -> PipelineImages:
    """The images a machine with a registry pulls (pipeline-tools is always ours)."""
    quay, k8s = "quay.io", "registry.k8s.io"
    vpa, po = p.vpa.lstrip("v"), p.prometheus_operator
    refs = {
        "spark": f"docker.io/apache/spark:{p.spark}-scala2.13-java17-python3-ubuntu",
        "spark_operator": f"ghcr.io/kubeflow/spark-operator/controller:{p.spark_operator[1:]}",
        "kafka": f"docker.io/apache/kafka:{p.kafka}",
        "tools": tools_ref,
        "prometheus_operator": f"{quay}/prometheus-operator/prometheus-operator:{po}",
        "config_reloader": f"{quay}/prometheus-operator/prometheus-config-reloader:{po}",
        "prometheus": f"{quay}/prometheus/prometheus:{p.prometheus_app}",
        "alertmanager": f"{quay}/prometheus/alertmanager:{p.alertmanager}",
        "kube_state_metrics": f"{k8s}/kube-state-metrics/kube-state-metrics:{p.kube_state_metrics}",
        "metrics_server": f"{k8s}/metrics-server/metrics-server:{p.metrics_server}",
        "vpa_recommender": f"{k8s}/autoscaling/vpa-recommender:{vpa}",
        "vpa_updater": f"{k8s}/autoscaling/vpa-updater:{vpa}",
        "vpa_admission": f"{k8s}/autoscaling/vpa-admission-controller:{vpa}",
        "object_store": f"docker.io/versity/versitygw:{p.versitygw}",
    }
    return PipelineImages("upstream", refs)


@dataclass(frozen=True)
class _GoImage:
    role: str
    repo: str
    program: str
    binaries: tuple[str, ...]
    entrypoint: tuple[str, ...]
    user: str = "65534"


def _go_images(p: PipelineVersions) -> list[_GoImage]:
    return [
        _GoImage(
            "prometheus_operator",
            f"prometheus-operator:{p.prometheus_operator}",
            "prometheus-operator",
            ("operator",),
            ("/bin/operator",),
        ),
        _GoImage(
            "config_reloader",
            f"prometheus-config-reloader:{p.prometheus_operator}",
            "prometheus-operator",
            ("prometheus-config-reloader",),
            ("/bin/prometheus-config-reloader",),
        ),
        _GoImage(
            "prometheus",
            f"prometheus:{p.prometheus_app}",
            "prometheus",
            ("prometheus",),
            ("/bin/prometheus",),
        ),
        _GoImage(
            "alertmanager",
            f"alertmanager:{p.alertmanager}",
            "alertmanager",
            ("alertmanager",),
            ("/bin/alertmanager",),
        ),
        _GoImage(
            "kube_state_metrics",
            f"kube-state-metrics:{p.kube_state_metrics}",
            "kube-state-metrics",
            ("kube-state-metrics",),
            ("/bin/kube-state-metrics",),
        ),
        _GoImage(
            "metrics_server",
            f"metrics-server:{p.metrics_server}",
            "metrics-server",
            ("metrics-server",),
            ("/bin/metrics-server",),
        ),
        _GoImage(
            "vpa_recommender",
            f"vpa-recommender:{p.vpa}",
            "vpa",
            ("recommender",),
            ("/bin/recommender",),
        ),
        _GoImage("vpa_updater", f"vpa-updater:{p.vpa}", "vpa", ("updater",), ("/bin/updater",)),
        _GoImage(
            "vpa_admission",
            f"vpa-admission-controller:{p.vpa}",
            "vpa",
            ("admission-controller",),
            ("/bin/admission-controller",),
        ),
        _GoImage(
            "object_store",
            f"versitygw:{p.versitygw}",
            "versitygw",
            ("versitygw",),
            ("/bin/versitygw",),
            user=str(SPARK_UID),
        ),
        _GoImage(
            "tools",
            "pipeline-tools:1",
            "pipeline-tools",
            ("pipeline-tools",),
            ("/bin/pipeline-tools",),
            user=str(SPARK_UID),
        ),
    ]


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:12]


def build_pipeline_images(
    settings: LabSettings,
    toolbox: str,
    p: PipelineVersions | None = None,
    only: tuple[str, ...] = (),
) -> PipelineImages:
    """Build (or find cached) every pipeline image, or only the given roles; resumable."""
    p = p or PipelineVersions()
    begun = time.monotonic()
    logs = cache_dir() / "logs"
    programs = {**pipeline_programs(p), "pipeline-tools": tools_program()}
    wanted = [i for i in _go_images(p) if not only or i.role in only]
    needed = {i.program for i in wanted} | ({"spark-operator"} if not only else set())
    needed -= {"helm", "controller-gen"}  # tools of the deploy, built when used
    bins: dict[str, Path] = {}
    cached: list[Path] = []
    for name, program in programs.items():
        if name not in needed:
            continue
        with phase(f"go build {name} {program.version}"):
            bins[name] = build(program, logs)
        cached += outputs(program)
    refs: dict[str, str] = {}
    with phase("container images (Go programs)"):
        for image in wanted:
            recipe = _digest(programs[image.program].recipe(), toolbox, *image.entrypoint)
            # The recipe in the tag: a rebuilt image gets a new name, so the manifests
            # change and Kubernetes rolls the pods (a reused tag would keep old pods).
            ref = f"harness.local/{image.repo}-{recipe[:8]}"
            if not has_image(ref, recipe):
                note(f"  building {ref}")
                lines = [f"FROM {toolbox}"]
                # /bin (= /usr/bin on Debian) is where the upstream images keep them, and
                # where Prometheus Operator points its config reloader's command.
                lines += [f"COPY {b} /usr/bin/{b}" for b in image.binaries]
                quoted = ", ".join(f'"{x}"' for x in image.entrypoint)
                lines += [f"USER {image.user}", f"ENTRYPOINT [{quoted}]"]
                build_image(
                    ref,
                    recipe,
                    "\n".join(lines),
                    {b: bins[image.program] / b for b in image.binaries},
                )
            refs[image.role] = ref
    intermediates: tuple[str, ...] = ()
    if not only:
        with phase("Java images (JRE 17, Spark, Spark operator, Kafka)"):
            java, jre, java_cached = _java_images(settings, p, bins["spark-operator"], logs)
        refs.update(java)
        intermediates = (jre,)
        cached += java_cached
    return PipelineImages("offline", refs, time.monotonic() - begun, intermediates, tuple(cached))


def _java_images(
    settings: LabSettings, p: PipelineVersions, operator_bin: Path, logs: Path
) -> tuple[dict[str, str], str, list[Path]]:
    """The Spark, operator and Kafka images; the JRE base; the cache entries they came from."""
    mirror = settings.debian_mirror or debian_mirror(JRE_ROOTFS.suite)
    jre_tar = ensure_rootfs(JRE_ROOTFS, mirror, logs)
    jre = f"harness.local/jre:17-{jre_tar.stem.rsplit('-', 1)[-1]}"
    if not has_image(jre, jre_tar.stem):
        import_rootfs(
            jre_tar,
            jre,
            jre_tar.stem,
            [
                f"ENV JAVA_HOME={JAVA_HOME}",
                "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            ],
        )

    connector = resolve(
        JarSet(
            "spark-kafka",
            (
                f"org.apache.spark:spark-sql-kafka-0-10_2.13:{p.spark}",
                f"org.apache.spark:spark-token-provider-kafka-0-10_2.13:{p.spark}",
                f"org.apache.kafka:kafka-clients:{p.kafka_clients}",
                f"org.apache.commons:commons-pool2:{p.commons_pool2}",
            ),
            transitive=False,
        ),
        logs,
    )
    sdist = fetch_sdist("pyspark", p.spark, logs)
    entrypoint = ASSETS / "spark" / "entrypoint.sh"
    decom = ASSETS / "spark" / "decom.sh"
    spark_recipe = _digest(
        jre_tar.stem,
        sdist.name,
        connector.name,
        entrypoint.read_text(),
        decom.read_text(),
        _LAYOUT_VERSION,
    )
    spark = f"harness.local/spark:{p.spark}-{spark_recipe}"
    if not has_image(spark, spark_recipe):
        dist = _spark_distribution(sdist, connector, spark_recipe)
        note(f"  building {spark}")
        build_image(
            spark,
            spark_recipe,
            "\n".join(
                [
                    f"FROM {jre}",
                    "COPY spark /opt/spark",
                    "COPY entrypoint.sh /opt/entrypoint.sh",
                    # The executors' preStop hook under decommission, where upstream's
                    # image has its own (spark.kubernetes.decommission.script).
                    "COPY decom.sh /opt/decom.sh",
                    f"RUN echo 'spark:x:{SPARK_UID}:{SPARK_UID}:spark:/opt/spark:/bin/bash'"
                    " >> /etc/passwd"
                    f" && echo 'spark:x:{SPARK_UID}:' >> /etc/group"
                    " && mkdir -p /opt/spark/work-dir /opt/spark/conf"
                    f" && chown {SPARK_UID}:{SPARK_UID} /opt/spark/work-dir"
                    " && chmod 0755 /opt/decom.sh",
                    "ENV SPARK_HOME=/opt/spark",
                    "ENV PYTHONPATH=/opt/spark/python/lib/pyspark.zip:"
                    "/opt/spark/python/lib/py4j-src.zip",
                    "ENV PYSPARK_PYTHON=python3",
                    "ENV PATH=/opt/spark/bin:/usr/local/sbin:/usr/local/bin:"
                    "/usr/sbin:/usr/bin:/sbin:/bin",
                    "WORKDIR /opt/spark/work-dir",
                    f"USER {SPARK_UID}",
                    'ENTRYPOINT ["/opt/entrypoint.sh"]',
                ]
            ),
            {"spark": dist, "entrypoint.sh": entrypoint, "decom.sh": decom},
        )

    operator_recipe = _digest(spark_recipe, pipeline_programs(p)["spark-operator"].recipe())
    operator = f"harness.local/spark-operator:{p.spark_operator}-{operator_recipe}"
    if not has_image(operator, operator_recipe):
        note(f"  building {operator}")
        build_image(
            operator,
            operator_recipe,
            "\n".join(
                [
                    f"FROM {spark}",
                    "COPY spark-operator /usr/bin/spark-operator",
                    f"USER {SPARK_UID}",
                    'ENTRYPOINT ["/usr/bin/tini", "-s", "--", "/usr/bin/spark-operator"]',
                ]
            ),
            {"spark-operator": operator_bin / "spark-operator"},
        )

    broker = resolve(
        JarSet(
            "kafka-broker",
            (
                f"org.apache.kafka:kafka_2.13:{p.kafka}",
                "org.apache.logging.log4j:log4j-slf4j-impl:2.25.5",
            ),
            transitive=True,
        ),
        logs,
    )
    kafka_entry = ASSETS / "kafka" / "entrypoint.sh"
    kafka_recipe = _digest(jre_tar.stem, broker.name, kafka_entry.read_text())
    kafka = f"harness.local/kafka:{p.kafka}-{kafka_recipe}"
    if not has_image(kafka, kafka_recipe):
        note(f"  building {kafka}")
        build_image(
            kafka,
            kafka_recipe,
            "\n".join(
                [
                    f"FROM {jre}",
                    "COPY libs /opt/kafka/libs",
                    "COPY entrypoint.sh /opt/kafka/entrypoint.sh",
                    f"USER {SPARK_UID}",
                    'ENTRYPOINT ["/opt/kafka/entrypoint.sh"]',
                ]
            ),
            {"libs": broker, "entrypoint.sh": kafka_entry},
        )
    refs = {"spark": spark, "spark_operator": operator, "kafka": kafka}
    return refs, jre, [jre_tar, connector, sdist, broker]


def _spark_distribution(sdist: Path, connector: Path, recipe: str) -> Path:
    """Lay out SPARK_HOME from the sdist (deps/ → bin, sbin, jars; pyspark → python)."""
    out = cache_dir() / "spark-dist" / recipe
    if (out / ".done").exists():
        return out / "spark"
    shutil.rmtree(out, ignore_errors=True)
    home = out / "spark"
    (home / "python" / "lib").mkdir(parents=True)
    prefix = sdist.name.removesuffix(".tar.gz") + "/"
    with tarfile.open(sdist) as archive:
        for member in archive.getmembers():
            name = member.name.removeprefix(prefix)
            if name.startswith("deps/") and name.split("/")[1] in ("bin", "sbin", "jars"):
                target = home / name.removeprefix("deps/")
            elif name.startswith("pyspark/"):
                target = home / "python" / name
            elif name.startswith("lib/py4j-") and name.endswith("-src.zip"):
                target = home / "python" / "lib" / "py4j-src.zip"
            else:
                continue
            if member.isdir():
                target.mkdir(parents=True, exist_ok=True)
            elif member.isfile():
                target.parent.mkdir(parents=True, exist_ok=True)
                source = archive.extractfile(member)
                assert source is not None
                with source, target.open("wb") as sink:
                    shutil.copyfileobj(source, sink)
                target.chmod(0o755 if name.startswith("deps/") else 0o644)
    for jar in connector.glob("*.jar"):
        shutil.copy2(jar, home / "jars" / jar.name)
    with zipfile.ZipFile(home / "python" / "lib" / "pyspark.zip", "w") as pyzip:
        for path in sorted((home / "python" / "pyspark").rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                pyzip.write(path, path.relative_to(home / "python"))
    (out / ".done").write_text(recipe)
    return home
