"""Unit-test settings.

Hypothesis's per-example deadline (200 ms by default) measures the machine's load, not
the code: `make test` runs the unit tests on two cores beside a live cluster with Spark
running, where test_reconcile's examples were seen taking longer than the deadline
(DeadlineExceeded) with nothing wrong. Examples are still bounded by their count.
"""

from hypothesis import settings

settings.register_profile("harness", deadline=None)
settings.load_profile("harness")
