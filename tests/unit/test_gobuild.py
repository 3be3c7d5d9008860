"""The wrapper go.mod that lets us build upstream modules with replace directives."""

from pathlib import Path

import pytest

from harness.images.catalog import go_programs
from harness.images.gobuild import wrapper_go_mod
from harness.settings import Versions

DATA = Path(__file__).parent / "data"


def test_kubernetes_staging_replaces_become_version_pins():
    upstream = (DATA / "kubernetes-v1.34.4.go.mod").read_text()
    mod = wrapper_go_mod("kubernetes", "k8s.io/kubernetes", "v1.34.4", upstream, "v0.34.4", True)
    assert "require k8s.io/kubernetes v1.34.4" in mod
    assert "\tk8s.io/api => k8s.io/api v0.34.4" in mod
    assert "\tk8s.io/kubelet => k8s.io/kubelet v0.34.4" in mod
    assert "./staging" not in mod
    assert "godebug default=go1.24" in mod
    pinned = [line for line in mod.splitlines() if "=> k8s.io/" in line]
    # every staging module upstream requires (all but the two unused samples)
    assert len(pinned) == 29
    assert "sample-controller" not in mod


def test_etcd_forbidden_dependency_guards_are_dropped():
    upstream = (DATA / "etcd-server-v3.6.5.go.mod").read_text()
    mod = wrapper_go_mod("etcd", "go.etcd.io/etcd/server/v3", "v3.6.5", upstream, "v3.6.5", True)
    assert "\tgo.etcd.io/etcd/api/v3 => go.etcd.io/etcd/api/v3 v3.6.5" in mod
    assert "FORBIDDEN" not in mod
    assert "go.etcd.io/etcd =>" not in mod


def test_module_without_replaces_gets_a_plain_require():
    upstream = "module example.com/x\n\ngo 1.23.0\n\nrequire golang.org/x/sys v0.1.0\n"
    mod = wrapper_go_mod("x", "example.com/x", "v1.0.0", upstream, "", True)
    assert mod.splitlines() == [
        "module harness.local/build/x",
        "",
        "go 1.23.0",
        "",
        "require example.com/x v1.0.0",
    ]


def test_remote_replaces_and_excludes_are_copied():
    upstream = (
        "module m\n\ngo 1.22\n\nreplace a.io/b => c.io/b v1.2.3\n\nexclude (\n\td.io/e v0.1.0\n)\n"
    )
    mod = wrapper_go_mod("m", "m", "v1.0.0", upstream, "", True)
    assert "\ta.io/b => c.io/b v1.2.3" in mod
    assert "exclude (\n\td.io/e v0.1.0\n)" in mod


@pytest.mark.parametrize("name", sorted(go_programs(Versions())))
def test_recipe_is_stable_and_names_its_binaries(name):
    program = go_programs(Versions())[name]
    assert program.recipe() == go_programs(Versions())[name].recipe()
    assert program.binaries()
    assert all("/" not in b for b in program.binaries())


def test_recipe_changes_with_the_version():
    kube = go_programs(Versions())["kubernetes"]
    other = go_programs(Versions(kubernetes="v1.34.3"))["kubernetes"]
    assert kube.recipe() != other.recipe()
