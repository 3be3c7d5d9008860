"""The pipeline's Structured Streaming job: Kafka events → exactly-once JSON file sink.

Reads sequence-numbered events (producer, run, seq, ts) from the Kafka topic and writes
them unchanged, plus their Kafka partition and offset, to a file sink. The file sink and
the checkpoint together give exactly-once output: a batch's files count only once its
entry is in the sink's _spark_metadata log, and a restarted query replays from the
checkpoint's last committed offsets.

A StreamingQueryListener serves what Spark's own metrics lack (there is no batch-id
metric) on :9091/metrics: the last batch id, the first batch id this driver ran (a
restart from the checkpoint starts at N+1, a lost checkpoint at 0) and when it ran
(recovery time is measured to it), rows and batches.
Configuration comes from environment variables set in the SparkApplication.
"""

from __future__ import annotations

import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from pyspark.sql.streaming import StreamingQueryListener
from pyspark.sql.types import LongType, StringType, StructField, StructType

BROKERS = os.environ.get("KAFKA_BROKERS", "kafka:9092")
TOPIC = os.environ.get("KAFKA_TOPIC", "events")
SINK = os.environ.get("SINK_PATH", "/data/sink")
CHECKPOINT = os.environ.get("CHECKPOINT_PATH", "/checkpoint/events")
TRIGGER = os.environ.get("TRIGGER_INTERVAL", "5 seconds")
MAX_OFFSETS = os.environ.get("MAX_OFFSETS_PER_TRIGGER", "20000")
METRICS_PORT = int(os.environ.get("STREAM_METRICS_PORT", "9091"))
QUERY_NAME = os.environ.get("QUERY_NAME", "events")
# Where a query without a checkpoint starts: the job reads the whole topic; the negative
# controls' twin (harness.spark_application.control_twin) starts at its end.
STARTING_OFFSETS = os.environ.get("STARTING_OFFSETS", "earliest")

EVENT = StructType(
    [
        StructField("producer", StringType()),
        StructField("run", StringType()),
        StructField("seq", LongType()),
        StructField("ts", LongType()),
    ]
)


class Progress:
    """What the listener has seen, served as Prometheus text."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.started = time.time()
        self.first_batch = -1
        self.last_batch = -1
        self.batches = 0
        self.rows = 0
        self.last_progress = 0.0
        self.first_progress = 0.0
        self.terminated = 0

    def record(self, progress: Any) -> None:
        with self.lock:
            if self.first_batch < 0:
                self.first_batch = progress.batchId
                self.first_progress = time.time()
            self.last_batch = progress.batchId
            self.batches += 1
            self.rows += progress.numInputRows
            self.last_progress = time.time()

    def exposition(self) -> str:
        with self.lock:
            values = {
                "spark_stream_first_batch_id": self.first_batch,
                "spark_stream_last_batch_id": self.last_batch,
                "spark_stream_batches_total": self.batches,
                "spark_stream_input_rows_total": self.rows,
                "spark_stream_last_progress_timestamp_seconds": self.last_progress,
                "spark_stream_first_progress_timestamp_seconds": self.first_progress,
                "spark_stream_driver_start_timestamp_seconds": self.started,
                "spark_stream_terminated_total": self.terminated,
            }
        lines = []
        for name, value in values.items():
            kind = "counter" if name.endswith("_total") else "gauge"
            lines += [f"# TYPE {name} {kind}", f'{name}{{query="{QUERY_NAME}"}} {value}']
        return "\n".join(lines) + "\n"


PROGRESS = Progress()


class Listener(StreamingQueryListener):  # type: ignore[misc]
    def onQueryStarted(self, event: Any) -> None:
        print(json.dumps({"event": "query_started", "id": str(event.id)}), flush=True)

    def onQueryProgress(self, event: Any) -> None:
        progress = event.progress
        PROGRESS.record(progress)
        print(
            json.dumps(
                {
                    "event": "progress",
                    "batch": progress.batchId,
                    "rows": progress.numInputRows,
                    "ts": progress.timestamp,
                }
            ),
            flush=True,
        )

    def onQueryIdle(self, event: Any) -> None:
        pass

    def onQueryTerminated(self, event: Any) -> None:
        with PROGRESS.lock:
            PROGRESS.terminated += 1
        print(json.dumps({"event": "query_terminated", "error": event.exception}), flush=True)


class MetricsHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path != "/metrics":
            self.send_error(404)
            return
        body = PROGRESS.exposition().encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def main() -> None:
    server = ThreadingHTTPServer(("0.0.0.0", METRICS_PORT), MetricsHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()

    spark = SparkSession.builder.appName("events-stream").getOrCreate()
    spark.streams.addListener(Listener())
    source = (
        spark.readStream.format("kafka")
        .option("kafka.bootstrap.servers", BROKERS)
        .option("subscribe", TOPIC)
        .option("startingOffsets", STARTING_OFFSETS)
        .option("failOnDataLoss", "true")
        .option("maxOffsetsPerTrigger", MAX_OFFSETS)
        .load()
    )
    events = source.select(
        F.from_json(F.col("value").cast("string"), EVENT).alias("e"),
        F.col("partition"),
        F.col("offset"),
    ).select("e.*", "partition", "offset")
    query = (
        events.writeStream.format("json")
        .queryName(QUERY_NAME)
        .option("path", SINK)
        .option("checkpointLocation", CHECKPOINT)
        .trigger(processingTime=TRIGGER)
        .start()
    )
    query.awaitTermination()


if __name__ == "__main__":
    main()
