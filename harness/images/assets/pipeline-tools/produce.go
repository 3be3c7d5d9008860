package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

const produceDesc = `
The pipeline's ingest service. Writes one JSON event per tick to the topic,
{"producer":"<id>","run":"<8 hex>","seq":<n>,"ts":<unix ms>}, keyed by the
producer id and spread round-robin over the partitions, with an idempotent
producer and acks=all. seq starts at 1 and only
advances once the previous event was acknowledged; a failed send is retried
with the same event (same seq and ts) forever, with backoff, logging at most
once per 10 s. run is random per process start, so (producer, run, seq) is
unique even when a restarted pod reuses its name. The topic must exist.

HTTP endpoints on --listen:
  GET  /healthz           200 "ok", or 503 after POST /fail
  GET  /readyz            200, or 503 after POST /fail, before the first ack, or
                          when nothing was acked for 30 s (or 3 send intervals
                          when --rate is below 0.1/s)
  POST /fail, /recover    make /healthz and /readyz fail / pass again
  GET  /metrics           Prometheus text format 0.0.4
  GET  /burn?seconds=N    burn one CPU core for N seconds (max 600), 202

SIGTERM or SIGINT stops producing, flushes and exits 0 within 5 s.

With --count N it is a burst instead of the service: N events (seq 1..N, one
run) written as fast as the broker acknowledges them, round-robin over the
topic's partitions, without HTTP; it prints one JSON line
{"topic","producer","run","count","acked","failed","partitions":{"0":n,...},
"seconds","first_error"} and exits 0 when every event was acknowledged, 1
otherwise.`

// runProduce implements the produce subcommand.
func runProduce(args []string) error {
	cmd := newCommand("produce", "[flags]", produceDesc)
	brokers := cmd.String("brokers", "KAFKA_BROKERS", "kafka:9092", "Kafka bootstrap brokers, comma separated")
	topic := cmd.String("topic", "KAFKA_TOPIC", "events", "topic to write to")
	rate := cmd.Float("rate", "EVENTS_PER_SECOND", 20, "events per second")
	producerID := cmd.String("producer-id", "PRODUCER_ID", "", "producer id, the record key and \"producer\" field; empty means $HOSTNAME")
	listen := cmd.String("listen", "LISTEN", ":8080", "HTTP listen address")
	count := cmd.Int64("count", "", 0, "write this many events as one burst, then exit (0: run the service)")
	if err := cmd.parse(args); err != nil {
		return err
	}
	if err := cmd.noArgs(); err != nil {
		return err
	}
	if *producerID == "" {
		*producerID = os.Getenv("HOSTNAME")
	}
	if *producerID == "" {
		if h, err := os.Hostname(); err == nil {
			*producerID = h
		}
	}
	switch {
	case *producerID == "":
		return usagef("--producer-id is empty and HOSTNAME is not set")
	case *rate <= 0 || *rate > 100000:
		return usagef("--rate must be in (0, 100000], got %v", *rate)
	case len(splitList(*brokers)) == 0:
		return usagef("--brokers is empty")
	case *topic == "":
		return usagef("--topic is empty")
	case *count < 0:
		return usagef("--count must not be negative, got %d", *count)
	}

	run, err := randomRunID()
	if err != nil {
		return err
	}
	if *count > 0 {
		return runBurst(splitList(*brokers), *topic, *producerID, run, *count)
	}
	interval := time.Duration(float64(time.Second) / *rate)
	st := &ingestState{producer: *producerID, run: run, readyWindow: max(30*time.Second, 3*interval)}

	cl, err := kgo.NewClient(
		kgo.SeedBrokers(splitList(*brokers)...),
		kgo.ClientID("pipeline-tools-produce"),
		kgo.DefaultProduceTopic(*topic),
		kgo.RequiredAcks(kgo.AllISRAcks()), // idempotence is on by default and needs acks=all
		// Each event goes to the next partition, whatever its key: keyed by producer,
		// a replica's events all landed in the partition its pod name hashed to, so
		// with two replicas both partitions, or only one, carried data depending on
		// the names, and a micro-batch then had one task and left an executor idle.
		// Events are sent one at a time, so a window of offsets taken at one moment
		// still cuts each producer's sequence cleanly.
		kgo.RecordPartitioner(kgo.RoundRobinPartitioner()),
		kgo.ProducerLinger(0),
		kgo.RecordDeliveryTimeout(10*time.Second),
		kgo.WithHooks(connectHook{st}),
	)
	if err != nil {
		return fmt.Errorf("kafka client: %w", err)
	}

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		cl.Close()
		return fmt.Errorf("listen on %s: %w", *listen, err)
	}
	srv := &http.Server{Handler: st.handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Printf("http server: %v", err)
		}
	}()

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	log.Printf("producing to topic %q via %s as producer=%s run=%s at %g/s; http on %s",
		*topic, *brokers, st.producer, st.run, *rate, ln.Addr())

	go watchPending(ctx, st)
	loopDone := make(chan struct{})
	go func() {
		defer close(loopDone)
		produceLoop(ctx, cl, st, *topic, interval)
	}()
	<-ctx.Done()
	log.Printf("signal received: stopping")
	shutdown(cl, srv, st, loopDone)
	return nil
}

// shutdown stops the produce loop, flushes the client and closes the HTTP
// server. Every step is bounded (loop 3 s, flush until 4 s, HTTP 0.3 s, close
// 0.2 s) so the process exits within 5 s even while Kafka does not answer.
func shutdown(cl *kgo.Client, srv *http.Server, st *ingestState, loopDone <-chan struct{}) {
	start := time.Now()
	select {
	case <-loopDone:
	case <-time.After(3 * time.Second):
		log.Printf("produce loop still waiting for an ack of seq %d; giving up on it", st.pendingSeq.Load())
	}
	flushCtx, flushCancel := context.WithDeadline(context.Background(), start.Add(4*time.Second))
	if err := cl.Flush(flushCtx); err != nil {
		log.Printf("flush: %v", err)
	}
	flushCancel()
	httpCtx, httpCancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	_ = srv.Shutdown(httpCtx)
	httpCancel()
	closed := make(chan struct{})
	go func() { cl.Close(); close(closed) }() // Close may wait on in-flight requests
	select {
	case <-closed:
	case <-time.After(200 * time.Millisecond):
	}
	log.Printf("stopped after %s: acked=%d last_seq=%d errors=%d",
		time.Since(start).Round(time.Millisecond), st.acked.Load(), st.lastSeq.Load(), st.sendErrors.Load())
}

// produceLoop sends events with consecutive seq numbers, one every interval,
// each synchronously. A failed send is retried with the identical record until
// it is acknowledged or ctx is cancelled.
func produceLoop(ctx context.Context, cl *kgo.Client, st *ingestState, topic string, interval time.Duration) {
	const maxBackoff = 5 * time.Second
	var lastLog time.Time
	failedSinceLog := 0
	next := time.Now()
	for seq := int64(1); ; seq++ {
		if !sleepUntil(ctx, next) {
			return
		}
		value, _ := json.Marshal(event{Producer: st.producer, Run: st.run, Seq: seq, TS: time.Now().UnixMilli()})
		backoff := 100 * time.Millisecond
		failures := 0
		st.sending(seq)
		for {
			rec := &kgo.Record{Topic: topic, Key: []byte(st.producer), Value: value}
			err := cl.ProduceSync(ctx, rec).FirstErr()
			if err == nil {
				break
			}
			if ctx.Err() != nil {
				return
			}
			failures++
			failedSinceLog++
			st.sendFailed(err)
			if time.Since(lastLog) >= 10*time.Second {
				log.Printf("send of seq %d failed (%d failures since last report), retrying: %v", seq, failedSinceLog, err)
				lastLog, failedSinceLog = time.Now(), 0
			}
			if !sleepUntil(ctx, time.Now().Add(backoff)) {
				return
			}
			backoff = min(2*backoff, maxBackoff)
		}
		st.acknowledged(seq)
		st.sending(0)
		if failures > 0 {
			log.Printf("seq %d acknowledged after %d failed attempts", seq, failures)
		}
		next = next.Add(interval)
		if lag := time.Since(next); lag > time.Second {
			next = time.Now() // after an outage continue at the normal rate, no burst
		}
	}
}

// watchPending logs every 10 s while a send waits for its ack. With the
// idempotent producer a request that got no response is retried by the client
// itself until the broker answers (failing it could break the sequence), so
// during a broker outage ProduceSync blocks instead of returning errors.
func watchPending(ctx context.Context, st *ingestState) {
	t := time.NewTicker(10 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			if wait := st.unacked(now); wait >= 10*time.Second {
				msg := fmt.Sprintf("seq %d not acknowledged for %s, client still retrying", st.pendingSeq.Load(), wait.Round(time.Second))
				if e := st.lastErr.get(); e != "" {
					msg += "; last error: " + e
				}
				log.Print(msg)
			}
		}
	}
}

// connectHook counts failed broker connections and remembers the error.
type connectHook struct{ st *ingestState }

// OnBrokerConnect implements kgo.HookBrokerConnect.
func (h connectHook) OnBrokerConnect(_ kgo.BrokerMetadata, _ time.Duration, _ net.Conn, err error) {
	if err != nil {
		h.st.connErrors.Add(1)
		h.st.lastErr.set(err)
	}
}

// sleepUntil waits until t; it returns false if ctx ends first.
func sleepUntil(ctx context.Context, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err() == nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-timer.C:
		return true
	}
}

// randomRunID returns 8 random hex characters.
func randomRunID() (string, error) {
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("random run id: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

// lastErr keeps the most recent send error for the readiness reason.
type lastErr struct {
	mu  sync.Mutex
	err string
}

func (l *lastErr) set(err error) {
	l.mu.Lock()
	l.err = err.Error()
	l.mu.Unlock()
}

func (l *lastErr) get() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.err
}
