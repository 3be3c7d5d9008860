"""The images the node preloads carry exactly the names kubeadm v1.34 asks for."""

from harness.images.catalog import control_plane_images, lab_images
from harness.settings import Versions


def test_control_plane_images_match_kubeadm_v1_34():
    refs = {image.ref for image in control_plane_images(Versions())}
    assert refs == {
        "registry.k8s.io/kube-apiserver:v1.34.4",
        "registry.k8s.io/kube-controller-manager:v1.34.4",
        "registry.k8s.io/kube-scheduler:v1.34.4",
        "registry.k8s.io/kube-proxy:v1.34.4",
        "registry.k8s.io/etcd:3.6.5-0",
        "registry.k8s.io/coredns/coredns:v1.12.1",
        "registry.k8s.io/pause:3.10.1",
    }


def test_no_image_uses_latest():
    for image in lab_images(Versions()):
        assert not image.ref.endswith(":latest"), image.ref
        assert ":" in image.ref.rsplit("/", 1)[-1], image.ref


def test_images_that_need_iptables_are_built_on_debian():
    by_ref = {image.ref.split(":")[0]: image for image in lab_images(Versions())}
    assert by_ref["registry.k8s.io/kube-proxy"].on_debian
    assert by_ref["harness.local/kube-router"].on_debian
    assert not by_ref["registry.k8s.io/kube-apiserver"].on_debian
