package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestArchiveRoundTrip(t *testing.T) {
	src := t.TempDir()
	writeFile(t, src, "commits/0", "v1\n{}\n")
	writeFile(t, src, "offsets/0", "v1\n{}\n{\"events\":{\"0\":1}}\n")
	writeFile(t, src, "state/0/0/1.delta", strings.Repeat("x", 100000))
	writeFile(t, src, "offsets/.1.abc.tmp", "partial")
	writeFile(t, src, "offsets/..1.abc.tmp.crc", "partial")
	if err := os.MkdirAll(filepath.Join(src, "sources", "0"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../commits/0", filepath.Join(src, "offsets", "link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(src, "commits", "0"), 0o600); err != nil {
		t.Fatal(err)
	}

	var buf bytes.Buffer
	files, err := writeArchive(&buf, src)
	if err != nil {
		t.Fatal(err)
	}
	if files != 3 {
		t.Fatalf("files = %d, want 3", files)
	}
	if n, err := extractArchive(bytes.NewReader(buf.Bytes()), ""); err != nil || n != 3 {
		t.Fatalf("validate: n=%d err=%v", n, err)
	}

	dst := t.TempDir()
	writeFile(t, dst, "stale/file", "old")
	if err := emptyDir(dst); err != nil {
		t.Fatal(err)
	}
	if n, err := extractArchive(bytes.NewReader(buf.Bytes()), dst); err != nil || n != 3 {
		t.Fatalf("extract: n=%d err=%v", n, err)
	}
	for _, name := range []string{"commits/0", "offsets/0", "state/0/0/1.delta"} {
		want, _ := os.ReadFile(filepath.Join(src, name))
		got, err := os.ReadFile(filepath.Join(dst, name))
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("%s differs: %v", name, err)
		}
	}
	if st, err := os.Stat(filepath.Join(dst, "commits", "0")); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("mode not kept: %v %v", st.Mode(), err)
	}
	if st, err := os.Stat(filepath.Join(dst, "sources", "0")); err != nil || !st.IsDir() {
		t.Fatalf("empty dir not kept: %v", err)
	}
	if l, err := os.Readlink(filepath.Join(dst, "offsets", "link")); err != nil || l != "../commits/0" {
		t.Fatalf("symlink = %q, %v", l, err)
	}
	for _, name := range []string{"stale", "offsets/.1.abc.tmp", "offsets/..1.abc.tmp.crc"} {
		if _, err := os.Lstat(filepath.Join(dst, name)); !os.IsNotExist(err) {
			t.Fatalf("%s should not exist: %v", name, err)
		}
	}
}

// tarGz builds an archive from headers with the given contents.
func tarGz(t *testing.T, entries map[*tar.Header]string, order []*tar.Header) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, h := range order {
		body := entries[h]
		h.Size = int64(len(body))
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	tw.Close()
	gz.Close()
	return buf.Bytes()
}

func TestExtractRejectsEscapes(t *testing.T) {
	evil := []*tar.Header{
		{Name: "../evil", Typeflag: tar.TypeReg, Mode: 0o644},
		{Name: "/abs", Typeflag: tar.TypeReg, Mode: 0o644},
	}
	for _, h := range evil {
		data := tarGz(t, map[*tar.Header]string{h: "x"}, []*tar.Header{h})
		if _, err := extractArchive(bytes.NewReader(data), ""); err == nil {
			t.Errorf("%s accepted", h.Name)
		}
	}
	link := &tar.Header{Name: "l", Typeflag: tar.TypeSymlink, Linkname: "/tmp", Mode: 0o777}
	through := &tar.Header{Name: "l/x", Typeflag: tar.TypeReg, Mode: 0o644}
	data := tarGz(t, map[*tar.Header]string{link: "", through: "x"}, []*tar.Header{link, through})
	if _, err := extractArchive(bytes.NewReader(data), ""); err == nil {
		t.Error("write through symlink accepted")
	}
}

func TestExtractDetectsCorruption(t *testing.T) {
	src := t.TempDir()
	writeFile(t, src, "a", strings.Repeat("abc", 1000))
	var buf bytes.Buffer
	if _, err := writeArchive(&buf, src); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	data[len(data)-6] ^= 0xff // inside the gzip CRC/size trailer
	if _, err := extractArchive(bytes.NewReader(data), ""); err == nil {
		t.Fatal("corrupt archive accepted")
	}
}
