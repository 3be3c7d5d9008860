// runc-capstrip removes capabilities the host cannot grant from an OCI spec and
// then runs the real runc with the original arguments.
//
// Docker and containerd ask runc for every capability they know when a container
// is privileged. Where the capability bounding set of the machine lacks some of
// them (CAP_SYS_RESOURCE on the lab VMs), runc fails with "unable to apply caps:
// operation not permitted". This wrapper edits the spec that runc is about to
// read: config.json in the --bundle directory (create, run) and the --process
// file (exec), keeping only capabilities present in our own bounding set.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// capNames maps capability numbers to the names used in OCI specs.
var capNames = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER",
	"CAP_FSETID", "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP",
	"CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST",
	"CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER",
	"CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE",
	"CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
	"CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD",
	"CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP",
	"CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM",
	"CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF",
	"CAP_CHECKPOINT_RESTORE",
}

// realRuncCandidates lists where the real runc lives on Debian and upstream installs.
var realRuncCandidates = []string{"/usr/sbin/runc", "/usr/bin/runc", "/usr/local/sbin/runc.real"}

func main() {
	args := os.Args[1:]
	missing, err := missingCaps()
	if err == nil && len(missing) > 0 {
		for i, a := range args {
			switch {
			case (a == "--bundle" || a == "-b") && i+1 < len(args):
				stripFile(filepath.Join(args[i+1], "config.json"), missing, true)
			case strings.HasPrefix(a, "--bundle="):
				stripFile(filepath.Join(strings.TrimPrefix(a, "--bundle="), "config.json"), missing, true)
			case (a == "--process" || a == "-p") && i+1 < len(args):
				stripFile(args[i+1], missing, false)
			case strings.HasPrefix(a, "--process="):
				stripFile(strings.TrimPrefix(a, "--process="), missing, false)
			}
		}
	}
	real := os.Getenv("RUNC_CAPSTRIP_REAL")
	if real == "" {
		for _, c := range realRuncCandidates {
			if st, err := os.Stat(c); err == nil && !st.IsDir() {
				real = c
				break
			}
		}
	}
	if real == "" {
		fmt.Fprintln(os.Stderr, "runc-capstrip: no real runc found in", realRuncCandidates)
		os.Exit(127)
	}
	err = syscall.Exec(real, append([]string{"runc"}, args...), os.Environ())
	fmt.Fprintln(os.Stderr, "runc-capstrip: exec", real, ":", err)
	os.Exit(127)
}

// missingCaps returns the capability names absent from this process's bounding set.
func missingCaps() (map[string]bool, error) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		line := s.Text()
		if !strings.HasPrefix(line, "CapBnd:") {
			continue
		}
		bnd, err := strconv.ParseUint(strings.TrimSpace(strings.TrimPrefix(line, "CapBnd:")), 16, 64)
		if err != nil {
			return nil, err
		}
		out := map[string]bool{}
		for i, name := range capNames {
			if bnd&(1<<uint(i)) == 0 {
				out[name] = true
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("no CapBnd line in /proc/self/status")
}

// stripFile rewrites one spec file without the missing capabilities.
// For a bundle the capabilities sit under process.capabilities; for a
// process file they sit at the top level under capabilities.
func stripFile(path string, missing map[string]bool, bundle bool) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		return
	}
	holder := doc
	if bundle {
		p, ok := doc["process"].(map[string]any)
		if !ok {
			return
		}
		holder = p
	}
	caps, ok := holder["capabilities"].(map[string]any)
	if !ok {
		return
	}
	changed := false
	for set, v := range caps {
		list, ok := v.([]any)
		if !ok {
			continue
		}
		kept := make([]any, 0, len(list))
		for _, c := range list {
			if name, ok := c.(string); ok && missing[name] {
				changed = true
				continue
			}
			kept = append(kept, c)
		}
		caps[set] = kept
	}
	if !changed {
		return
	}
	out, err := json.Marshal(doc)
	if err != nil {
		return
	}
	st, err := os.Stat(path)
	if err != nil {
		return
	}
	_ = os.WriteFile(path, out, st.Mode().Perm())
}
