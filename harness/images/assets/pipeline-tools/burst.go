package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// burstDeliveryTimeout is how long one record of a burst may wait for its ack
// (retries included) before the burst counts it as failed.
const burstDeliveryTimeout = 30 * time.Second

// burstSummary is the JSON line produce --count prints when it is done.
type burstSummary struct {
	Topic      string          `json:"topic"`
	Producer   string          `json:"producer"`
	Run        string          `json:"run"`
	Count      int64           `json:"count"`
	Acked      int64           `json:"acked"`
	Failed     int64           `json:"failed"`
	Partitions map[int32]int64 `json:"partitions"` // acknowledged events per partition
	Seconds    float64         `json:"seconds"`
	FirstError string          `json:"first_error,omitempty"`
}

// producer is the part of *kgo.Client a burst uses (tests pass a fake).
type producer interface {
	Produce(ctx context.Context, r *kgo.Record, promise func(*kgo.Record, error))
	Flush(ctx context.Context) error
}

// runBurst writes count events as fast as the broker acknowledges them,
// round-robin over the topic's partitions, and prints the summary. An error
// means not every event was acknowledged (the summary says how many were).
func runBurst(seeds []string, topic, producerID, run string, count int64) error {
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(seeds...),
		kgo.ClientID("pipeline-tools-burst"),
		kgo.DefaultProduceTopic(topic),
		kgo.RequiredAcks(kgo.AllISRAcks()), // idempotent, as the service is
		// Every partition gets a share, so a consumer has a backlog on all of
		// them (as the service spreads its events).
		kgo.RecordPartitioner(kgo.RoundRobinPartitioner()),
		kgo.RecordDeliveryTimeout(burstDeliveryTimeout),
	)
	if err != nil {
		return fmt.Errorf("kafka client: %w", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	sum := produceBurst(ctx, cl, topic, producerID, run, count)
	cl.Close()
	b, err := json.Marshal(sum)
	if err != nil {
		return err
	}
	fmt.Println(string(b))
	if sum.Acked != count {
		return fmt.Errorf("%d of %d events acknowledged, %d failed: %s", sum.Acked, count, sum.Failed, sum.FirstError)
	}
	return nil
}

// produceBurst sends events seq 1..count without waiting for each ack, then
// waits for all of them; the summary counts what was acknowledged where.
func produceBurst(ctx context.Context, p producer, topic, producerID, run string, count int64) burstSummary {
	start := time.Now()
	sum := burstSummary{Topic: topic, Producer: producerID, Run: run, Count: count, Partitions: map[int32]int64{}}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for seq := int64(1); seq <= count; seq++ {
		value, _ := json.Marshal(event{Producer: producerID, Run: run, Seq: seq, TS: time.Now().UnixMilli()})
		wg.Add(1)
		// Produce blocks while the client's buffer is full, so memory stays bounded.
		p.Produce(ctx, &kgo.Record{Topic: topic, Key: []byte(producerID), Value: value}, func(r *kgo.Record, err error) {
			defer wg.Done()
			mu.Lock()
			defer mu.Unlock()
			sum.add(r, err)
		})
	}
	_ = p.Flush(ctx) // a failed flush shows as unacknowledged records
	wg.Wait()
	sum.Seconds = time.Since(start).Seconds()
	return sum
}

// add counts one record's outcome.
func (s *burstSummary) add(r *kgo.Record, err error) {
	if err != nil {
		s.Failed++
		if s.FirstError == "" {
			s.FirstError = err.Error()
		}
		return
	}
	s.Acked++
	s.Partitions[r.Partition]++
}
