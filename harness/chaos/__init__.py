"""Faults and their rollbacks: every fault registers how to undo it before it strikes.

pods      - delete a pod; freeze (SIGSTOP, thawed on rollback) or kill processes in one
nodes     - cordon, drain (Eviction API, as kubectl), stop a node's container
evictions - evict one pod with its grace period (its preStop hook runs), as a drain does
volumes   - fill a claim to 100% and hold it there
network   - isolate pods (set the selecting NetworkPolicies aside, deny all)
pressure  - CPU burners and a memory hog pinned to a node
burn      - a CPU busy loop exec'd into running containers (their own cgroups)
"""

from harness.chaos.burn import CpuBurn, burn_cpu
from harness.chaos.evictions import evict
from harness.chaos.network import Isolation, isolate
from harness.chaos.nodes import cordon, drain, start_node, stop_node
from harness.chaos.pods import delete_pod, freeze_process, kill_process
from harness.chaos.pressure import cpu_pressure, memory_pressure
from harness.chaos.rollback import Rollback, RollbackFailed, Rollbacks
from harness.chaos.scope import FaultScope
from harness.chaos.volumes import Fill, fill_volume

__all__ = [
    "CpuBurn",
    "FaultScope",
    "Fill",
    "Isolation",
    "Rollback",
    "RollbackFailed",
    "Rollbacks",
    "burn_cpu",
    "cordon",
    "cpu_pressure",
    "delete_pod",
    "drain",
    "evict",
    "fill_volume",
    "freeze_process",
    "isolate",
    "kill_process",
    "memory_pressure",
    "start_node",
    "stop_node",
]
