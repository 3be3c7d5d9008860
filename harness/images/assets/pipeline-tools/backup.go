package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
)

const backupDesc = `
Archives --source as a .tar.gz (see below) and uploads it to
<bucket>/<prefix>/<UTC time YYYYMMDDTHHMMSSZ>.tar.gz with user metadata
sha256=<hex of the archive> and files=<regular file count>, then writes the
key into <prefix>/latest. Creates the bucket when missing (path-style
requests, region us-east-1, TLS only for https endpoints). Prints
{"key":...,"size":...,"sha256":...,"files":...} as one line.

The archive is consistent while files change: each file is read in full
before its header is written, files that vanish during the walk and "*.tmp"
files are skipped, and the walk is lexical (in a Spark checkpoint commits/ is
read before offsets/ and state/). The archive is staged in $TMPDIR.`

// backupResult is the JSON line backup prints.
type backupResult struct {
	Bucket string `json:"bucket"`
	Key    string `json:"key"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
	Files  int    `json:"files"`
}

// runBackup implements the backup subcommand.
func runBackup(args []string) (err error) {
	cmd := newCommand("backup", "[flags]", backupDesc)
	s3 := addS3Flags(cmd)
	source := cmd.String("source", "BACKUP_SOURCE", "", "directory to back up (required)")
	if err := cmd.parse(args); err != nil {
		return err
	}
	if err := cmd.noArgs(); err != nil {
		return err
	}
	if *source == "" {
		return usagef("--source (or BACKUP_SOURCE) is required")
	}
	if st, err := os.Stat(*source); err != nil || !st.IsDir() {
		return fmt.Errorf("source %s is not a directory", *source)
	}
	cl, err := s3.client()
	if err != nil {
		return err
	}
	ctx, cancel := s3.context()
	defer cancel()
	defer func() { err = s3.explain(err) }()

	tmp, err := os.CreateTemp("", "pipeline-tools-backup-*.tar.gz")
	if err != nil {
		return fmt.Errorf("stage archive: %w", err)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	hash := sha256.New()
	files, err := writeArchive(io.MultiWriter(tmp, hash), *source)
	if err != nil {
		return err
	}
	size, err := tmp.Seek(0, io.SeekCurrent)
	if err != nil {
		return err
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return err
	}
	sum := hex.EncodeToString(hash.Sum(nil))

	if err := ensureBucket(ctx, cl, *s3.bucket); err != nil {
		return err
	}
	key, err := freshBackupKey(ctx, cl, s3)
	if err != nil {
		return err
	}
	_, err = cl.PutObject(ctx, *s3.bucket, key, tmp, size, minio.PutObjectOptions{
		ContentType:  "application/gzip",
		UserMetadata: map[string]string{metaSHA256: sum, metaFiles: strconv.Itoa(files)},
	})
	if err != nil {
		return fmt.Errorf("upload %s/%s: %w", *s3.bucket, key, err)
	}
	latest := s3.key("latest")
	_, err = cl.PutObject(ctx, *s3.bucket, latest, strings.NewReader(key), int64(len(key)),
		minio.PutObjectOptions{ContentType: "text/plain"})
	if err != nil {
		return fmt.Errorf("uploaded %s but could not update %s: %w", key, latest, err)
	}
	b, _ := json.Marshal(backupResult{Bucket: *s3.bucket, Key: key, Size: size, SHA256: sum, Files: files})
	fmt.Println(string(b))
	return nil
}

// freshBackupKey returns <prefix>/<UTC timestamp>.tar.gz for a key that does
// not exist yet, waiting for the next second when the current one is taken.
func freshBackupKey(ctx context.Context, cl *minio.Client, s3 *s3Options) (string, error) {
	for attempt := 0; ; attempt++ {
		now := time.Now().UTC()
		key := s3.key(now.Format("20060102T150405Z") + ".tar.gz")
		_, err := cl.StatObject(ctx, *s3.bucket, key, minio.StatObjectOptions{})
		if isNotFound(err) {
			return key, nil
		}
		if err != nil {
			return "", fmt.Errorf("check key %s: %w", key, err)
		}
		if attempt >= 3 {
			return "", fmt.Errorf("backup key %s already exists", key)
		}
		time.Sleep(now.Truncate(time.Second).Add(time.Second).Sub(time.Now().UTC()) + 10*time.Millisecond)
	}
}
