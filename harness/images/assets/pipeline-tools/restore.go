package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/minio/minio-go/v7"
)

const restoreDesc = `
Downloads a backup (--key, or the key stored in <prefix>/latest), checks its
sha256 against the object's sha256 metadata and the archive against its
files metadata, and only then empties --target (its contents, not the
directory itself; created when missing) and extracts the archive into it.
On any mismatch nothing is written. Prints {"key":...,"files":...,
"sha256":...} as one line. The download is staged in $TMPDIR.`

// restoreResult is the JSON line restore prints.
type restoreResult struct {
	Key    string `json:"key"`
	Files  int    `json:"files"`
	SHA256 string `json:"sha256"`
	Target string `json:"target"`
}

// runRestore implements the restore subcommand.
func runRestore(args []string) (err error) {
	cmd := newCommand("restore", "[flags]", restoreDesc)
	s3 := addS3Flags(cmd)
	target := cmd.String("target", "RESTORE_TARGET", "", "directory to restore into (required)")
	keyFlag := cmd.String("key", "RESTORE_KEY", "", "object key of the backup (default: the content of <prefix>/latest)")
	if err := cmd.parse(args); err != nil {
		return err
	}
	if err := cmd.noArgs(); err != nil {
		return err
	}
	if *target == "" {
		return usagef("--target (or RESTORE_TARGET) is required")
	}
	if st, err := os.Stat(*target); err == nil && !st.IsDir() {
		return fmt.Errorf("target %s is not a directory", *target)
	}
	cl, err := s3.client()
	if err != nil {
		return err
	}
	ctx, cancel := s3.context()
	defer cancel()
	defer func() { err = s3.explain(err) }()

	key := *keyFlag
	if key == "" {
		latest := s3.key("latest")
		obj, err := cl.GetObject(ctx, *s3.bucket, latest, minio.GetObjectOptions{})
		if err != nil {
			return fmt.Errorf("read %s/%s: %w", *s3.bucket, latest, err)
		}
		b, err := io.ReadAll(io.LimitReader(obj, 4096))
		obj.Close()
		if isNotFound(err) {
			return fmt.Errorf("no backup to restore: %s/%s does not exist", *s3.bucket, latest)
		}
		if err != nil {
			return fmt.Errorf("read %s/%s: %w", *s3.bucket, latest, err)
		}
		if key = strings.TrimSpace(string(b)); key == "" {
			return fmt.Errorf("%s/%s is empty", *s3.bucket, latest)
		}
	}

	obj, err := cl.GetObject(ctx, *s3.bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return fmt.Errorf("download %s/%s: %w", *s3.bucket, key, err)
	}
	defer obj.Close()
	info, err := obj.Stat()
	if isNotFound(err) {
		return fmt.Errorf("backup %s/%s does not exist", *s3.bucket, key)
	}
	if err != nil {
		return fmt.Errorf("download %s/%s: %w", *s3.bucket, key, err)
	}
	want := strings.ToLower(userMeta(info, metaSHA256))
	if want == "" {
		return fmt.Errorf("backup %s has no sha256 metadata; refusing to restore it", key)
	}
	tmp, err := os.CreateTemp("", "pipeline-tools-restore-*.tar.gz")
	if err != nil {
		return fmt.Errorf("stage download: %w", err)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	hash := sha256.New()
	if _, err := io.Copy(io.MultiWriter(tmp, hash), obj); err != nil {
		return fmt.Errorf("download %s/%s: %w", *s3.bucket, key, err)
	}
	got := hex.EncodeToString(hash.Sum(nil))
	if got != want {
		return fmt.Errorf("sha256 mismatch for %s: metadata says %s, downloaded %s; target left untouched", key, want, got)
	}

	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return err
	}
	files, err := extractArchive(tmp, "")
	if err != nil {
		return fmt.Errorf("backup %s: %w; target left untouched", key, err)
	}
	if meta := userMeta(info, metaFiles); meta != "" && meta != strconv.Itoa(files) {
		return fmt.Errorf("backup %s holds %d files but its metadata says %s; target left untouched", key, files, meta)
	}
	if err := emptyDir(*target); err != nil {
		return fmt.Errorf("empty target %s: %w", *target, err)
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return err
	}
	if _, err := extractArchive(tmp, *target); err != nil {
		return fmt.Errorf("extract %s into %s: %w", key, *target, err)
	}
	b, _ := json.Marshal(restoreResult{Key: key, Files: files, SHA256: got, Target: *target})
	fmt.Println(string(b))
	return nil
}
