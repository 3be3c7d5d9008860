package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

const topicCreateDesc = `Create the pipeline's topic if it does not exist (idempotent).

Retries while the broker is unreachable, up to --timeout. An existing topic is
success whatever its partition count; a different count is reported on stderr.
--retention, when set, is the new topic's retention.ms and segment.ms (a segment
older than that is rolled, so its records can be deleted); an existing topic
keeps its own.`

// runCreateTopic implements "create-topic".
func runCreateTopic(args []string) error {
	cmd := newCommand("create-topic", "[flags]", topicCreateDesc)
	brokers := cmd.String("brokers", "KAFKA_BROKERS", "kafka:9092", "Kafka bootstrap brokers, comma separated")
	topic := cmd.String("topic", "KAFKA_TOPIC", "events", "topic to create")
	partitions := cmd.Float("partitions", "TOPIC_PARTITIONS", 2, "number of partitions")
	timeout := cmd.Duration("timeout", "CREATE_TIMEOUT", 2*time.Minute, "give up after this long")
	retention := cmd.Duration("retention", "TOPIC_RETENTION", 0, "retention of a new topic (0: the broker's)")
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
	if *partitions < 1 || *partitions != float64(int32(*partitions)) {
		return usagef("--partitions must be a positive integer, got %v", *partitions)
	}
	if *retention < 0 {
		return usagef("--retention must not be negative, got %v", *retention)
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	for {
		created, err := createOnce(ctx, seeds, *topic, int32(*partitions), topicConfigs(*retention))
		if err == nil {
			fmt.Printf("{\"topic\":%q,\"partitions\":%d,\"created\":%t}\n", *topic, int32(*partitions), created)
			return nil
		}
		fmt.Fprintf(os.Stderr, "create topic %q: %v; retrying\n", *topic, err)
		if !sleepUntil(ctx, time.Now().Add(2*time.Second)) {
			return fmt.Errorf("create topic %q via %v: %w", *topic, seeds, err)
		}
	}
}

// createOnce makes one bounded attempt with a fresh client (a client that first met a
// broker still starting can keep a failed connection); created is false when the topic
// already existed.
func createOnce(parent context.Context, seeds []string, topic string, partitions int32, configs map[string]*string) (bool, error) {
	ctx, cancel := context.WithTimeout(parent, 10*time.Second)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.ClientID("pipeline-tools-create-topic"))
	if err != nil {
		return false, fmt.Errorf("kafka client: %w", err)
	}
	defer cl.Close()
	resp, err := kadm.NewClient(cl).CreateTopic(ctx, partitions, 1, configs, topic)
	if err == nil {
		err = resp.Err
	}
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, kerr.TopicAlreadyExists):
		return false, nil // kadm returns the topic's error as err as well
	default:
		return false, err
	}
}

// topicConfigs returns the configs of a new topic with this retention (nil: the
// broker's defaults). segment.ms matches it: retention deletes whole segments
// only, and the active one would otherwise hold records until it is full.
func topicConfigs(retention time.Duration) map[string]*string {
	if retention <= 0 {
		return nil
	}
	ms := strconv.FormatInt(retention.Milliseconds(), 10)
	return map[string]*string{"retention.ms": &ms, "segment.ms": &ms}
}
