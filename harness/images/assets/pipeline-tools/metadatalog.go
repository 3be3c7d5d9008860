package main

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// logFile is one batch file of a Spark metadata log directory (HDFSMetadataLog:
// _spark_metadata of a file sink, offsets/ and commits/ of a checkpoint).
type logFile struct {
	batch   int64
	compact bool // named "<batch>.compact"
	path    string
}

// listLogFiles returns the batch files of dir sorted by batch id. Temporary
// and hidden files (".*", "*.tmp", Hadoop ".crc" files) and names that are not
// "<batch>" or "<batch>.compact" are ignored. When a batch has both forms the
// compact file wins. A missing dir yields no files and no error.
func listLogFiles(dir string) ([]logFile, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	byBatch := map[int64]logFile{}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || strings.HasPrefix(name, ".") || strings.HasSuffix(name, ".tmp") {
			continue
		}
		base, compact := strings.CutSuffix(name, ".compact")
		batch, err := strconv.ParseInt(base, 10, 64)
		if err != nil || batch < 0 || strconv.FormatInt(batch, 10) != base {
			continue
		}
		if prev, ok := byBatch[batch]; ok && prev.compact {
			continue
		}
		byBatch[batch] = logFile{batch: batch, compact: compact, path: filepath.Join(dir, name)}
	}
	files := make([]logFile, 0, len(byBatch))
	for _, f := range byBatch {
		files = append(files, f)
	}
	sort.Slice(files, func(i, j int) bool { return files[i].batch < files[j].batch })
	return files, nil
}

// readLogFile returns the version from the "v<N>" first line of a metadata
// log file and its remaining non-empty lines.
func readLogFile(path string) (version int, lines []string, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 256<<20)
	first := true
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if first {
			first = false
			v, ok := strings.CutPrefix(line, "v")
			version, err = strconv.Atoi(v)
			if !ok || err != nil || version < 1 {
				return 0, nil, fmt.Errorf("%s: first line %q is not a version line like v1", path, truncate(line, 40))
			}
			continue
		}
		if strings.TrimSpace(line) != "" {
			lines = append(lines, line)
		}
	}
	if err := sc.Err(); err != nil {
		return 0, nil, fmt.Errorf("read %s: %w", path, err)
	}
	if first {
		return 0, nil, fmt.Errorf("%s: empty metadata log file", path)
	}
	return version, lines, nil
}

// truncate shortens s to at most n bytes for error messages.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
