"""The node's CNI and storage manifests: placeholders filled, every image preloaded."""

from pathlib import Path

import pytest
import yaml

from harness.errors import InvalidInput
from harness.images.catalog import lab_images
from harness.settings import Versions
from harness.templates import fill_placeholders

MANIFESTS = Path(__file__).parents[2] / "harness" / "images" / "assets" / "node" / "manifests"
VALUES = {
    "kube_router_image": "harness.local/kube-router:v2.1.0",
    "local_path_image": "harness.local/local-path-provisioner:v0.0.30",
    "toolbox_image": "harness.local/toolbox:bookworm-abc",
}


def test_unknown_placeholder_names_the_file():
    with pytest.raises(InvalidInput) as err:
        fill_placeholders("image: @nope@", VALUES, "default-cni.yaml")
    assert "default-cni.yaml" in str(err.value)
    assert "@nope@" in str(err.value)


def test_text_without_placeholders_is_unchanged():
    text = 'setup: |-\n  mkdir -m 0777 -p "$VOL_DIR"\n'
    assert fill_placeholders(text, VALUES, "x") == text


@pytest.mark.parametrize("name", ["default-cni.yaml", "default-storage.yaml"])
def test_every_image_is_one_the_node_preloads(name):
    docs = list(yaml.safe_load_all(fill_placeholders((MANIFESTS / name).read_text(), VALUES, name)))
    preloaded = {image.ref for image in lab_images(Versions())} | {VALUES["toolbox_image"]}
    images = set()
    for doc in docs:
        spec = (doc.get("spec") or {}).get("template", {}).get("spec", {})
        for container in spec.get("initContainers", []) + spec.get("containers", []):
            images.add(container["image"])
            assert container.get("imagePullPolicy") == "IfNotPresent"
    assert images
    assert images <= preloaded


def test_kind_would_not_template_or_patch_our_cni_manifest():
    # kind rewrites manifests containing these phrases; ours must be applied verbatim.
    text = (MANIFESTS / "default-cni.yaml").read_text()
    assert "would you kindly" not in text
