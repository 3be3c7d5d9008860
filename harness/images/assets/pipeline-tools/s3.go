package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// Object user metadata written by backup.
const (
	metaSHA256 = "sha256"
	metaFiles  = "files"
)

// s3Options are the object store flags shared by backup, restore and
// list-backups.
type s3Options struct {
	endpoint  *string
	accessKey *string
	secretKey *string
	bucket    *string
	prefix    *string
	timeout   *time.Duration
}

// addS3Flags defines the object store flags on cmd.
func addS3Flags(cmd *command) *s3Options {
	return &s3Options{
		endpoint:  cmd.String("endpoint", "S3_ENDPOINT", "", "S3 endpoint URL, e.g. http://object-store:7070 (http means no TLS)"),
		accessKey: cmd.String("access-key", "AWS_ACCESS_KEY_ID", "", "S3 access key"),
		secretKey: cmd.String("secret-key", "AWS_SECRET_ACCESS_KEY", "", "S3 secret key"),
		bucket:    cmd.String("bucket", "S3_BUCKET", "spark-backups", "bucket"),
		prefix:    cmd.String("prefix", "BACKUP_PREFIX", "checkpoint", "key prefix of the backups"),
		timeout:   cmd.Duration("timeout", "S3_TIMEOUT", 30*time.Minute, "give up when the command takes longer"),
	}
}

// client validates the flags and returns a path-style client for region
// us-east-1.
func (o *s3Options) client() (*minio.Client, error) {
	if *o.endpoint == "" {
		return nil, usagef("--endpoint (or S3_ENDPOINT) is required")
	}
	if *o.accessKey == "" || *o.secretKey == "" {
		return nil, usagef("--access-key and --secret-key (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY) are required")
	}
	if *o.bucket == "" {
		return nil, usagef("--bucket is empty")
	}
	ep := *o.endpoint
	if !strings.Contains(ep, "://") {
		ep = "http://" + ep
	}
	u, err := url.Parse(ep)
	if err != nil || u.Host == "" {
		return nil, usagef("--endpoint %q is not a URL like http://host:port", *o.endpoint)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, usagef("--endpoint %q: scheme must be http or https", *o.endpoint)
	}
	if u.Path != "" && u.Path != "/" {
		return nil, usagef("--endpoint %q must not have a path", *o.endpoint)
	}
	cl, err := minio.New(u.Host, &minio.Options{
		Creds:        credentials.NewStaticV4(*o.accessKey, *o.secretKey, ""),
		Secure:       u.Scheme == "https",
		Region:       "us-east-1",
		BucketLookup: minio.BucketLookupPath,
	})
	if err != nil {
		return nil, fmt.Errorf("s3 client for %s: %w", *o.endpoint, err)
	}
	return cl, nil
}

// explain adds what a timeout means to err.
func (o *s3Options) explain(err error) error {
	if err != nil && errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%w (no answer from %s within --timeout %s)", err, *o.endpoint, *o.timeout)
	}
	return err
}

// context returns a context bounded by --timeout.
func (o *s3Options) context() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), *o.timeout)
}

// key joins the prefix and name into an object key.
func (o *s3Options) key(name string) string {
	p := strings.Trim(*o.prefix, "/")
	if p == "" {
		return name
	}
	return p + "/" + name
}

// ensureBucket creates the bucket unless it exists.
func ensureBucket(ctx context.Context, cl *minio.Client, bucket string) error {
	ok, err := cl.BucketExists(ctx, bucket)
	if err != nil {
		return fmt.Errorf("check bucket %q: %w", bucket, err)
	}
	if ok {
		return nil
	}
	err = cl.MakeBucket(ctx, bucket, minio.MakeBucketOptions{Region: "us-east-1"})
	if err != nil {
		switch minio.ToErrorResponse(err).Code {
		case "BucketAlreadyOwnedByYou", "BucketAlreadyExists":
			return nil
		}
		return fmt.Errorf("create bucket %q: %w", bucket, err)
	}
	return nil
}

// isNotFound reports whether err is S3's answer for a missing key or bucket.
func isNotFound(err error) bool {
	resp := minio.ToErrorResponse(err)
	switch resp.Code {
	case "NoSuchKey", "NoSuchBucket", "NotFound":
		return true
	}
	return resp.StatusCode == http.StatusNotFound
}

// userMeta looks up user metadata key of an object, case-insensitively.
func userMeta(info minio.ObjectInfo, key string) string {
	for k, v := range info.UserMetadata {
		k = strings.TrimPrefix(strings.ToLower(k), "x-amz-meta-")
		if k == key {
			return v
		}
	}
	return info.Metadata.Get("X-Amz-Meta-" + key)
}
