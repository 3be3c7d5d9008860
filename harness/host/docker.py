"""Host setup: a Docker Engine that can run privileged kind nodes, or proof that one does.

On the lab VMs the capability bounding set lacks CAP_SYS_RESOURCE, and Docker asks runc
for every capability it knows when a container is privileged, so ``docker run
--privileged`` fails with "unable to apply caps". The fix is a runtime wrapper
(runc-capstrip) registered as Docker's default runtime. A host whose Docker already
runs privileged containers is left exactly as it is.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from harness.errors import ClusterUnavailable, StepFailed
from harness.images.catalog import go_programs
from harness.images.gobuild import build
from harness.progress import note, phase
from harness.settings import Versions, cache_dir
from harness.steps import run

__all__ = ["HostReport", "missing_capabilities", "setup_host"]

WRAPPER_PATH = Path("/usr/local/sbin/runc-capstrip")
RUNTIME_NAME = "capstrip"
DAEMON_JSON = Path("/etc/docker/daemon.json")
DOCKERD_LOG = Path("/var/log/harness-dockerd.log")
PROBE_IMAGE = "harness.local/probe:1"
CAP_SYS_RESOURCE = 24
APT_PACKAGES = ("docker.io", "debootstrap")
INOTIFY_MINIMUM = {"fs.inotify.max_user_watches": 524288, "fs.inotify.max_user_instances": 512}


@dataclass(frozen=True)
class HostReport:
    """What host setup found and did."""

    changed: list[str]
    docker_version: str


def missing_capabilities(status_text: str) -> list[int]:
    """Capability numbers (0..40) absent from the CapBnd line of /proc/<pid>/status."""
    for line in status_text.splitlines():
        if line.startswith("CapBnd:"):
            bounding = int(line.split(":", 1)[1].strip(), 16)
            return [cap for cap in range(41) if not bounding & (1 << cap)]
    raise ValueError("no CapBnd line in status text")


def setup_host() -> HostReport:
    """Make Docker able to run kind nodes; idempotent; changes nothing on a working host."""
    changed: list[str] = []
    with phase("host: Docker Engine"):
        if _docker_works():
            note("  dockerd answers")
        else:
            changed += _install_packages()
            if missing_capabilities(Path("/proc/self/status").read_text()):
                changed += _install_wrapper()
            changed += _start_dockerd()
        changed += _raise_inotify_limits()
    with phase("host: prove docker run/exec --privileged"):
        try:
            _prove_privileged()
        except StepFailed as exc:
            if "unable to apply caps" not in str(exc) or _wrapper_registered():
                raise
            note("  privileged containers fail on capabilities: installing runc-capstrip")
            changed += _install_wrapper()
            changed += _restart_dockerd()
            _prove_privileged()
    version = run("docker version", ["docker", "version", "--format", "{{.Server.Version}}"])
    return HostReport(changed, version.stdout.decode().strip())


def _docker_works() -> bool:
    return (
        shutil.which("docker") is not None
        and run(
            "docker info",
            ["docker", "info", "--format", "{{.ServerVersion}}"],
            check=False,
            timeout=30,
        ).returncode
        == 0
    )


def _require_root(what: str) -> None:
    if os.geteuid() != 0:
        raise ClusterUnavailable(
            f"host setup must {what}, which needs root; run it as root or fix Docker by hand"
        )


def _install_packages() -> list[str]:
    needed = [
        p
        for p, exe in (("docker.io", "dockerd"), ("debootstrap", "debootstrap"))
        if shutil.which(exe) is None and not Path(f"/usr/sbin/{exe}").exists()
    ]
    if not needed:
        return []
    _require_root(f"install {', '.join(needed)} from Debian")
    env = {"DEBIAN_FRONTEND": "noninteractive"}
    with phase(f"apt-get install {' '.join(needed)}"):
        run("apt-get update", ["apt-get", "update"], env=env, timeout=600)
        run(
            "apt-get install",
            ["apt-get", "install", "-y", "--no-install-recommends", *needed],
            env=env,
            timeout=1200,
        )
    return [f"installed {p}" for p in needed]


def _install_wrapper() -> list[str]:
    _require_root("install the runc wrapper")
    built = build(go_programs(Versions())["runc-capstrip"], cache_dir() / "logs") / "runc-capstrip"
    changed: list[str] = []
    if not WRAPPER_PATH.exists() or WRAPPER_PATH.read_bytes() != built.read_bytes():
        shutil.copy2(built, WRAPPER_PATH)
        WRAPPER_PATH.chmod(0o755)
        changed.append(f"installed {WRAPPER_PATH}")
    config = json.loads(DAEMON_JSON.read_text()) if DAEMON_JSON.exists() else {}
    wanted = dict(config)
    wanted.setdefault("runtimes", {})[RUNTIME_NAME] = {"path": str(WRAPPER_PATH)}
    wanted["default-runtime"] = RUNTIME_NAME
    if wanted != config:
        DAEMON_JSON.parent.mkdir(parents=True, exist_ok=True)
        DAEMON_JSON.write_text(json.dumps(wanted, indent=2) + "\n")
        changed.append(f"registered {RUNTIME_NAME} as Docker's default runtime")
    return changed


def _wrapper_registered() -> bool:
    if not DAEMON_JSON.exists():
        return False
    return bool(json.loads(DAEMON_JSON.read_text()).get("default-runtime") == RUNTIME_NAME)


def _start_dockerd() -> list[str]:
    if _docker_works():
        return []
    _require_root("start dockerd")
    if shutil.which("systemctl") and Path("/run/systemd/system").exists():
        run("systemctl start docker", ["systemctl", "start", "docker"], timeout=120)
    else:
        with DOCKERD_LOG.open("ab") as log:
            subprocess.Popen(
                ["dockerd"],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
    _wait_for_docker(60.0)
    return ["started dockerd"]


def _restart_dockerd() -> list[str]:
    _require_root("restart dockerd")
    if shutil.which("systemctl") and Path("/run/systemd/system").exists():
        run("systemctl restart docker", ["systemctl", "restart", "docker"], timeout=120)
    else:
        pids = run("find dockerd", ["pidof", "dockerd"], check=False).stdout.split()
        for pid in pids:
            os.kill(int(pid), 15)
        deadline = time.monotonic() + 60
        while _docker_works() and time.monotonic() < deadline:
            time.sleep(0.5)
        _start_dockerd()
    _wait_for_docker(60.0)
    return ["restarted dockerd"]


def _wait_for_docker(seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not _docker_works():
        if time.monotonic() > deadline:
            tail = DOCKERD_LOG.read_text()[-2000:] if DOCKERD_LOG.exists() else "(no log)"
            raise ClusterUnavailable(
                f"dockerd did not answer within {seconds:.0f}s; last log lines:\n{tail}"
            )
        time.sleep(0.5)


def _raise_inotify_limits() -> list[str]:
    """kind nodes each run a kubelet and systemd; low inotify limits make pods fail."""
    changed: list[str] = []
    for key, minimum in INOTIFY_MINIMUM.items():
        path = Path("/proc/sys") / key.replace(".", "/")
        if int(path.read_text()) < minimum and os.geteuid() == 0:
            path.write_text(str(minimum))
            changed.append(f"{key}={minimum}")
    return changed


def _prove_privileged() -> None:
    """Run a privileged container and a privileged exec in it, from a local image."""
    pause = build(go_programs(Versions())["pause"], cache_dir() / "logs") / "pause"
    if run("inspect probe", ["docker", "image", "inspect", PROBE_IMAGE], check=False).returncode:
        tar = cache_dir() / "probe.tar"
        run("pack probe image", ["tar", "-C", str(pause.parent), "-cf", str(tar), "pause"])
        run(
            "import probe image",
            ["docker", "import", "--change", 'ENTRYPOINT ["/pause"]', str(tar), PROBE_IMAGE],
        )
    run(
        "docker run --privileged",
        ["docker", "run", "--rm", "--privileged", PROBE_IMAGE, "-v"],
        timeout=60,
    )
    name = f"harness-probe-{os.getpid()}"
    run(
        "start privileged probe",
        ["docker", "run", "-d", "--rm", "--privileged", "--name", name, PROBE_IMAGE],
        timeout=60,
    )
    try:
        run(
            "docker exec --privileged",
            ["docker", "exec", "--privileged", name, "/pause", "-v"],
            timeout=60,
        )
    finally:
        run("stop probe", ["docker", "rm", "-f", name], check=False, timeout=60)
