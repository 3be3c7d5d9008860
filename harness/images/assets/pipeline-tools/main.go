// Command pipeline-tools bundles the small programs the Spark streaming
// pipeline and its chaos tests need: the Kafka ingest service, dump tools that
// read what Kafka, the Spark file sink and the Spark checkpoint hold, and
// checkpoint backup/restore to an S3-compatible object store.
//
// Usage: pipeline-tools <command> [flags]; run "pipeline-tools help" for the
// list of commands and "pipeline-tools <command> --help" for their flags.
package main

import (
	"errors"
	"fmt"
	"os"
)

// subcommand is one entry of the command table.
type subcommand struct {
	name    string
	summary string
	run     func(args []string) error
}

// commands lists every subcommand in the order help shows them.
var commands = []subcommand{
	{"produce", "run the ingest service: write numbered events to Kafka, serve probes and metrics", runProduce},
	{"create-topic", "create the pipeline's topic if it does not exist", runCreateTopic},
	{"alert-sink", "receive Alertmanager webhook notifications and serve them back", runAlertSink},
	{"topic-offsets", "print the earliest and end offsets of every partition of a topic", runTopicOffsets},
	{"topic-dump", "print the records of a topic between two offsets per partition", runTopicDump},
	{"sink-info", "print the last batch id of a Spark file sink's metadata log", runSinkInfo},
	{"sink-dump", "print the rows of a Spark file sink that its metadata log commits", runSinkDump},
	{"checkpoint-info", "print the last offset/commit batch and source offsets of a Spark checkpoint", runCheckpointInfo},
	{"backup", "tar+gzip a directory and upload it to an S3-compatible store", runBackup},
	{"restore", "download a backup, verify its sha256 and extract it into a directory", runRestore},
	{"list-backups", "list the backups stored under a prefix", runListBackups},
}

func main() {
	os.Exit(dispatch(os.Args[1:]))
}

// dispatch runs the subcommand named by args[0] and returns the exit code:
// 0 on success or help, 1 on a runtime error, 2 on a usage error.
func dispatch(args []string) int {
	if len(args) == 0 {
		printCommands(os.Stderr)
		return 2
	}
	name := args[0]
	switch name {
	case "help", "-h", "-help", "--help":
		printCommands(os.Stdout)
		return 0
	}
	for _, c := range commands {
		if c.name != name {
			continue
		}
		err := c.run(args[1:])
		var uerr usageError
		switch {
		case err == nil:
			return 0
		case errors.Is(err, errHelpShown):
			return 0
		case errors.As(err, &uerr):
			fmt.Fprintf(os.Stderr, "pipeline-tools %s: %v (see 'pipeline-tools %s --help')\n", name, err, name)
			return 2
		default:
			fmt.Fprintf(os.Stderr, "pipeline-tools %s: %v\n", name, err)
			return 1
		}
	}
	fmt.Fprintf(os.Stderr, "pipeline-tools: unknown command %q (see 'pipeline-tools help')\n", name)
	return 2
}

// printCommands writes the top-level usage text.
func printCommands(w *os.File) {
	fmt.Fprintln(w, "usage: pipeline-tools <command> [flags]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "commands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-16s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Every flag can also be set through the environment variable named in the command's --help.")
}
