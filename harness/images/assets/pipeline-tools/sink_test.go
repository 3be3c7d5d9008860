package main

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// writeFile writes content to dir/name, creating parent directories.
func writeFile(t *testing.T, dir, name, content string) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// logLine is a SinkFileStatus line as Spark writes it, for a file written
// below /data/sink (a different mount point than the test directory).
func logLine(name, action string) string {
	return `{"path":"file:///data/sink/` + name + `","size":10,"isDir":false,"modificationTime":1700000000000,"blockReplication":1,"blockSize":33554432,"action":"` + action + `"}` + "\n"
}

func TestSinkLogWithoutCompact(t *testing.T) {
	dir := t.TempDir()
	meta := filepath.Join(dir, "_spark_metadata")
	writeFile(t, meta, "0", "v1\n"+logLine("a.json", "add"))
	writeFile(t, meta, "1", "v1\n"+logLine("b.json", "add")+logLine("c.json", "add"))
	writeFile(t, meta, "2", "v1\n"+logLine("b.json", "delete"))
	writeFile(t, meta, ".3.0b1e.tmp", "v1\n"+logLine("x.json", "add"))
	writeFile(t, meta, ".1.crc", "junk")
	writeFile(t, meta, "3.tmp", "v1\n"+logLine("y.json", "add"))

	log, err := readSinkLog(meta)
	if err != nil {
		t.Fatal(err)
	}
	got := summarize(log.files)
	want := []string{"file:///data/sink/a.json@0", "file:///data/sink/c.json@1"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("files = %v, want %v", got, want)
	}
	if log.lastBatch != 2 || log.compactBatch != -1 {
		t.Fatalf("lastBatch=%d compactBatch=%d", log.lastBatch, log.compactBatch)
	}
}

func TestSinkLogCompactAndLaterBatches(t *testing.T) {
	dir := t.TempDir()
	meta := filepath.Join(dir, "_spark_metadata")
	// Batches 0..3 were compacted into 4.compact; batch 1 and 2's own files
	// are gone (deleted by Spark's log cleanup), 3 still exists.
	writeFile(t, meta, "0", "v1\n"+logLine("stale.json", "add")) // superseded by the compact file
	writeFile(t, meta, "3", "v1\n"+logLine("p3.json", "add"))
	writeFile(t, meta, "4.compact", "v1\n"+logLine("p1.json", "add")+logLine("p3.json", "add")+logLine("p4.json", "add"))
	writeFile(t, meta, "5", "v1\n"+logLine("p5.json", "add")+logLine("p1.json", "delete"))
	writeFile(t, meta, "6", "v1\n")
	writeFile(t, meta, "7", "v1\n"+logLine("p7.json", "add"))

	log, err := readSinkLog(meta)
	if err != nil {
		t.Fatal(err)
	}
	got := summarize(log.files)
	want := []string{
		"file:///data/sink/p3.json@3", // labelled by the surviving batch file
		"file:///data/sink/p4.json@4",
		"file:///data/sink/p5.json@5",
		"file:///data/sink/p7.json@7",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("files = %v, want %v", got, want)
	}
	if log.lastBatch != 7 || log.compactBatch != 4 {
		t.Fatalf("lastBatch=%d compactBatch=%d", log.lastBatch, log.compactBatch)
	}
}

func TestSinkLogUsesLatestCompact(t *testing.T) {
	dir := t.TempDir()
	meta := filepath.Join(dir, "_spark_metadata")
	writeFile(t, meta, "1.compact", "v1\n"+logLine("old.json", "add"))
	writeFile(t, meta, "3.compact", "v1\n"+logLine("new.json", "add"))
	log, err := readSinkLog(meta)
	if err != nil {
		t.Fatal(err)
	}
	if got := summarize(log.files); !reflect.DeepEqual(got, []string{"file:///data/sink/new.json@3"}) {
		t.Fatalf("files = %v", got)
	}
}

func TestSinkLogEmptyAndBad(t *testing.T) {
	log, err := readSinkLog(filepath.Join(t.TempDir(), "_spark_metadata"))
	if err != nil || log.lastBatch != -1 || len(log.files) != 0 {
		t.Fatalf("missing log: %+v, %v", log, err)
	}
	dir := t.TempDir()
	writeFile(t, dir, "0", "v2\n"+logLine("a.json", "add"))
	if _, err := readSinkLog(dir); err == nil || !strings.Contains(err.Error(), "version") {
		t.Fatalf("v2 log: err = %v", err)
	}
	dir = t.TempDir()
	writeFile(t, dir, "0", "v1\nnot json\n")
	if _, err := readSinkLog(dir); err == nil {
		t.Fatal("corrupt log: no error")
	}
}

func TestResolveDataPathAndDump(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "part-0.json", `{"producer":"p-1","run":"0badc0de","seq":1,"ts":5,"partition":0,"offset":41}`+"\n"+
		`{"producer":"p-1","run":"0badc0de","seq":"2","value":"x"}`+"\n\n"+
		`{"producer":"p-1"}`+"\n")
	writeFile(t, dir, "producer=p-2/part-1.json", `{"seq":7}`+"\n")

	local, rel, err := resolveDataPath(dir, "file:///data/sink/part-0.json")
	if err != nil || rel != "part-0.json" || local != filepath.Join(dir, "part-0.json") {
		t.Fatalf("resolve basename: %q %q %v", local, rel, err)
	}
	// The logged path is inside dir: used as is.
	abs := filepath.Join(dir, "part-0.json")
	if local, _, err := resolveDataPath(dir, "file://"+abs); err != nil || local != abs {
		t.Fatalf("resolve absolute: %q %v", local, err)
	}
	local2, rel2, err := resolveDataPath(dir, "file:///data/sink/producer=p-2/part-1.json")
	if err != nil || rel2 != "producer=p-2/part-1.json" {
		t.Fatalf("resolve partitioned: %q %q %v", local2, rel2, err)
	}
	if _, _, err := resolveDataPath(dir, "file:///data/sink/nope.json"); err == nil {
		t.Fatal("missing file resolved")
	}

	var buf bytes.Buffer
	w := bufio.NewWriter(&buf)
	n, err := dumpSinkFile(w, local, rel, 4)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dumpSinkFile(w, local2, rel2, 5); err != nil {
		t.Fatal(err)
	}
	w.Flush()
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if n != 3 || len(lines) != 4 {
		t.Fatalf("n=%d lines=%q", n, lines)
	}
	if lines[0] != "p-1 0badc0de 1 4 0 41" || lines[1] != "p-1 0badc0de 2 4 -1 -1" || lines[3] != "p-2 - 7 5 -1 -1" {
		t.Fatalf("lines = %q", lines)
	}
	if !strings.HasPrefix(lines[2], "! part-0.json:4 ") || !strings.HasSuffix(lines[2], " 4") {
		t.Fatalf("bad row line = %q", lines[2])
	}
}

func TestUncommittedFiles(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "_spark_metadata/0", "v1\n")
	writeFile(t, dir, "a.json", "{}\n")
	writeFile(t, dir, "b.json", "{}\n")
	writeFile(t, dir, ".b.json.crc", "x")
	writeFile(t, dir, "_SUCCESS", "")
	writeFile(t, dir, "c.json.tmp", "")
	got, err := uncommittedFiles(dir, map[string]bool{absPath(filepath.Join(dir, "a.json")): true})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, []string{"b.json"}) {
		t.Fatalf("uncommitted = %v", got)
	}
}

func TestParseEventKey(t *testing.T) {
	cases := map[string]bool{
		`{"producer":"a","run":"r","seq":3,"ts":1}`: true,
		`{"producer":"a","seq":3}`:                  true,
		`{"producer":"a","seq":3.5}`:                false,
		`{"producer":"","seq":3}`:                   false,
		`{"seq":3}`:                                 false,
		`[1,2]`:                                     false,
		`hello`:                                     false,
		``:                                          false,
	}
	for in, ok := range cases {
		if _, got := parseEventKey([]byte(in), nil); got != ok {
			t.Errorf("parseEventKey(%s) ok = %v, want %v", in, got, ok)
		}
	}
}

// summarize renders committed files as "path@batch".
func summarize(files []committedFile) []string {
	var out []string
	for _, f := range files {
		out = append(out, f.path+"@"+strconv.FormatInt(f.batch, 10))
	}
	return out
}
