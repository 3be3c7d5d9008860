package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// errHelpShown reports that --help was requested and the usage was printed.
var errHelpShown = errors.New("help shown")

// usageError is a problem with the command line (exit code 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// usagef builds a usageError.
func usagef(format string, args ...any) error {
	return usageError{fmt.Sprintf(format, args...)}
}

// command is a flag set whose flags fall back to environment variables.
//
// A flag given on the command line wins; otherwise a non-empty environment
// variable of the flag's env name sets it; otherwise the built-in default
// applies. Defaults shown by --help are the built-in ones, so secrets passed
// through the environment never appear in the help text.
type command struct {
	name     string
	synopsis string
	desc     string
	fs       *flag.FlagSet
	env      map[string]string // flag name -> environment variable
	order    []string          // flag names in definition order
	args     []string          // positional arguments after parsing
}

// newCommand starts the flag set of subcommand name. synopsis follows the
// command name in the usage line ("[flags] <dir>"); desc is the help text.
func newCommand(name, synopsis, desc string) *command {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return &command{name: name, synopsis: synopsis, desc: desc, fs: fs, env: map[string]string{}}
}

func (c *command) register(name, env string) {
	c.order = append(c.order, name)
	if env != "" {
		c.env[name] = env
	}
}

// String defines a string flag backed by environment variable env.
func (c *command) String(name, env, def, usage string) *string {
	c.register(name, env)
	return c.fs.String(name, def, usage)
}

// Float defines a float flag backed by environment variable env.
func (c *command) Float(name, env string, def float64, usage string) *float64 {
	c.register(name, env)
	return c.fs.Float64(name, def, usage)
}

// Int64 defines an integer flag backed by environment variable env.
func (c *command) Int64(name, env string, def int64, usage string) *int64 {
	c.register(name, env)
	return c.fs.Int64(name, def, usage)
}

// Duration defines a duration flag backed by environment variable env.
func (c *command) Duration(name, env string, def time.Duration, usage string) *time.Duration {
	c.register(name, env)
	return c.fs.Duration(name, def, usage)
}

// Bool defines a boolean flag backed by environment variable env.
func (c *command) Bool(name, env string, def bool, usage string) *bool {
	c.register(name, env)
	return c.fs.Bool(name, def, usage)
}

// parse reads args (flags and positional arguments may be interleaved), then
// fills unset flags from the environment. It prints the usage to stdout and
// returns errHelpShown for -h/--help.
func (c *command) parse(args []string) error {
	var positional []string
	for {
		if err := c.fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				c.usage(os.Stdout)
				return errHelpShown
			}
			return usageError{err.Error()}
		}
		args = c.fs.Args()
		if len(args) == 0 {
			break
		}
		positional = append(positional, args[0])
		args = args[1:]
	}
	c.args = positional
	set := map[string]bool{}
	c.fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	for _, name := range c.order {
		env := c.env[name]
		if env == "" || set[name] {
			continue
		}
		if v := os.Getenv(env); v != "" {
			if err := c.fs.Set(name, v); err != nil {
				typ, _ := flag.UnquoteUsage(c.fs.Lookup(name))
				return usagef("environment variable %s=%q is not a valid %s (for --%s)", env, v, typ, name)
			}
		}
	}
	return nil
}

// usage writes the help text of the command.
func (c *command) usage(w io.Writer) {
	fmt.Fprintf(w, "usage: pipeline-tools %s %s\n\n%s\n", c.name, c.synopsis, strings.TrimSpace(c.desc))
	if len(c.order) == 0 {
		return
	}
	fmt.Fprintln(w, "\nflags:")
	for _, name := range c.order {
		f := c.fs.Lookup(name)
		typ, usage := flag.UnquoteUsage(f)
		if typ == "" {
			fmt.Fprintf(w, "  --%s\n", name)
		} else {
			fmt.Fprintf(w, "  --%s %s\n", name, typ)
		}
		var notes []string
		if env := c.env[name]; env != "" {
			notes = append(notes, "env "+env)
		}
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" {
			notes = append(notes, fmt.Sprintf("default %q", f.DefValue))
		}
		fmt.Fprintf(w, "        %s", usage)
		if len(notes) > 0 {
			fmt.Fprintf(w, " (%s)", strings.Join(notes, ", "))
		}
		fmt.Fprintln(w)
	}
}

// noArgs fails when positional arguments were given.
func (c *command) noArgs() error {
	if len(c.args) > 0 {
		return usagef("unexpected argument %q", c.args[0])
	}
	return nil
}

// oneArg returns the single positional argument called what.
func (c *command) oneArg(what string) (string, error) {
	switch len(c.args) {
	case 0:
		return "", usagef("missing %s argument", what)
	case 1:
		return c.args[0], nil
	default:
		return "", usagef("unexpected argument %q", c.args[1])
	}
}

// splitList splits a comma-separated list, dropping blanks.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
