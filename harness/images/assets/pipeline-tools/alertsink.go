package main

import (
	"encoding/json"
	"io"
	"net/http"
	"sync"
	"time"
)

const alertSinkDesc = `Receive Alertmanager webhook notifications and serve them back.

POST /alerts stores one notification (Alertmanager's webhook JSON); GET /alerts
returns every stored notification, oldest first, each with the time it arrived;
GET /healthz answers ok. The newest 2000 notifications are kept in memory.`

const alertSinkCapacity = 2000

// receivedAlert is one webhook notification and when it arrived.
type receivedAlert struct {
	ReceivedAt time.Time       `json:"received_at"`
	Payload    json.RawMessage `json:"payload"`
}

// alertStore keeps the newest notifications.
type alertStore struct {
	mu    sync.Mutex
	items []receivedAlert
}

func (s *alertStore) add(payload []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.items = append(s.items, receivedAlert{time.Now().UTC(), json.RawMessage(payload)})
	if len(s.items) > alertSinkCapacity {
		s.items = s.items[len(s.items)-alertSinkCapacity:]
	}
}

func (s *alertStore) all() []receivedAlert {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]receivedAlert{}, s.items...)
}

// handler serves the sink's endpoints.
func (s *alertStore) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("/alerts", func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodPost:
			body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
			if err != nil || !json.Valid(body) {
				http.Error(w, "expected a JSON body", http.StatusBadRequest)
				return
			}
			s.add(body)
			w.WriteHeader(http.StatusOK)
		case http.MethodGet:
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(s.all())
		default:
			http.Error(w, "GET or POST", http.StatusMethodNotAllowed)
		}
	})
	return mux
}

// runAlertSink implements "alert-sink".
func runAlertSink(args []string) error {
	cmd := newCommand("alert-sink", "[flags]", alertSinkDesc)
	listen := cmd.String("listen", "LISTEN", ":8080", "address to serve on")
	if err := cmd.parse(args); err != nil {
		return err
	}
	if err := cmd.noArgs(); err != nil {
		return err
	}
	store := &alertStore{}
	server := &http.Server{Addr: *listen, Handler: store.handler(), ReadHeaderTimeout: 5 * time.Second}
	return server.ListenAndServe()
}
