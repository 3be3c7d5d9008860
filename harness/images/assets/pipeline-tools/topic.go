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
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

const topicDumpDesc = `
Prints the records of a topic at offsets [from, to) of every partition, one
line per record, partitions interleaved but each in offset order:
  <partition> <offset> <producer> <run> <seq>
run is "-" when the event has none. A value that is not event JSON prints
  <partition> <offset> ! <base64 of value>
from is the partition's --start-offsets entry, or its earliest offset; to is
its --end-offsets entry, or its end offset read at start (both lists are
"<partition>:<offset>,..."; topic-offsets prints the current ones). A start
below the earliest offset (records deleted by retention) or an end past the
end offset is clamped, with a warning on stderr, and so is a partition the
topic does not have.
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
	startFlag := cmd.String("start-offsets", "", "", `first offset per partition, "<partition>:<offset>,..." (default: the earliest)`)
	endFlag := cmd.String("end-offsets", "", "", `end offset (exclusive) per partition, "<partition>:<offset>,..." (default: the end offset at start)`)
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
	from, err := parseOffsetList("--start-offsets", *startFlag)
	if err != nil {
		return err
	}
	to, err := parseOffsetList("--end-offsets", *endFlag)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()

	starts, ends, err := topicBounds(ctx, seeds, *topic)
	if err != nil {
		return err
	}
	partitions := len(ends)
	ranges, warnings := dumpRanges(starts, ends, from, to)
	for _, w := range warnings {
		fmt.Fprintln(os.Stderr, "warning:", w)
	}
	want := map[int32]kgo.Offset{}
	for p, r := range ranges {
		if r.to > r.from {
			want[p] = kgo.NewOffset().At(r.from)
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
			if _, active := want[fp.Partition]; !active {
				return
			}
			end := ranges[fp.Partition].to
			done := func() {
				delete(want, fp.Partition)
				cl.PauseFetchPartitions(map[string][]int32{*topic: {fp.Partition}})
			}
			for _, r := range fp.Records {
				if r.Offset >= end { // end-1 held no record the client returns
					done()
					break
				}
				if !r.Attrs.IsControl() {
					records++
					line = appendRecordLine(line[:0], r)
					_, _ = out.Write(line)
				}
				if r.Offset >= end-1 {
					done()
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

// offsetRange is the offsets [from, to) of one partition.
type offsetRange struct{ from, to int64 }

// dumpRanges returns the range to dump per partition of the topic: the
// requested from/to offsets clamped to the earliest (starts) and end (ends)
// offsets, a partition absent from from or to taking the topic's own bound.
// The warnings say what was clamped.
func dumpRanges(starts, ends, from, to map[int32]int64) (map[int32]offsetRange, []string) {
	ranges := map[int32]offsetRange{}
	var warnings []string
	for _, p := range sortedKeys(ends) {
		r := offsetRange{from: starts[p], to: ends[p]}
		if f, ok := from[p]; ok {
			if f < r.from {
				warnings = append(warnings, fmt.Sprintf("partition %d: offsets [%d, %d) were deleted before they could be read (earliest offset %d)", p, f, r.from, r.from))
			} else {
				r.from = f
			}
		}
		if t, ok := to[p]; ok {
			if t > r.to {
				warnings = append(warnings, fmt.Sprintf("partition %d: end offset %d is past the partition's end %d", p, t, r.to))
			} else {
				r.to = t
			}
		}
		ranges[p] = r
	}
	for _, m := range []map[int32]int64{from, to} {
		for _, p := range sortedKeys(m) {
			if _, ok := ends[p]; !ok {
				warnings = append(warnings, fmt.Sprintf("partition %d is not in the topic", p))
			}
		}
	}
	return ranges, warnings
}

// parseOffsetList parses "<partition>:<offset>,..." (flag names the flag in
// errors); an empty string is an empty map.
func parseOffsetList(flag, s string) (map[int32]int64, error) {
	out := map[int32]int64{}
	for _, item := range splitList(s) {
		ps, offs, ok := strings.Cut(item, ":")
		p, perr := strconv.ParseInt(strings.TrimSpace(ps), 10, 32)
		o, oerr := strconv.ParseInt(strings.TrimSpace(offs), 10, 64)
		if !ok || perr != nil || oerr != nil || p < 0 || o < 0 {
			return nil, usagef("%s: %q is not <partition>:<offset>", flag, item)
		}
		if _, dup := out[int32(p)]; dup {
			return nil, usagef("%s: partition %d given twice", flag, p)
		}
		out[int32(p)] = o
	}
	return out, nil
}

// sortedKeys lists the partitions of m in order.
func sortedKeys(m map[int32]int64) []int32 {
	out := make([]int32, 0, len(m))
	for p := range m {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
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
