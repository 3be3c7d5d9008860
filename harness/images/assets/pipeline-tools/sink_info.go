package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

const sinkInfoDesc = `
Prints one JSON object describing a Spark file sink's metadata log
<dir>/_spark_metadata, from its file names alone (nothing is read, so it is
cheap whatever the sink's size):
  {"last_batch": N, "compact_batch": M, "first_batch": F}
N is the highest committed batch id, M the latest "<batch>.compact" file's
and F the lowest batch file still there; each is -1 when there is none (a
missing log gives -1 for all). Pass N to sink-dump --after-batch later to
read only what was committed since.`

// sinkInfo is the output of sink-info.
type sinkInfo struct {
	LastBatch    int64 `json:"last_batch"`
	CompactBatch int64 `json:"compact_batch"`
	FirstBatch   int64 `json:"first_batch"`
}

// runSinkInfo implements the sink-info subcommand.
func runSinkInfo(args []string) error {
	cmd := newCommand("sink-info", "<dir>", sinkInfoDesc)
	if err := cmd.parse(args); err != nil {
		return err
	}
	dir, err := cmd.oneArg("<dir>")
	if err != nil {
		return err
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return fmt.Errorf("%s is not a directory", dir)
	}
	info, err := readSinkInfo(filepath.Join(dir, "_spark_metadata"))
	if err != nil {
		return err
	}
	b, err := json.Marshal(info)
	if err != nil {
		return err
	}
	fmt.Println(string(b))
	return nil
}

// readSinkInfo lists a file sink metadata log.
func readSinkInfo(metaDir string) (sinkInfo, error) {
	info := sinkInfo{LastBatch: -1, CompactBatch: -1, FirstBatch: -1}
	files, err := listLogFiles(metaDir)
	if err != nil {
		return info, fmt.Errorf("read sink metadata log: %w", err)
	}
	if len(files) == 0 {
		return info, nil
	}
	info.FirstBatch, info.LastBatch = files[0].batch, files[len(files)-1].batch
	for _, f := range files {
		if f.compact {
			info.CompactBatch = f.batch
		}
	}
	return info, nil
}
