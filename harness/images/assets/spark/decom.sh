#!/bin/bash
# The preStop hook of our Spark executor pods. With spark.decommission.enabled, Spark's
# executor pod builder (BasicExecutorFeatureStep) adds a preStop exec of
# spark.kubernetes.decommission.script (default /opt/decom.sh) to the executor container,
# and the executor JVM handles spark.executor.decommission.signal (default PWR). The
# pyspark sdist our image is built from ships no such script, so this is ours.
#
# When the pod is deleted or evicted, the kubelet runs this hook before it sends SIGTERM.
# It sends the signal to the executor JVM, which tells the driver it is decommissioning
# (no new tasks come to it), finishes its running tasks, migrates its blocks and exits 0;
# the hook waits for that exit, so the SIGTERM that follows finds the work handed back.
# The kubelet ends the hook, and then the container, when the pod's grace period runs out.
#
# What it did goes to the termination log, which the kubelet keeps as the container's
# termination message, and to PID 1's stdout, the container log: a hook's own output is
# seen nowhere else. Both are best effort. Needs pgrep (procps) and tail --pid (coreutils).
# The environment variables exist for the harness's unit test of this script.
set -u

backend="${DECOMMISSION_BACKEND:-org.apache.spark.scheduler.cluster.k8s.KubernetesExecutorBackend}"
signal="${DECOMMISSION_SIGNAL:-PWR}"
report="${DECOMMISSION_REPORT:-/dev/termination-log}"
console="${DECOMMISSION_CONSOLE:-/proc/1/fd/1}"

say() {
  local line
  line="$(date -u +%Y-%m-%dT%H:%M:%SZ) decom.sh: $*"
  { echo "$line" >>"$report"; } 2>/dev/null
  { echo "$line" >>"$console"; } 2>/dev/null
  return 0
}

# PID 1 is tini, whose command line names the backend too; this hook's shell does not.
jvm=""
for pid in $(pgrep -f -- "$backend"); do
  if [ "$pid" != 1 ] && [ "$pid" != "$$" ]; then
    jvm="$pid"
  fi
done
if [ -z "$jvm" ]; then
  say "no executor JVM ($backend) is running: nothing to decommission"
  exit 0
fi

say "sending SIG$signal to the executor JVM (pid $jvm) to decommission it"
if ! kill -s "$signal" "$jvm"; then
  say "kill -s $signal $jvm failed: the executor is left to SIGTERM"
  exit 1
fi
# Returns once the JVM has exited: after its running tasks and block migrations.
tail --pid="$jvm" -f /dev/null
say "executor JVM (pid $jvm) exited"
