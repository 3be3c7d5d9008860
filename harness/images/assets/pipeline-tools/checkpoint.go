package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

const checkpointInfoDesc = `
Prints one JSON object describing a Structured Streaming checkpoint:
  {"last_offset_batch": N, "last_commit_batch": M, "offsets": {...}}
N and M are the highest batch ids in <dir>/offsets and <dir>/commits (-1
when the directory is missing or empty; a missing <dir> gives -1 for both). offsets is the source offsets JSON
of offsets file N (line 3 on, one line per source, e.g.
{"events":{"0":123,"1":456}}); with several sources their objects are merged,
sources without offsets ("-") are left out, and it is null when there is none.`

// checkpointInfo is the output of checkpoint-info.
type checkpointInfo struct {
	LastOffsetBatch int64           `json:"last_offset_batch"`
	LastCommitBatch int64           `json:"last_commit_batch"`
	Offsets         json.RawMessage `json:"offsets"`
}

// runCheckpointInfo implements the checkpoint-info subcommand.
func runCheckpointInfo(args []string) error {
	cmd := newCommand("checkpoint-info", "<dir>", checkpointInfoDesc)
	if err := cmd.parse(args); err != nil {
		return err
	}
	dir, err := cmd.oneArg("<dir>")
	if err != nil {
		return err
	}
	if st, err := os.Stat(dir); err == nil && !st.IsDir() {
		return fmt.Errorf("%s is not a directory", dir)
	} else if errors.Is(err, fs.ErrNotExist) {
		fmt.Fprintf(os.Stderr, "checkpoint directory %s does not exist (yet)\n", dir)
	}
	info, err := readCheckpointInfo(dir)
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

// readCheckpointInfo reads the offsets and commits logs of a checkpoint.
func readCheckpointInfo(dir string) (*checkpointInfo, error) {
	info := &checkpointInfo{LastOffsetBatch: -1, LastCommitBatch: -1, Offsets: json.RawMessage("null")}
	offsets, err := listLogFiles(filepath.Join(dir, "offsets"))
	if err != nil {
		return nil, fmt.Errorf("read offsets log: %w", err)
	}
	commits, err := listLogFiles(filepath.Join(dir, "commits"))
	if err != nil {
		return nil, fmt.Errorf("read commits log: %w", err)
	}
	if len(commits) > 0 {
		info.LastCommitBatch = commits[len(commits)-1].batch
	}
	if len(offsets) == 0 {
		return info, nil
	}
	last := offsets[len(offsets)-1]
	info.LastOffsetBatch = last.batch
	_, lines, err := readLogFile(last.path)
	if err != nil {
		return nil, err
	}
	if len(lines) < 1 {
		return nil, fmt.Errorf("%s: no metadata line", last.path)
	}
	info.Offsets, err = mergeSourceOffsets(lines[1:])
	if err != nil {
		return nil, fmt.Errorf("%s: %w", last.path, err)
	}
	return info, nil
}

// mergeSourceOffsets combines the per-source offset lines of an offsets file.
// One source is returned as is (compacted); several JSON objects are merged
// key by key; a source that is not an object makes the result an array.
func mergeSourceOffsets(lines []string) (json.RawMessage, error) {
	var sources []json.RawMessage
	for i, line := range lines {
		line := bytes.TrimSpace([]byte(line))
		if string(line) == "-" {
			continue
		}
		var buf bytes.Buffer
		if err := json.Compact(&buf, line); err != nil {
			return nil, fmt.Errorf("source %d offsets are not JSON: %q", i, truncate(string(line), 80))
		}
		sources = append(sources, buf.Bytes())
	}
	switch len(sources) {
	case 0:
		return json.RawMessage("null"), nil
	case 1:
		return sources[0], nil
	}
	merged := map[string]json.RawMessage{}
	for _, s := range sources {
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(s, &obj); err != nil {
			return json.Marshal(sources)
		}
		for k, v := range obj {
			merged[k] = v
		}
	}
	return json.Marshal(merged)
}
