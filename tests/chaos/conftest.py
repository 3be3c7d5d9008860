"""Mechanism tests: the real cluster, the deployed pipeline, one fault each."""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/chaos/" in str(item.path):
            item.add_marker(pytest.mark.lab)
            item.add_marker(pytest.mark.pipeline)
