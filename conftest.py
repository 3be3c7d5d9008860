"""Wires the harness's fixtures into pytest (options and markers live in pyproject.toml)."""

pytest_plugins = ["fixtures.cluster", "fixtures.pipeline"]
