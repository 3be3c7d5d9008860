"""Where the lab's images come from: upstream registries, or the offline builder."""

from harness.images.source import LabImages, resolve_images

__all__ = ["LabImages", "resolve_images"]
