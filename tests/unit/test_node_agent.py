"""The in-cluster node fault's pure parts: the agent's script and pod, the way chosen."""

from __future__ import annotations

import pytest

from harness.chaos.node_agent import AGENT_NAMESPACE, agent_pod, agent_script, node_fault_way
from harness.errors import InvalidInput
from harness.invariants import CHAOS_LABEL


def test_the_return_timer_is_armed_before_the_stop() -> None:
    script = agent_script("17", 300)
    timer = script.index("harness-node-return-17 --on-active=300s")
    stop = script.index("harness-node-stop-17")
    assert timer < stop, "the node must be able to come back before anything stops"
    assert script.index("systemctl stop kubelet") < script.index("--signal=SIGKILL")
    assert "systemctl start containerd; systemctl start kubelet" in script
    assert script.startswith("set -e\n")


def test_the_agent_runs_privileged_on_its_node_in_the_hosts_pid_namespace() -> None:
    pod = agent_pod("node-agent-1", "worker", "tools:1", "true")
    spec = pod["spec"]
    assert pod["metadata"]["namespace"] == AGENT_NAMESPACE
    assert pod["metadata"]["labels"][CHAOS_LABEL] == "node-agent"
    assert spec["nodeName"] == "worker"
    assert spec["hostPID"] is True
    assert spec["tolerations"] == [{"operator": "Exists"}]
    container = spec["containers"][0]
    assert container["securityContext"]["privileged"] is True
    assert container["securityContext"]["runAsUser"] == 0
    assert container["command"][:3] == ["nsenter", "-t", "1"]


def test_the_way_is_what_was_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    assert node_fault_way("any", "kubelet") == "kubelet"
    monkeypatch.setenv("HARNESS_NODE_FAULT", "docker")
    assert node_fault_way("any") == "docker"
    # auto: a node that is no local container is failed from inside the cluster
    assert node_fault_way("no-such-node-container", "auto") == "kubelet"
    with pytest.raises(InvalidInput, match="HARNESS_NODE_FAULT"):
        node_fault_way("any", "reboot")
