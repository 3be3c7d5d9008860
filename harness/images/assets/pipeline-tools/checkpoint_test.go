package main

import (
	"encoding/json"
	"path/filepath"
	"testing"
)

const offsetMetadata = `{"batchWatermarkMs":0,"batchTimestampMs":1700000000000,"conf":{"spark.sql.shuffle.partitions":"4"}}`

func TestCheckpointInfo(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "offsets/0", "v1\n"+offsetMetadata+"\n"+`{"events":{"0":10,"1":12}}`+"\n")
	writeFile(t, dir, "offsets/1", "v1\n"+offsetMetadata+"\n"+`{"events":{"1":456, "0":123}}`)
	writeFile(t, dir, "offsets/.2.9f3c.tmp", "v1\n")
	writeFile(t, dir, "offsets/.1.crc", "crc")
	writeFile(t, dir, "commits/0", "v1\n"+`{"nextBatchWatermarkMs":0}`+"\n")
	writeFile(t, dir, "commits/.1.5d2a.tmp", "v1\n")

	info, err := readCheckpointInfo(dir)
	if err != nil {
		t.Fatal(err)
	}
	if info.LastOffsetBatch != 1 || info.LastCommitBatch != 0 {
		t.Fatalf("info = %+v", info)
	}
	b, _ := json.Marshal(info)
	want := `{"last_offset_batch":1,"last_commit_batch":0,"offsets":{"events":{"1":456,"0":123}}}`
	if string(b) != want {
		t.Fatalf("json = %s\nwant   %s", b, want)
	}
}

func TestCheckpointInfoMissingDirs(t *testing.T) {
	info, err := readCheckpointInfo(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(info)
	if string(b) != `{"last_offset_batch":-1,"last_commit_batch":-1,"offsets":null}` {
		t.Fatalf("json = %s", b)
	}
}

func TestCheckpointInfoSeveralSources(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "offsets"), "12", "v1\n"+offsetMetadata+"\n"+
		`{"events":{"0":1}}`+"\n-\n"+`{"other":{"0":2}}`+"\n")
	info, err := readCheckpointInfo(dir)
	if err != nil {
		t.Fatal(err)
	}
	if info.LastOffsetBatch != 12 || info.LastCommitBatch != -1 || string(info.Offsets) != `{"events":{"0":1},"other":{"0":2}}` {
		t.Fatalf("info = %+v offsets=%s", info, info.Offsets)
	}
}

func TestCheckpointInfoCorrupt(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "offsets/3", "")
	if _, err := readCheckpointInfo(dir); err == nil {
		t.Fatal("empty offsets file: no error")
	}
	dir = t.TempDir()
	writeFile(t, dir, "offsets/3", "v1\n{}\n{not json\n")
	if _, err := readCheckpointInfo(dir); err == nil {
		t.Fatal("bad offsets JSON: no error")
	}
}
