package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// memSpoolLimit is the largest file copied through memory while archiving;
// larger files are spooled through a temporary file.
const memSpoolLimit = 64 << 20

// writeArchive writes the tree below src as a gzip-compressed tar to w and
// returns the number of regular files it holds. Entry names are relative to
// src ("state/0/1.delta"); src itself is not an entry.
//
// The walk is lexical, so in a Spark checkpoint commits/ is captured before
// offsets/, sources/ and state/: a concurrently running query can only make
// the later directories newer than the commit log, which Spark recovers from.
// Each file is first copied in full and its header written with the size
// actually read, so files being written or replaced meanwhile never corrupt
// the archive. Files and directories that vanish during the walk are skipped,
// as are temporary "*.tmp" files and their ".crc" companions.
func writeArchive(w io.Writer, src string) (int, error) {
	gz := gzip.NewWriter(w)
	tw := tar.NewWriter(gz)
	files := 0
	var mem bytes.Buffer
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && p != src {
				return nil
			}
			return err
		}
		if p == src {
			return nil
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		name := filepath.ToSlash(rel)
		if isTempName(d.Name()) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		info, err := d.Info()
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		switch {
		case info.IsDir():
			hdr, err := tar.FileInfoHeader(info, "")
			if err != nil {
				return err
			}
			hdr.Name = name + "/"
			setPortable(hdr)
			return tw.WriteHeader(hdr)
		case info.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			if err != nil {
				return err
			}
			hdr, err := tar.FileInfoHeader(info, target)
			if err != nil {
				return err
			}
			hdr.Name = name
			setPortable(hdr)
			return tw.WriteHeader(hdr)
		case info.Mode().IsRegular():
			ok, err := archiveFile(tw, p, name, &mem)
			if ok {
				files++
			}
			return err
		default:
			return nil // sockets, fifos, devices
		}
	})
	if err != nil {
		return 0, fmt.Errorf("archive %s: %w", src, err)
	}
	if err := tw.Close(); err != nil {
		return 0, err
	}
	if err := gz.Close(); err != nil {
		return 0, err
	}
	return files, nil
}

// archiveFile copies one regular file into tw. It returns false without an
// error when the file vanished before it could be opened.
func archiveFile(tw *tar.Writer, p, name string, mem *bytes.Buffer) (bool, error) {
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return false, err
	}
	if !info.Mode().IsRegular() {
		return false, nil
	}
	var content io.Reader
	var size int64
	if info.Size() <= memSpoolLimit {
		mem.Reset()
		if size, err = io.Copy(mem, f); err != nil {
			return false, fmt.Errorf("read %s: %w", p, err)
		}
		content = mem
	} else {
		spool, err := os.CreateTemp("", "pipeline-tools-spool-*")
		if err != nil {
			return false, err
		}
		defer os.Remove(spool.Name())
		defer spool.Close()
		if size, err = io.Copy(spool, f); err != nil {
			return false, fmt.Errorf("read %s: %w", p, err)
		}
		if _, err := spool.Seek(0, io.SeekStart); err != nil {
			return false, err
		}
		content = spool
	}
	hdr, err := tar.FileInfoHeader(info, "")
	if err != nil {
		return false, err
	}
	hdr.Name = name
	hdr.Size = size
	setPortable(hdr)
	if err := tw.WriteHeader(hdr); err != nil {
		return false, err
	}
	if _, err := io.CopyN(tw, content, size); err != nil {
		return false, err
	}
	return true, nil
}

// setPortable drops owner names and selects PAX so long names work.
func setPortable(hdr *tar.Header) {
	hdr.Uname, hdr.Gname = "", ""
	hdr.Format = tar.FormatPAX
}

// isTempName reports whether a file name is a temporary file that is never
// archived: "*.tmp" and Hadoop checksum files of those ("*.tmp.crc").
func isTempName(name string) bool {
	return strings.HasSuffix(name, ".tmp") || strings.HasSuffix(name, ".tmp.crc")
}

// extractArchive reads a gzip-compressed tar from r. With target == "" it only
// validates the archive (entry names, types, gzip checksum); otherwise it
// writes the entries below target, which must exist. It returns the number of
// regular files. Entries that would land outside target, including through a
// symlink the archive itself created, are rejected.
func extractArchive(r io.Reader, target string) (int, error) {
	gz, err := gzip.NewReader(r)
	if err != nil {
		return 0, fmt.Errorf("not a gzip archive: %w", err)
	}
	defer gz.Close()
	tr := tar.NewReader(gz)
	files := 0
	links := map[string]bool{}
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return files, fmt.Errorf("read archive: %w", err)
		}
		name, err := safeEntryName(hdr.Name, links)
		if err != nil {
			return files, err
		}
		if name == "" {
			continue
		}
		dest := ""
		if target != "" {
			dest = filepath.Join(target, filepath.FromSlash(name))
		}
		mode := fs.FileMode(hdr.Mode).Perm()
		switch hdr.Typeflag {
		case tar.TypeDir:
			if dest != "" {
				if err := os.MkdirAll(dest, mode|0o700); err != nil {
					return files, err
				}
			}
		case tar.TypeReg:
			files++
			if dest == "" {
				if _, err := io.Copy(io.Discard, tr); err != nil {
					return files, fmt.Errorf("read archive: %w", err)
				}
				continue
			}
			if err := writeEntryFile(dest, tr, hdr, mode); err != nil {
				return files, err
			}
		case tar.TypeSymlink:
			links[name] = true
			if dest != "" {
				if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
					return files, err
				}
				_ = os.Remove(dest)
				if err := os.Symlink(hdr.Linkname, dest); err != nil {
					return files, err
				}
			}
		default:
			return files, fmt.Errorf("archive entry %q has unsupported type %q", hdr.Name, hdr.Typeflag)
		}
	}
	// Reading to the end of the gzip stream verifies its checksum.
	if _, err := io.Copy(io.Discard, gz); err != nil {
		return files, fmt.Errorf("read archive: %w", err)
	}
	return files, nil
}

// safeEntryName cleans an archive entry name and rejects names that are
// absolute, leave the target, or pass through a symlink of the archive. ""
// means the entry is the target itself.
func safeEntryName(name string, links map[string]bool) (string, error) {
	clean := path.Clean(strings.TrimPrefix(name, "./"))
	if clean == "." || clean == "/" {
		return "", nil
	}
	if path.IsAbs(clean) || clean == ".." || strings.HasPrefix(clean, "../") {
		return "", fmt.Errorf("archive entry %q leaves the target directory", name)
	}
	for dir := path.Dir(clean); dir != "."; dir = path.Dir(dir) {
		if links[dir] {
			return "", fmt.Errorf("archive entry %q lies below symlink %q", name, dir)
		}
	}
	return clean, nil
}

// writeEntryFile writes one regular file entry to dest.
func writeEntryFile(dest string, r io.Reader, hdr *tar.Header, mode fs.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
		return err
	}
	_ = os.Remove(dest) // a duplicate entry replaces the earlier one
	f, err := os.OpenFile(dest, os.O_CREATE|os.O_EXCL|os.O_WRONLY, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", dest, err)
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Chmod(dest, mode); err != nil {
		return err
	}
	return os.Chtimes(dest, hdr.ModTime, hdr.ModTime)
}

// emptyDir removes everything inside dir, creating dir if it is missing.
func emptyDir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			return err
		}
	}
	return nil
}
