package main

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestCommandFlagsFromEnv(t *testing.T) {
	t.Setenv("TEST_TOPIC", "from-env")
	t.Setenv("TEST_RATE", "7.5")
	t.Setenv("TEST_BROKERS", "env:9092")
	cmd := newCommand("x", "[flags] <dir>", "test")
	topic := cmd.String("topic", "TEST_TOPIC", "events", "topic")
	rate := cmd.Float("rate", "TEST_RATE", 20, "rate")
	brokers := cmd.String("brokers", "TEST_BROKERS", "kafka:9092", "brokers")
	flag := cmd.Bool("flag", "TEST_FLAG_UNSET", false, "flag")
	if err := cmd.parse([]string{"dir", "--brokers", "cli:1", "--flag"}); err != nil {
		t.Fatal(err)
	}
	if *topic != "from-env" || *rate != 7.5 || *brokers != "cli:1" || !*flag {
		t.Fatalf("topic=%q rate=%v brokers=%q flag=%v", *topic, *rate, *brokers, *flag)
	}
	if d, err := cmd.oneArg("<dir>"); err != nil || d != "dir" {
		t.Fatalf("arg = %q, %v", d, err)
	}

	t.Setenv("TEST_RATE", "fast")
	cmd = newCommand("x", "", "")
	cmd.Float("rate", "TEST_RATE", 20, "rate")
	var uerr usageError
	if err := cmd.parse(nil); !errors.As(err, &uerr) || !strings.Contains(err.Error(), "TEST_RATE") {
		t.Fatalf("bad env value: err = %v", err)
	}
}

func TestIngestEndpoints(t *testing.T) {
	st := &ingestState{producer: `pod-"0"`, run: "deadbeef", readyWindow: 30 * time.Second}
	srv := httptest.NewServer(st.handler())
	defer srv.Close()
	get := func(method, path string) (int, string) {
		req, _ := http.NewRequest(method, srv.URL+path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b strings.Builder
		buf := make([]byte, 4096)
		for {
			n, err := resp.Body.Read(buf)
			b.Write(buf[:n])
			if err != nil {
				break
			}
		}
		return resp.StatusCode, b.String()
	}

	if code, _ := get("GET", "/healthz"); code != 200 {
		t.Fatalf("healthz = %d", code)
	}
	if code, body := get("GET", "/readyz"); code != 503 || !strings.Contains(body, "no event acknowledged") {
		t.Fatalf("readyz before ack = %d %q", code, body)
	}
	st.acknowledged(1)
	st.acknowledged(2)
	if code, _ := get("GET", "/readyz"); code != 200 {
		t.Fatalf("readyz after ack = %d", code)
	}
	st.lastAckNs.Store(time.Now().Add(-time.Minute).UnixNano())
	if code, body := get("GET", "/readyz"); code != 503 || !strings.Contains(body, "for 1m0s") {
		t.Fatalf("readyz stale = %d %q", code, body)
	}
	st.acknowledged(3)
	if code, _ := get("GET", "/fail"); code != 405 {
		t.Fatalf("GET /fail = %d", code)
	}
	get("POST", "/fail")
	if code, _ := get("GET", "/healthz"); code != 503 {
		t.Fatalf("healthz after fail = %d", code)
	}
	if code, _ := get("GET", "/readyz"); code != 503 {
		t.Fatalf("readyz after fail = %d", code)
	}
	_, metrics := get("GET", "/metrics")
	for _, want := range []string{
		"# TYPE ingest_events_acked_total counter\n",
		`ingest_events_acked_total{producer="pod-\"0\""} 3` + "\n",
		`ingest_last_acked_seq{producer="pod-\"0\""} 3` + "\n",
		`ingest_send_errors_total{producer="pod-\"0\""} 0` + "\n",
		`ingest_healthy{producer="pod-\"0\""} 0` + "\n",
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %q:\n%s", want, metrics)
		}
	}
	get("POST", "/recover")
	if code, _ := get("GET", "/healthz"); code != 200 {
		t.Fatalf("healthz after recover = %d", code)
	}
	if code, _ := get("GET", "/burn?seconds=x"); code != 400 {
		t.Fatalf("burn bad = %d", code)
	}
	if code, body := get("GET", "/burn?seconds=0"); code != 202 || !strings.Contains(body, "0s") {
		t.Fatalf("burn = %d %q", code, body)
	}
}
