package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
)

const sinkDumpDesc = `
Reads a Spark Structured Streaming file sink directory (JSON format) as its
metadata log <dir>/_spark_metadata commits it: the entries of the latest
"<batch>.compact" file plus every later batch file, applying "add" and
"delete" actions. Prints one line per row of every committed file:
  <producer> <run> <seq> <batch> <partition> <offset>
where partition and offset are the Kafka record the row came from (-1 -1 when
the row has no partition and offset fields) and batch is the id of the log file that added the file (for files listed
only in a compact file: the older batch file that added them if it still
exists, else the compact batch). run is "-" when the row has none; values of
partition directories such as producer=x fill absent fields. A row without a
producer or an integer seq prints "! <file>:<line> <base64 of row> <batch>".

--after-batch N prints only the files committed after batch N: those the log
commits now minus those it committed as of batch N (rebuilt from the latest
compact file at or before N and the batch files after it up to N), so a
compact file written since, which lists every earlier file too, does not
bring the older files back. When the log as of N cannot be fully rebuilt
(its files were cleaned up, or the log now ends before N) a warning says so
and the files that cannot be told apart are printed too: more rows, never
fewer.

Logged paths (file:// URIs) are read from inside <dir> (by their path below
the sink root, found by trying ever longer suffixes of the path, basename
first) unless the logged path itself lies inside <dir>; a logged path outside
<dir> is read only when no such file exists in <dir>. ".gz" files are
decompressed. A committed file that cannot be found makes the command fail
after printing everything else (unless --allow-missing).

Ends with "files=<n> rows=<n> last_batch=<id>" on stderr (last_batch is -1
for an empty log), plus " after_batch=<N>" with --after-batch.`

// runSinkDump implements the sink-dump subcommand.
func runSinkDump(args []string) error {
	cmd := newCommand("sink-dump", "[flags] <dir>", sinkDumpDesc)
	uncommitted := cmd.Bool("uncommitted", "SINK_UNCOMMITTED", false,
		`also list data files in <dir> that the log does not commit, as "uncommitted <path>" lines on stderr`)
	allowMissing := cmd.Bool("allow-missing", "SINK_ALLOW_MISSING", false, "do not fail when a committed file is missing")
	after := cmd.Int64("after-batch", "", -1, "print only the files committed by batches after this one (-1: every file)")
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
	if *after < -1 {
		return usagef("--after-batch %d: must be -1 or a batch id", *after)
	}
	if *after >= 0 && *uncommitted {
		return usagef("--uncommitted needs every committed file: not with --after-batch")
	}
	log, err := readSinkLogAfter(filepath.Join(dir, "_spark_metadata"), *after)
	if err != nil {
		return err
	}
	for _, w := range log.warnings {
		fmt.Fprintln(os.Stderr, "warning:", w)
	}

	out := bufio.NewWriterSize(os.Stdout, 1<<20)
	rows := 0
	var missing []string
	committed := map[string]bool{}
	for _, cf := range log.files {
		local, rel, err := resolveDataPath(dir, cf.path)
		if err != nil {
			missing = append(missing, cf.path)
			fmt.Fprintf(os.Stderr, "missing committed file (batch %d): %s\n", cf.batch, cf.path)
			continue
		}
		committed[absPath(local)] = true
		n, err := dumpSinkFile(out, local, rel, cf.batch)
		rows += n
		if err != nil {
			out.Flush()
			return err
		}
	}
	if err := out.Flush(); err != nil {
		return fmt.Errorf("write stdout: %w", err)
	}
	if *uncommitted {
		extra, err := uncommittedFiles(dir, committed)
		if err != nil {
			return err
		}
		for _, p := range extra {
			fmt.Fprintln(os.Stderr, "uncommitted", p)
		}
	}
	summary := fmt.Sprintf("files=%d rows=%d last_batch=%d", len(log.files), rows, log.lastBatch)
	if *after >= 0 {
		summary += fmt.Sprintf(" after_batch=%d", *after)
	}
	fmt.Fprintln(os.Stderr, summary)
	if len(missing) > 0 && !*allowMissing {
		return fmt.Errorf("%d committed file(s) missing, first %s", len(missing), missing[0])
	}
	return nil
}

// sinkLogEntry is one line of a file sink log (Spark's SinkFileStatus).
type sinkLogEntry struct {
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	IsDir  bool   `json:"isDir"`
	Action string `json:"action"`
}

// committedFile is a data file the log commits, as logged.
type committedFile struct {
	path  string
	size  int64
	batch int64
}

// sinkLog is the committed state of a file sink metadata log.
type sinkLog struct {
	files        []committedFile // in the order the log added them
	lastBatch    int64           // highest batch id in the log, -1 if none
	compactBatch int64           // batch id of the compact file used, -1 if none
	warnings     []string
}

// readSinkLog computes the committed file set from a _spark_metadata dir.
func readSinkLog(metaDir string) (*sinkLog, error) {
	files, err := listLogFiles(metaDir)
	if err != nil {
		return nil, fmt.Errorf("read sink metadata log: %w", err)
	}
	return buildSinkLog(files)
}

// readSinkLogAfter is readSinkLog less the files the log committed as of
// batch after (nothing less when after < 0). When that earlier state cannot
// be rebuilt in full, warnings say so and the files it does not account for
// stay in: the result may hold more than the files of later batches, never
// fewer.
func readSinkLogAfter(metaDir string, after int64) (*sinkLog, error) {
	files, err := listLogFiles(metaDir)
	if err != nil {
		return nil, fmt.Errorf("read sink metadata log: %w", err)
	}
	log, err := buildSinkLog(files)
	if err != nil || after < 0 {
		return log, err
	}
	if log.lastBatch < after {
		log.warnings = append(log.warnings, fmt.Sprintf("the log ends at batch %d, before --after-batch %d (was it replaced?): printing every committed file", log.lastBatch, after))
		return log, nil
	}
	upTo := 0
	for upTo < len(files) && files[upTo].batch <= after {
		upTo++
	}
	if upTo == 0 {
		log.warnings = append(log.warnings, fmt.Sprintf("no log file up to batch %d remains: printing every committed file", after))
		return log, nil
	}
	before, err := buildSinkLog(files[:upTo])
	if err != nil {
		return nil, fmt.Errorf("the log as of batch %d: %w", after, err)
	}
	for _, w := range before.warnings {
		log.warnings = append(log.warnings, fmt.Sprintf("the log as of batch %d: %s (files it lost are printed too)", after, w))
	}
	if last := files[upTo-1].batch; last != after {
		log.warnings = append(log.warnings, fmt.Sprintf("the log file of batch %d is gone: files of batches %d..%d are printed too", after, last+1, after))
	}
	old := map[string]bool{}
	for _, f := range before.files {
		old[f.path] = true
	}
	kept := log.files[:0]
	for _, f := range log.files {
		if !old[f.path] {
			kept = append(kept, f)
		}
	}
	log.files = kept
	return log, nil
}

// buildSinkLog computes the committed file set from the batch files of a
// log, sorted by batch id.
func buildSinkLog(files []logFile) (*sinkLog, error) {
	log := &sinkLog{lastBatch: -1, compactBatch: -1}
	if len(files) == 0 {
		return log, nil
	}
	log.lastBatch = files[len(files)-1].batch
	start := 0
	for i, f := range files {
		if f.compact {
			start = i
			log.compactBatch = f.batch
		}
	}

	// Files a compact file lists were added by older batches; their batch
	// files are usually still there (Spark keeps 100 by default).
	addedBy := map[string]int64{}
	if log.compactBatch >= 0 {
		for _, f := range files[:start] {
			if f.compact {
				continue
			}
			entries, err := readSinkLogFile(f.path)
			if err != nil {
				continue // only used to label rows; the compact file is authoritative
			}
			for _, e := range entries {
				if e.Action == "" || e.Action == "add" {
					addedBy[e.Path] = f.batch
				}
			}
		}
	} else if files[0].batch != 0 {
		log.warnings = append(log.warnings, fmt.Sprintf("metadata log has no compact file and starts at batch %d, not 0", files[0].batch))
	}

	index := map[string]int{}
	var ordered []*committedFile
	for i, f := range files[start:] {
		if i > 0 && f.batch != files[start+i-1].batch+1 {
			log.warnings = append(log.warnings, fmt.Sprintf("metadata log jumps from batch %d to %d", files[start+i-1].batch, f.batch))
		}
		entries, err := readSinkLogFile(f.path)
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			switch e.Action {
			case "", "add":
				if e.IsDir {
					continue
				}
				batch := f.batch
				if f.compact {
					if b, ok := addedBy[e.Path]; ok {
						batch = b
					}
				}
				cf := &committedFile{path: e.Path, size: e.Size, batch: batch}
				if at, ok := index[e.Path]; ok && ordered[at] != nil {
					ordered[at] = cf
					continue
				}
				index[e.Path] = len(ordered)
				ordered = append(ordered, cf)
			case "delete":
				if at, ok := index[e.Path]; ok {
					ordered[at] = nil
					delete(index, e.Path)
				}
			default:
				return nil, fmt.Errorf("%s: unknown action %q for %s", f.path, e.Action, e.Path)
			}
		}
	}
	for _, cf := range ordered {
		if cf != nil {
			log.files = append(log.files, *cf)
		}
	}
	return log, nil
}

// readSinkLogFile parses one file of a file sink metadata log.
func readSinkLogFile(path string) ([]sinkLogEntry, error) {
	version, lines, err := readLogFile(path)
	if err != nil {
		return nil, err
	}
	if version != 1 {
		return nil, fmt.Errorf("%s: unsupported file sink log version v%d", path, version)
	}
	entries := make([]sinkLogEntry, 0, len(lines))
	for i, line := range lines {
		var e sinkLogEntry
		if err := json.Unmarshal([]byte(line), &e); err != nil || e.Path == "" {
			return nil, fmt.Errorf("%s line %d: not a file sink log entry: %q", path, i+2, truncate(line, 80))
		}
		entries = append(entries, e)
	}
	return entries, nil
}

// resolveDataPath finds the local file for a logged path. It returns the
// local path and the path relative to dir (slash-separated) used in messages.
func resolveDataPath(dir, logged string) (local, rel string, err error) {
	p := logged
	isLocal := true
	if u, err := url.Parse(logged); err == nil && u.Scheme != "" && len(u.Scheme) > 1 {
		p = u.Path
		isLocal = u.Scheme == "file"
	}
	absDir, err := filepath.Abs(dir)
	if err != nil {
		return "", "", err
	}
	if isLocal && filepath.IsAbs(p) {
		if r, err := filepath.Rel(absDir, filepath.Clean(p)); err == nil && r != ".." && !strings.HasPrefix(r, ".."+string(filepath.Separator)) {
			if isRegular(p) {
				return p, filepath.ToSlash(r), nil
			}
		}
	}
	parts := strings.Split(strings.Trim(path.Clean("/"+filepath.ToSlash(p)), "/"), "/")
	for k := 1; k <= len(parts) && k <= 8; k++ {
		suffix := strings.Join(parts[len(parts)-k:], "/")
		if strings.HasPrefix(suffix, "_spark_metadata/") {
			break
		}
		candidate := filepath.Join(dir, filepath.FromSlash(suffix))
		if isRegular(candidate) {
			return candidate, suffix, nil
		}
	}
	if isLocal && isRegular(p) {
		return p, p, nil
	}
	return "", "", fmt.Errorf("no file for %s in %s", logged, dir)
}

// absPath returns p made absolute and clean (p itself if that fails).
func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return filepath.Clean(p)
}

// isRegular reports whether p is an existing regular file.
func isRegular(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

// partitionValues returns the key=value directory names of a relative path.
func partitionValues(rel string) map[string]string {
	parts := strings.Split(rel, "/")
	var vals map[string]string
	for _, seg := range parts[:len(parts)-1] {
		k, v, ok := strings.Cut(seg, "=")
		if !ok || k == "" {
			continue
		}
		if uv, err := url.PathUnescape(v); err == nil {
			v = uv
		}
		if vals == nil {
			vals = map[string]string{}
		}
		vals[k] = v
	}
	return vals
}

// dumpSinkFile prints the rows of one JSON-lines data file and returns how
// many it printed.
func dumpSinkFile(w *bufio.Writer, local, rel string, batch int64) (int, error) {
	f, err := os.Open(local)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(local, ".gz") {
		gz, err := gzip.NewReader(f)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", local, err)
		}
		defer gz.Close()
		r = gz
	}
	extra := partitionValues(rel)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 256<<20)
	rows, lineNo := 0, 0
	var line []byte
	for sc.Scan() {
		lineNo++
		row := sc.Bytes()
		if len(bytes.TrimSpace(row)) == 0 {
			continue
		}
		line = line[:0]
		k, ok := parseEventKey(row, extra)
		if ok {
			line = append(line, k.Producer...)
			line = append(line, ' ')
			line = append(line, k.Run...)
			line = append(line, ' ')
			line = strconv.AppendInt(line, k.Seq, 10)
		} else {
			line = fmt.Appendf(line, "! %s:%d ", rel, lineNo)
			line = base64.StdEncoding.AppendEncode(line, row)
		}
		line = append(line, ' ')
		line = strconv.AppendInt(line, batch, 10)
		if ok {
			line = append(line, ' ')
			line = strconv.AppendInt(line, k.Partition, 10)
			line = append(line, ' ')
			line = strconv.AppendInt(line, k.Offset, 10)
		}
		line = append(line, '\n')
		if _, err := w.Write(line); err != nil {
			return rows, fmt.Errorf("write stdout: %w", err)
		}
		rows++
	}
	if err := sc.Err(); err != nil {
		return rows, fmt.Errorf("read %s: %w", local, err)
	}
	return rows, nil
}

// uncommittedFiles lists data files under dir (relative, slash-separated)
// that are not in committed. Metadata, hidden ("."), underscore ("_") and
// ".tmp" files are not data files.
func uncommittedFiles(dir string, committed map[string]bool) ([]string, error) {
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		name := d.Name()
		if p != dir && (strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") || strings.HasSuffix(name, ".tmp")) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() || !d.Type().IsRegular() || committed[absPath(p)] {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		out = append(out, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", dir, err)
	}
	return out, nil
}
