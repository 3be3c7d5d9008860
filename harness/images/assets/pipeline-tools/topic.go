package main

import (
	"bufio"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

const topicDumpDesc = `
Prints every record of a topic from the earliest offset up to the end offsets
read at start, one line per record, partitions interleaved but each in offset
order:
  <partition> <offset> <producer> <run> <seq>
run is "-" when the event has none. A value that is not event JSON prints
  <partition> <offset> ! <base64 of value>
Transaction markers are skipped (records of aborted transactions are
printed: the read is read_uncommitted, like the Spark job's default). Brokers
that cannot be reached at start are retried for 30 s. Ends with
"records=<n> partitions=<p>" on stderr.`

// runTopicDump implements the topic-dump subcommand.
func runTopicDump(args []string) error {
	cmd := newCommand("topic-dump", "[flags]", topicDumpDesc)
	brokers := cmd.String("brokers", "KAFKA_BROKERS", "kafka:9092", "Kafka bootstrap brokers, comma separated")
	topic := cmd.String("topic", "KAFKA_TOPIC", "events", "topic to dump")
	timeout := cmd.Duration("timeout", "DUMP_TIMEOUT", 2*time.Minute, "give up when the dump takes longer")
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
	partitions := len(ends)
	want := map[int32]kgo.Offset{}
	for p, end := range ends {
		if end > starts[p] {
			want[p] = kgo.NewOffset().At(starts[p])
		}
	}
	out := bufio.NewWriterSize(os.Stdout, 1<<20)
	defer out.Flush()
	if len(want) == 0 {
		fmt.Fprintf(os.Stderr, "records=0 partitions=%d\n", partitions)
		return nil
	}

	cl, err := kgo.NewClient(
		kgo.SeedBrokers(seeds...),
		kgo.ClientID("pipeline-tools-topic-dump"),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{*topic: want}),
		kgo.KeepControlRecords(), // so the last offset before the end is always seen
		kgo.FetchMaxWait(500*time.Millisecond),
		kgo.FetchMaxPartitionBytes(16<<20),
		kgo.FetchMaxBytes(64<<20),
	)
	if err != nil {
		return fmt.Errorf("kafka client: %w", err)
	}
	defer cl.Close()

	var records int64
	line := make([]byte, 0, 256)
	reported := map[string]bool{}
	for len(want) > 0 {
		fetches := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			return fmt.Errorf("timed out after %s with %d records read; unfinished partitions %v", *timeout, records, sortedPartitions(want))
		}
		for _, fe := range fetches.Errors() {
			if errors.Is(fe.Err, context.DeadlineExceeded) || errors.Is(fe.Err, context.Canceled) {
				continue
			}
			if msg := fe.Err.Error(); !reported[msg] {
				reported[msg] = true
				fmt.Fprintf(os.Stderr, "fetch partition %d: %v (retrying)\n", fe.Partition, fe.Err)
			}
		}
		fetches.EachPartition(func(fp kgo.FetchTopicPartition) {
			end, ok := ends[fp.Partition]
			if _, active := want[fp.Partition]; !ok || !active {
				return
			}
			for _, r := range fp.Records {
				if r.Offset >= end {
					break
				}
				if !r.Attrs.IsControl() {
					records++
					line = appendRecordLine(line[:0], r)
					_, _ = out.Write(line)
				}
				if r.Offset >= end-1 {
					delete(want, fp.Partition)
					cl.PauseFetchPartitions(map[string][]int32{*topic: {fp.Partition}})
					break
				}
			}
		})
	}
	if err := out.Flush(); err != nil {
		return fmt.Errorf("write stdout: %w", err)
	}
	fmt.Fprintf(os.Stderr, "records=%d partitions=%d\n", records, partitions)
	return nil
}

// appendRecordLine formats one output line for r.
func appendRecordLine(b []byte, r *kgo.Record) []byte {
	b = strconv.AppendInt(b, int64(r.Partition), 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, r.Offset, 10)
	b = append(b, ' ')
	if k, ok := parseEventKey(r.Value, nil); ok {
		b = append(b, k.Producer...)
		b = append(b, ' ')
		b = append(b, k.Run...)
		b = append(b, ' ')
		b = strconv.AppendInt(b, k.Seq, 10)
	} else {
		b = append(b, "! "...)
		b = base64.StdEncoding.AppendEncode(b, r.Value)
	}
	return append(b, '\n')
}

// topicBounds returns the start and end offset of every partition of topic.
func topicBounds(ctx context.Context, seeds []string, topic string) (starts, ends map[int32]int64, err error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.ClientID("pipeline-tools-topic-dump"))
	if err != nil {
		return nil, nil, fmt.Errorf("kafka client: %w", err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	collect := func(what string, list func(context.Context, ...string) (kadm.ListedOffsets, error)) (map[int32]int64, error) {
		// Brokers that cannot be reached are retried for up to 30 s.
		retryCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		var listed kadm.ListedOffsets
		for {
			listed, err = list(ctx, topic)
			if err == nil {
				break
			}
			if !sleepUntil(retryCtx, time.Now().Add(time.Second)) {
				return nil, fmt.Errorf("list %s offsets of topic %q via %v: %w", what, topic, seeds, err)
			}
		}
		out := map[int32]int64{}
		for p, o := range listed[topic] {
			if errors.Is(o.Err, kerr.UnknownTopicOrPartition) && p < 0 {
				return nil, fmt.Errorf("topic %q does not exist", topic)
			}
			if o.Err != nil {
				return nil, fmt.Errorf("list %s offset of %s[%d]: %w", what, topic, p, o.Err)
			}
			out[p] = o.Offset
		}
		if len(out) == 0 {
			return nil, fmt.Errorf("topic %q does not exist", topic)
		}
		return out, nil
	}
	if ends, err = collect("end", adm.ListEndOffsets); err != nil {
		return nil, nil, err
	}
	if starts, err = collect("start", adm.ListStartOffsets); err != nil {
		return nil, nil, err
	}
	return starts, ends, nil
}

// sortedPartitions lists the keys of m in order.
func sortedPartitions(m map[int32]kgo.Offset) []int32 {
	out := make([]int32, 0, len(m))
	for p := range m {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}
