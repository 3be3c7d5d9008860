"""Label selector evaluation: which policies select which pods (for isolation faults)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.chaos.selectors import matches
from harness.errors import InvalidInput

LABELS = {"spark-role": "driver", "app": "events"}


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ({}, True),
        (None, True),
        ({"matchLabels": {"spark-role": "driver"}}, True),
        ({"matchLabels": {"spark-role": "executor"}}, False),
        (
            {"matchExpressions": [{"key": "spark-role", "operator": "In", "values": ["driver"]}]},
            True,
        ),
        (
            {
                "matchExpressions": [
                    {"key": "spark-role", "operator": "NotIn", "values": ["driver"]}
                ]
            },
            False,
        ),
        ({"matchExpressions": [{"key": "missing", "operator": "NotIn", "values": ["x"]}]}, True),
        ({"matchExpressions": [{"key": "app", "operator": "Exists"}]}, True),
        ({"matchExpressions": [{"key": "app", "operator": "DoesNotExist"}]}, False),
        (
            {
                "matchLabels": {"app": "events"},
                "matchExpressions": [{"key": "spark-role", "operator": "In", "values": ["x"]}],
            },
            False,
        ),
    ],
)
def test_selector_semantics(selector: dict[str, object] | None, expected: bool) -> None:
    assert matches(selector, LABELS) is expected


def test_an_unknown_operator_is_named() -> None:
    with pytest.raises(InvalidInput, match=r"matchExpressions\[0\]\.operator"):
        matches({"matchExpressions": [{"key": "a", "operator": "Gt"}]}, LABELS)


@given(st.dictionaries(st.sampled_from("abc"), st.sampled_from("xyz")))
def test_match_labels_is_a_subset_test(required: dict[str, str]) -> None:
    labels = {"a": "x", "b": "y"}
    assert matches({"matchLabels": required}, labels) == (required.items() <= labels.items())
