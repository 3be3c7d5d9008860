"""chaostoolkit activities: the harness's mechanism runs, phase by phase.

As chaostoolkit-kubernetes lays out its activities: ``actions`` (begin_mechanism,
strike_mechanism, restore_pipeline) and ``probes`` (pipeline_whole, mechanism_outcome),
plain typed functions returning JSON values, named in an experiment with a ``python``
provider (module ``harness.chaostoolkit.actions`` or ``.probes``). ``runs`` keeps a run
open between them; ``experiment`` writes the experiment of a mechanism from the
catalog; ``loader`` reads a file as chaostoolkit does (JSON or YAML); ``validation``
checks every field against what these activities accept, with ``tolerances``,
chaostoolkit's tolerance rules checked against what a probe returns. The activities
open their clients from the harness's settings (the lab's kubeconfig and context), so
``chaos run experiments/driver_restart.json`` works from a shell with the lab up.
"""

from __future__ import annotations

from importlib.metadata import version
from typing import Any

__all__ = ["discover"]


def discover(discover_system: bool = True) -> dict[str, Any]:
    """The activities, as ``chaos discover`` reports an extension's (chaosk8s.discover)."""
    from chaoslib.discovery.discover import (
        discover_actions,
        discover_probes,
        initialize_discovery_result,
    )

    discovery: dict[str, Any] = initialize_discovery_result(
        "spark-chaos-harness", version("spark-chaos-harness"), "kubernetes"
    )
    discovery["activities"].extend(discover_actions("harness.chaostoolkit.actions"))
    discovery["activities"].extend(discover_probes("harness.chaostoolkit.probes"))
    return discovery
