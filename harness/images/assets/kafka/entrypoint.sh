#!/bin/bash
# Kafka broker entrypoint of our offline Kafka image (KRaft, no ZooKeeper).
# Configuration follows the convention of the upstream apache/kafka image, so one
# manifest works with either image: every KAFKA_FOO_BAR env var becomes foo.bar in
# server.properties (a double underscore becomes a dash), CLUSTER_ID names the
# cluster, and the log directory is formatted on first start only.
set -euo pipefail

KAFKA_HOME=/opt/kafka
CONFIG_DIR="${KAFKA_CONFIG_DIR:-/tmp/kafka-config}"
mkdir -p "$CONFIG_DIR"
PROPS="$CONFIG_DIR/server.properties"
: >"$PROPS"
while IFS='=' read -r name value; do
  case "$name" in
    KAFKA_HEAP_OPTS | KAFKA_JVM_OPTS | KAFKA_CONFIG_DIR | KAFKA_LOG4J_OPTS | KAFKA_OPTS) continue ;;
    KAFKA_*)
      key="${name#KAFKA_}"
      key="${key//__/-}"
      key="${key//_/.}"
      printf '%s=%s\n' "${key,,}" "$value" >>"$PROPS"
      ;;
  esac
done < <(env)

cat >"$CONFIG_DIR/log4j2.yaml" <<'LOG'
Configuration:
  Appenders:
    Console:
      name: STDOUT
      PatternLayout:
        pattern: "[%d] %p %m (%c)%n"
  Loggers:
    Root:
      level: INFO
      AppenderRef:
        - ref: STDOUT
    Logger:
      - name: kafka.request.logger
        level: WARN
LOG

CP="$KAFKA_HOME/libs/*"
JAVA=(java ${KAFKA_HEAP_OPTS:--Xms256m -Xmx512m} ${KAFKA_JVM_OPTS:-} ${KAFKA_OPTS:-}
  -Dlog4j2.configurationFile="$CONFIG_DIR/log4j2.yaml" -cp "$CP")

log_dir="$(sed -n 's/^log\.dirs=//p' "$PROPS" | cut -d, -f1)"
if [ ! -f "$log_dir/meta.properties" ]; then
  echo "formatting $log_dir for cluster ${CLUSTER_ID:?CLUSTER_ID is required}"
  "${JAVA[@]}" kafka.tools.StorageTool format --ignore-formatted -t "$CLUSTER_ID" -c "$PROPS"
fi
exec /usr/bin/tini -s -- "${JAVA[@]}" kafka.Kafka "$PROPS"
