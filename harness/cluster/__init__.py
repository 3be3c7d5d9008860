"""The lab's kind cluster: create, reuse, check and delete it."""

from harness.cluster.kind import ClusterStatus, cluster_down, cluster_status, cluster_up

__all__ = ["ClusterStatus", "cluster_down", "cluster_status", "cluster_up"]
