package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

const topicCreateDesc = `Create the pipeline's topic if it does not exist (idempotent).

Retries while the broker is unreachable, up to --timeout. An existing topic is
success whatever its partition count; a different count is reported on stderr.`

// runCreateTopic implements "create-topic".
func runCreateTopic(args []string) error {
	cmd := newCommand("create-topic", "[flags]", topicCreateDesc)
	brokers := cmd.String("brokers", "KAFKA_BROKERS", "kafka:9092", "Kafka bootstrap brokers, comma separated")
	topic := cmd.String("topic", "KAFKA_TOPIC", "events", "topic to create")
	partitions := cmd.Float("partitions", "TOPIC_PARTITIONS", 2, "number of partitions")
	timeout := cmd.Duration("timeout", "CREATE_TIMEOUT", 2*time.Minute, "give up after this long")
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
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.ClientID("pipeline-tools-create-topic"))
	if err != nil {
		return fmt.Errorf("kafka client: %w", err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	for {
		resp, err := adm.CreateTopic(ctx, int32(*partitions), 1, nil, *topic)
		switch {
		case err == nil && resp.Err == nil:
			fmt.Printf("{\"topic\":%q,\"partitions\":%d,\"created\":true}\n", *topic, int32(*partitions))
			return nil
		case err == nil && errors.Is(resp.Err, kerr.TopicAlreadyExists):
			fmt.Printf("{\"topic\":%q,\"created\":false}\n", *topic)
			return nil
		case err == nil:
			err = resp.Err
		}
		if !sleepUntil(ctx, time.Now().Add(2*time.Second)) {
			return fmt.Errorf("create topic %q via %v: %w", *topic, seeds, err)
		}
	}
}
