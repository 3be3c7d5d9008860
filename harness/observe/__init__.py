"""Observing the cluster: waits with deadlines (watches and PromQL come with the core)."""

from harness.observe.wait import wait_until

__all__ = ["wait_until"]
