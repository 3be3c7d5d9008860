package main

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// maxBurnSeconds caps GET /burn.
const maxBurnSeconds = 600

// ingestState is what the produce loop and the HTTP endpoints share.
type ingestState struct {
	producer    string
	run         string
	readyWindow time.Duration // /readyz fails when nothing was acked for this long

	acked      atomic.Int64
	sendErrors atomic.Int64
	lastSeq    atomic.Int64
	lastAckNs  atomic.Int64 // unix nanoseconds of the last ack; 0 = none yet
	unhealthy  atomic.Bool  // set by POST /fail, cleared by POST /recover
	burning    atomic.Int64 // running /burn goroutines
	pendingNs  atomic.Int64 // unix nanoseconds the current send started; 0 = none
	pendingSeq atomic.Int64 // seq of the current send
	connErrors atomic.Int64 // failed broker connection attempts
	lastErr    lastErr
}

// sending records that a send of seq starts (or, with seq 0, that none is
// pending). The first attempt's start time is kept across retries.
func (s *ingestState) sending(seq int64) {
	if seq == 0 {
		s.pendingNs.Store(0)
		return
	}
	if s.pendingSeq.Swap(seq) != seq || s.pendingNs.Load() == 0 {
		s.pendingNs.Store(time.Now().UnixNano())
	}
}

// unacked returns how long the pending send has waited, 0 if none.
func (s *ingestState) unacked(now time.Time) time.Duration {
	if ns := s.pendingNs.Load(); ns != 0 {
		return now.Sub(time.Unix(0, ns))
	}
	return 0
}

// acknowledged records a successful send of seq.
func (s *ingestState) acknowledged(seq int64) {
	s.acked.Add(1)
	s.lastSeq.Store(seq)
	s.lastAckNs.Store(time.Now().UnixNano())
}

// sendFailed records one failed send attempt.
func (s *ingestState) sendFailed(err error) {
	s.sendErrors.Add(1)
	s.lastErr.set(err)
}

// readiness returns "" when ready, otherwise the reason it is not.
func (s *ingestState) readiness(now time.Time) string {
	if s.unhealthy.Load() {
		return "unhealthy: failed on request (POST /fail)"
	}
	last := s.lastAckNs.Load()
	if last == 0 {
		return withLastError("no event acknowledged by Kafka yet", s.lastErr.get())
	}
	if idle := now.Sub(time.Unix(0, last)); idle > s.readyWindow {
		return withLastError(fmt.Sprintf("no event acknowledged by Kafka for %s", idle.Round(time.Second)), s.lastErr.get())
	}
	return ""
}

func withLastError(reason, lastErr string) string {
	if lastErr == "" {
		return reason
	}
	return reason + " (last error: " + lastErr + ")"
}

// handler returns the HTTP routes of the ingest service.
func (s *ingestState) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		if s.unhealthy.Load() {
			http.Error(w, "unhealthy: failed on request (POST /fail)", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, r *http.Request) {
		if reason := s.readiness(time.Now()); reason != "" {
			http.Error(w, reason, http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("/fail", postOnly(func(w http.ResponseWriter, r *http.Request) {
		s.unhealthy.Store(true)
		fmt.Fprintln(w, "unhealthy")
	}))
	mux.HandleFunc("/recover", postOnly(func(w http.ResponseWriter, r *http.Request) {
		s.unhealthy.Store(false)
		fmt.Fprintln(w, "healthy")
	}))
	mux.HandleFunc("/metrics", s.serveMetrics)
	mux.HandleFunc("/burn", s.serveBurn)
	return mux
}

// postOnly rejects methods other than POST.
func postOnly(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "use POST", http.StatusMethodNotAllowed)
			return
		}
		h(w, r)
	}
}

// serveBurn starts a goroutine that keeps one core busy for ?seconds=N.
func (s *ingestState) serveBurn(w http.ResponseWriter, r *http.Request) {
	secs, err := strconv.Atoi(r.URL.Query().Get("seconds"))
	if err != nil || secs < 0 {
		http.Error(w, "seconds must be a non-negative integer", http.StatusBadRequest)
		return
	}
	secs = min(secs, maxBurnSeconds)
	go s.burn(time.Duration(secs) * time.Second)
	w.WriteHeader(http.StatusAccepted)
	fmt.Fprintf(w, "burning one core for %ds\n", secs)
}

// burnSink keeps the burn loop from being optimised away.
var burnSink atomic.Uint64

// burn spins on the CPU for d.
func (s *ingestState) burn(d time.Duration) {
	s.burning.Add(1)
	defer s.burning.Add(-1)
	deadline := time.Now().Add(d)
	x := uint64(1)
	for time.Now().Before(deadline) {
		for i := 0; i < 1_000_000; i++ {
			x = x*6364136223846793005 + 1442695040888963407
		}
	}
	burnSink.Store(x)
}

// serveMetrics writes the Prometheus text exposition format 0.0.4.
func (s *ingestState) serveMetrics(w http.ResponseWriter, r *http.Request) {
	labels := `{producer="` + escapeLabel(s.producer) + `"}`
	healthy := 1
	if s.unhealthy.Load() {
		healthy = 0
	}
	var b strings.Builder
	metric := func(name, typ, help string, value int64, lbl string) {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s %s\n%s%s %d\n", name, help, name, typ, name, lbl, value)
	}
	metric("ingest_events_acked_total", "counter", "Events acknowledged by Kafka.", s.acked.Load(), labels)
	metric("ingest_send_errors_total", "counter", "Failed send attempts (each is retried).", s.sendErrors.Load(), labels)
	metric("ingest_last_acked_seq", "gauge", "Sequence number of the last acknowledged event.", s.lastSeq.Load(), labels)
	metric("ingest_broker_connect_errors_total", "counter", "Failed Kafka broker connection attempts.", s.connErrors.Load(), labels)
	fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s gauge\n%s%s %.3f\n", "ingest_unacked_seconds",
		"Time the current event has waited for its ack (0 when none is pending).",
		"ingest_unacked_seconds", "ingest_unacked_seconds", labels, s.unacked(time.Now()).Seconds())
	metric("ingest_healthy", "gauge", "1 unless made unhealthy with POST /fail.", int64(healthy), labels)
	metric("ingest_cpu_burns_active", "gauge", "Running /burn requests.", s.burning.Load(), labels)
	metric("ingest_info", "gauge", "Producer identity; run changes on every process start.", 1,
		`{producer="`+escapeLabel(s.producer)+`",run="`+escapeLabel(s.run)+`"}`)
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	_, _ = w.Write([]byte(b.String()))
}

// escapeLabel escapes a Prometheus label value.
func escapeLabel(v string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(v)
}
