package main

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

const topicOffsetsDesc = `
Prints one JSON object with the earliest and the end offset of every
partition of a topic, read now:
  {"topic": "events", "start": {"0": 0, "1": 0}, "end": {"0": 1200, "1": 1187}}
The end offset is the offset the next record will get, so the records a
topic holds at this moment are [start, end) per partition; pass the end
offsets to topic-dump --start-offsets later to dump only what arrived since.
Brokers that cannot be reached are retried for 30 s.`

// topicOffsets is the output of topic-offsets.
type topicOffsets struct {
	Topic string          `json:"topic"`
	Start map[int32]int64 `json:"start"`
	End   map[int32]int64 `json:"end"`
}

// runTopicOffsets implements the topic-offsets subcommand.
func runTopicOffsets(args []string) error {
	cmd := newCommand("topic-offsets", "[flags]", topicOffsetsDesc)
	brokers := cmd.String("brokers", "KAFKA_BROKERS", "kafka:9092", "Kafka bootstrap brokers, comma separated")
	topic := cmd.String("topic", "KAFKA_TOPIC", "events", "topic to read")
	timeout := cmd.Duration("timeout", "DUMP_TIMEOUT", time.Minute, "give up when the brokers do not answer in time")
	if err := cmd.parse(args); err != nil {
		return err
	}
	if err := cmd.noArgs(); err != nil {
		return err
	}
	seeds := splitList(*brokers)
	if len(seeds) == 0 {
		return usagef("--brokers is empty")
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	starts, ends, err := topicBounds(ctx, seeds, *topic)
	if err != nil {
		return err
	}
	b, err := json.Marshal(topicOffsets{Topic: *topic, Start: starts, End: ends})
	if err != nil {
		return err
	}
	fmt.Println(string(b))
	return nil
}
