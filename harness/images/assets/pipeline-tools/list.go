package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/minio/minio-go/v7"
)

const listBackupsDesc = `
Prints one JSON line per object under <prefix>/ in key order:
{"key":...,"size":...,"sha256":...,"files":...,"last_modified":...}.
sha256 is the object's metadata ("" when it has none, e.g. <prefix>/latest),
files is -1 when the object has no files metadata. A missing bucket means no
backups: nothing is printed.`

// backupEntry is one line of list-backups.
type backupEntry struct {
	Key          string `json:"key"`
	Size         int64  `json:"size"`
	SHA256       string `json:"sha256"`
	Files        int    `json:"files"`
	LastModified string `json:"last_modified"`
}

// runListBackups implements the list-backups subcommand.
func runListBackups(args []string) (err error) {
	cmd := newCommand("list-backups", "[flags]", listBackupsDesc)
	s3 := addS3Flags(cmd)
	if err := cmd.parse(args); err != nil {
		return err
	}
	if err := cmd.noArgs(); err != nil {
		return err
	}
	cl, err := s3.client()
	if err != nil {
		return err
	}
	ctx, cancel := s3.context()
	defer cancel()
	defer func() { err = s3.explain(err) }()
	ok, err := cl.BucketExists(ctx, *s3.bucket)
	if err != nil {
		return fmt.Errorf("check bucket %q: %w", *s3.bucket, err)
	}
	if !ok {
		fmt.Fprintf(os.Stderr, "bucket %q does not exist: no backups\n", *s3.bucket)
		return nil
	}
	prefix := s3.key("")
	for obj := range cl.ListObjects(ctx, *s3.bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
		if obj.Err != nil {
			return fmt.Errorf("list %s/%s: %w", *s3.bucket, prefix, obj.Err)
		}
		info, err := cl.StatObject(ctx, *s3.bucket, obj.Key, minio.StatObjectOptions{})
		if isNotFound(err) {
			continue // deleted since the listing
		}
		if err != nil {
			return fmt.Errorf("stat %s/%s: %w", *s3.bucket, obj.Key, err)
		}
		files := -1
		if n, err := strconv.Atoi(userMeta(info, metaFiles)); err == nil {
			files = n
		}
		b, _ := json.Marshal(backupEntry{
			Key:          obj.Key,
			Size:         info.Size,
			SHA256:       userMeta(info, metaSHA256),
			Files:        files,
			LastModified: info.LastModified.UTC().Format(time.RFC3339),
		})
		fmt.Println(string(b))
	}
	return nil
}
