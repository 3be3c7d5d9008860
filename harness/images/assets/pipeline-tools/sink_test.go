package main

import (
	"bufio"
	"bytes"
	"os"
	"path"
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

// sparkLog writes a file sink log as Spark does with compactInterval 10:
// batch b adds "p<b>.json", and batches 9, 19, ... are compact files that
// list every file added so far. Batches below drop have been cleaned up.
func sparkLog(t *testing.T, meta string, last, drop int64) {
	t.Helper()
	var all string
	for b := int64(0); b <= last; b++ {
		line := logLine("p"+strconv.FormatInt(b, 10)+".json", "add")
		all += line
		if b < drop {
			continue
		}
		if (b+1)%10 == 0 {
			writeFile(t, meta, strconv.FormatInt(b, 10)+".compact", "v1\n"+all)
		} else {
			writeFile(t, meta, strconv.FormatInt(b, 10), "v1\n"+line)
		}
	}
}

func TestSinkLogAfterBatch(t *testing.T) {
	meta := filepath.Join(t.TempDir(), "_spark_metadata")
	sparkLog(t, meta, 22, 0)
	cases := []struct {
		after int64
		want  []string
	}{
		// 9.compact and 19.compact list everything before them, yet only
		// the files of batches after N come back, labelled by their batch
		// (p9 only ever was in compact files: the latest one labels it).
		{7, []string{"p8@8", "p9@19", "p10@10", "p11@11", "p12@12", "p13@13", "p14@14", "p15@15", "p16@16", "p17@17", "p18@18", "p19@19", "p20@20", "p21@21", "p22@22"}},
		{9, []string{"p10@10", "p11@11", "p12@12", "p13@13", "p14@14", "p15@15", "p16@16", "p17@17", "p18@18", "p19@19", "p20@20", "p21@21", "p22@22"}},
		{18, []string{"p19@19", "p20@20", "p21@21", "p22@22"}},
		{19, []string{"p20@20", "p21@21", "p22@22"}},
		{22, nil},
	}
	for _, c := range cases {
		log, err := readSinkLogAfter(meta, c.after)
		if err != nil {
			t.Fatal(err)
		}
		if got := shortNames(log.files); !reflect.DeepEqual(got, c.want) {
			t.Errorf("after %d: files = %v, want %v", c.after, got, c.want)
		}
		if len(log.warnings) != 0 {
			t.Errorf("after %d: warnings %v", c.after, log.warnings)
		}
	}
	every, err := readSinkLogAfter(meta, -1)
	if err != nil || len(every.files) != 23 {
		t.Fatalf("after -1: %d files, %v", len(every.files), err)
	}
}

func TestSinkLogAfterBatchThatCannotBeRebuilt(t *testing.T) {
	// Batches before 19 were cleaned up: the state as of batch 12 is gone,
	// so every file 19.compact lists is printed (a superset), with a warning.
	meta := filepath.Join(t.TempDir(), "_spark_metadata")
	sparkLog(t, meta, 21, 19)
	log, err := readSinkLogAfter(meta, 12)
	if err != nil {
		t.Fatal(err)
	}
	if len(log.files) != 22 || len(log.warnings) == 0 || !strings.Contains(log.warnings[0], "no log file up to batch 12") {
		t.Fatalf("files=%d warnings=%v", len(log.files), log.warnings)
	}
	// A log that ends before N was replaced: everything, with a warning.
	log, err = readSinkLogAfter(meta, 40)
	if err != nil || len(log.files) != 22 || !strings.Contains(strings.Join(log.warnings, " "), "before --after-batch 40") {
		t.Fatalf("files=%d warnings=%v err=%v", len(log.files), log.warnings, err)
	}
}

func TestSinkLogAfterBatchWhoseFileIsGone(t *testing.T) {
	meta := filepath.Join(t.TempDir(), "_spark_metadata")
	sparkLog(t, meta, 6, 0)
	if err := os.Remove(filepath.Join(meta, "4")); err != nil {
		t.Fatal(err)
	}
	log, err := readSinkLogAfter(meta, 4)
	if err != nil {
		t.Fatal(err)
	}
	// The state as of batch 3 is the best known: batch 5 and 6, never fewer.
	if got := shortNames(log.files); !reflect.DeepEqual(got, []string{"p5@5", "p6@6"}) {
		t.Fatalf("files = %v", got)
	}
	if !strings.Contains(strings.Join(log.warnings, " "), "batch 4 is gone") {
		t.Fatalf("warnings = %v", log.warnings)
	}
}

func TestSinkInfo(t *testing.T) {
	dir := t.TempDir()
	info, err := readSinkInfo(filepath.Join(dir, "_spark_metadata"))
	if err != nil || info != (sinkInfo{-1, -1, -1}) {
		t.Fatalf("missing log: %+v %v", info, err)
	}
	meta := filepath.Join(dir, "_spark_metadata")
	sparkLog(t, meta, 21, 9)
	writeFile(t, meta, ".22.5f1e.tmp", "v1\n")
	info, err = readSinkInfo(meta)
	if err != nil || info != (sinkInfo{LastBatch: 21, CompactBatch: 19, FirstBatch: 9}) {
		t.Fatalf("info = %+v %v", info, err)
	}
}

// shortNames renders committed files as "<name without .json>@batch".
func shortNames(files []committedFile) []string {
	var out []string
	for _, f := range files {
		name := strings.TrimSuffix(path.Base(f.path), ".json")
		out = append(out, name+"@"+strconv.FormatInt(f.batch, 10))
	}
	return out
}
