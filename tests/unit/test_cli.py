"""Bad input to the command line gets a clear error and changes nothing."""

import pytest

from harness.cli import main
from harness.errors import InvalidInput
from harness.images.source import resolve_images
from harness.settings import LabSettings


def test_unknown_image_source_in_environment_is_rejected(monkeypatch, capsys):
    monkeypatch.setenv("HARNESS_IMAGES", "registry-please")
    assert main(["images", "build"]) == 2
    err = capsys.readouterr().err
    assert "image source" in err
    assert "auto, offline, upstream" in err
    assert "registry-please" in err


def test_invalid_source_fails_before_any_build(monkeypatch):
    def forbidden(*args, **kwargs):
        raise AssertionError("nothing may be built for bad input")

    monkeypatch.setattr("harness.images.source.build_lab_images", forbidden)
    monkeypatch.setattr("harness.images.source.build", forbidden)
    with pytest.raises(InvalidInput):
        resolve_images(LabSettings(image_source="bogus"))


def test_unknown_option_value_is_an_argparse_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--images", "bogus", "images", "build"])
    assert exit_info.value.code == 2
    assert "invalid choice" in capsys.readouterr().err
