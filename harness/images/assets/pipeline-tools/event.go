package main

import (
	"bytes"
	"encoding/json"
	"strconv"
)

// event is the JSON value of one ingest record, and the row shape the Spark
// job writes to its sink. (producer, run, seq) identifies an event.
type event struct {
	Producer string `json:"producer"`
	Run      string `json:"run"`
	Seq      int64  `json:"seq"`
	TS       int64  `json:"ts"`
}

// eventKey holds the identifying fields of an event parsed from JSON.
type eventKey struct {
	Producer string
	Run      string // "-" when the value has no run field
	Seq      int64
	// Partition and Offset are the Kafka record a sink row came from, -1 when
	// the row does not say (records read from the topic carry their own).
	Partition int64
	Offset    int64
}

// rawEvent is the lenient decoding target: fields may be absent, seq may be
// a JSON number or a string of digits, and any other fields are ignored.
type rawEvent struct {
	Producer  *string         `json:"producer"`
	Run       *string         `json:"run"`
	Seq       json.RawMessage `json:"seq"`
	Partition *int64          `json:"partition"`
	Offset    *int64          `json:"offset"`
}

// parseEventKey extracts (producer, run, seq) from a JSON object. It fails
// when the value is not a JSON object with a non-empty string producer and an
// integer seq; run is optional. extra supplies values for absent fields (Spark
// partition columns taken from a directory name such as "producer=a").
func parseEventKey(value []byte, extra map[string]string) (eventKey, bool) {
	value = bytes.TrimSpace(value)
	if len(value) == 0 || value[0] != '{' {
		return eventKey{}, false
	}
	var raw rawEvent
	if err := json.Unmarshal(value, &raw); err != nil {
		return eventKey{}, false
	}
	k := eventKey{Run: "-", Partition: -1, Offset: -1}
	if raw.Partition != nil && raw.Offset != nil {
		k.Partition, k.Offset = *raw.Partition, *raw.Offset
	}
	switch {
	case raw.Producer != nil:
		k.Producer = *raw.Producer
	case extra["producer"] != "":
		k.Producer = extra["producer"]
	}
	if k.Producer == "" {
		return eventKey{}, false
	}
	switch {
	case raw.Run != nil && *raw.Run != "":
		k.Run = *raw.Run
	case extra["run"] != "":
		k.Run = extra["run"]
	}
	seqText := string(raw.Seq)
	if len(raw.Seq) == 0 || seqText == "null" {
		seqText = extra["seq"]
	} else if raw.Seq[0] == '"' {
		if err := json.Unmarshal(raw.Seq, &seqText); err != nil {
			return eventKey{}, false
		}
	}
	seq, err := strconv.ParseInt(seqText, 10, 64)
	if err != nil {
		return eventKey{}, false
	}
	k.Seq = seq
	return k, true
}
