package main

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// fakeProducer acknowledges records asynchronously, round-robin over its
// partitions, and fails the seqs listed in fail.
type fakeProducer struct {
	partitions int32
	fail       map[int64]bool
	mu         sync.Mutex
	next       int32
	seen       []event
	wg         sync.WaitGroup
}

func (f *fakeProducer) Produce(_ context.Context, r *kgo.Record, promise func(*kgo.Record, error)) {
	var e event
	if err := json.Unmarshal(r.Value, &e); err != nil {
		panic(err)
	}
	f.mu.Lock()
	f.seen = append(f.seen, e)
	r.Partition = f.next
	f.next = (f.next + 1) % f.partitions
	f.mu.Unlock()
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		if f.fail[e.Seq] {
			promise(r, errors.New("NOT_ENOUGH_REPLICAS"))
			return
		}
		promise(r, nil)
	}()
}

func (f *fakeProducer) Flush(context.Context) error {
	f.wg.Wait()
	return nil
}

func TestBurstSpreadsNumberedEventsAndCountsAcks(t *testing.T) {
	p := &fakeProducer{partitions: 6}
	sum := produceBurst(context.Background(), p, "events-autoscale", "burst-1", "abcd0123", 600)
	if sum.Acked != 600 || sum.Failed != 0 || sum.FirstError != "" {
		t.Fatalf("summary = %+v", sum)
	}
	want := map[int32]int64{0: 100, 1: 100, 2: 100, 3: 100, 4: 100, 5: 100}
	if !reflect.DeepEqual(sum.Partitions, want) {
		t.Fatalf("partitions = %v, want %v", sum.Partitions, want)
	}
	for i, e := range p.seen {
		if e.Seq != int64(i+1) || e.Producer != "burst-1" || e.Run != "abcd0123" {
			t.Fatalf("event %d = %+v", i, e)
		}
	}
	if sum.Topic != "events-autoscale" || sum.Count != 600 || sum.Seconds < 0 {
		t.Fatalf("summary = %+v", sum)
	}
}

func TestBurstReportsWhatWasNotAcknowledged(t *testing.T) {
	p := &fakeProducer{partitions: 2, fail: map[int64]bool{3: true, 7: true}}
	sum := produceBurst(context.Background(), p, "t", "burst-2", "r", 10)
	if sum.Acked != 8 || sum.Failed != 2 || sum.FirstError != "NOT_ENOUGH_REPLICAS" {
		t.Fatalf("summary = %+v", sum)
	}
	var total int64
	for _, n := range sum.Partitions {
		total += n
	}
	if total != 8 {
		t.Fatalf("partitions = %v count %d acks, want 8", sum.Partitions, total)
	}
}

func TestProduceCountMustNotBeNegative(t *testing.T) {
	var uerr usageError
	err := runProduce([]string{"--count", "-1", "--producer-id", "p"})
	if !errors.As(err, &uerr) {
		t.Fatalf("err = %v, want a usage error", err)
	}
}

func TestTopicConfigsSetRetentionAndSegmentRoll(t *testing.T) {
	if got := topicConfigs(0); got != nil {
		t.Fatalf("no retention: %v, want nil (the broker's defaults)", got)
	}
	got := topicConfigs(time.Hour)
	if len(got) != 2 || *got["retention.ms"] != "3600000" || *got["segment.ms"] != "3600000" {
		t.Fatalf("configs = %v", got)
	}
}
