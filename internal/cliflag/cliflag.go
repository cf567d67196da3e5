// Package cliflag is the command line's grammar: one flag set per command
// whose help shows flags as --name, and one-line errors that name the flag,
// say what is wrong and what to do, with "did you mean" for misspellings.
// Every command's flags, present and future, get the same errors by
// parsing through Parse.
package cliflag

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/agnivade/levenshtein"
)

// UsageError is a mistake in the command line or the settings; the
// program's exit-code table gives it its own code.
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

// Usagef returns a UsageError with a formatted message.
func Usagef(format string, args ...any) error {
	return &UsageError{Msg: fmt.Sprintf(format, args...)}
}

// ErrHelp ends a command whose help was asked for: exit 0, nothing more.
var ErrHelp = errors.New("help requested")

// New returns the flag set of one command of program. Its help (-h) goes to
// w and shows the flags as --name, as the README and errors do; argsUsage
// follows "[flags]" in the usage line.
func New(program, name, argsUsage, description string, w io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	// The flag package's own messages are replaced by Parse's one line.
	fs.SetOutput(io.Discard)
	fs.Usage = func() {
		var any bool
		fs.VisitAll(func(*flag.Flag) { any = true })
		flagsWord := ""
		if any {
			flagsWord = " [flags]"
		}
		args := ""
		if argsUsage != "" {
			args = " " + argsUsage
		}
		fmt.Fprintf(w, "Usage: %s %s%s%s\n\n%s\n", program, name, flagsWord, args, strings.TrimSpace(description))
		if any {
			fmt.Fprint(w, "\nFlags:\n")
			printFlags(w, fs)
		}
	}
	return fs
}

// printFlags is flag.PrintDefaults with --name: each flag, its value's
// name and its usage, with its default when the usage does not say it.
func printFlags(w io.Writer, fs *flag.FlagSet) {
	fs.VisitAll(func(f *flag.Flag) {
		valueName, usage := flag.UnquoteUsage(f)
		line := "  --" + f.Name
		if valueName != "" {
			line += " " + valueName
		}
		if !isZeroDefault(f) && !strings.Contains(usage, "default") {
			usage += fmt.Sprintf(" (default %s)", f.DefValue)
		}
		fmt.Fprintf(w, "%s\n    \t%s\n", line, strings.ReplaceAll(usage, "\n", "\n    \t"))
	})
}

func isZeroDefault(f *flag.Flag) bool {
	switch f.DefValue {
	case "", "0", "false", "[]":
		return true
	}
	return false
}

// Explain adds why a command needs one of its flags to the flag's help.
func Explain(fs *flag.FlagSet, name, why string) {
	if f := fs.Lookup(name); f != nil {
		f.Usage += "; " + why
	}
}

// Parse parses args into fs. "-h" prints help and returns ErrHelp; any
// other mistake is a UsageError of one line that names the flag, says what
// is wrong and what to do. The usage is printed only for -h.
func Parse(fs *flag.FlagSet, program string, args []string) error {
	help := fs.Usage
	fs.Usage = func() {}
	err := fs.Parse(args)
	fs.Usage = help
	switch {
	case err == nil:
		return nil
	case errors.Is(err, flag.ErrHelp):
		help()
		return ErrHelp
	default:
		return flagError(fs, program, err)
	}
}

// flagMessages are the flag package's messages (go/src/flag/flag.go),
// which flagError rewrites; compiled on first use, as only a mistake needs
// them and every start of app-token would pay for them.
var flagMessages = sync.OnceValue(func() (m struct{ unknownFlag, needsArg, badValue, badSyntax *regexp.Regexp }) {
	m.unknownFlag = regexp.MustCompile(`^flag provided but not defined: -+(.*)$`)
	m.needsArg = regexp.MustCompile(`^flag needs an argument: -+(.*)$`)
	m.badValue = regexp.MustCompile(`^invalid (?:boolean )?value ("(?:[^"\\]|\\.)*") for (?:flag )?-+([^:]+): (.*)$`)
	m.badSyntax = regexp.MustCompile(`^bad flag syntax: (.*)$`)
	return m
})

// flagError turns the flag package's error into one line: the flag, what
// was wrong, what to do.
func flagError(fs *flag.FlagSet, program string, err error) error {
	help := fmt.Sprintf("run '%s %s -h' for its flags", program, fs.Name())
	msg, re := err.Error(), flagMessages()
	if m := re.unknownFlag.FindStringSubmatch(msg); m != nil {
		var names []string
		fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
		name, _, _ := strings.Cut(m[1], "=")
		if near := Nearest(name, names); near != "" {
			return Usagef("%s has no flag --%s (did you mean --%s?): %s", fs.Name(), name, near, help)
		}
		return Usagef("%s has no flag --%s: %s", fs.Name(), name, help)
	}
	if m := re.needsArg.FindStringSubmatch(msg); m != nil {
		valueName := "VALUE"
		if f := fs.Lookup(m[1]); f != nil {
			if n, _ := flag.UnquoteUsage(f); n != "" {
				valueName = n
			}
		}
		return Usagef("--%s needs a value: --%s %s (%s)", m[1], m[1], valueName, help)
	}
	if m := re.badValue.FindStringSubmatch(msg); m != nil {
		value, name, why := m[1], m[2], m[3]
		f := fs.Lookup(name)
		switch {
		case why == "parse error" && f != nil && isBoolFlag(f):
			return Usagef("--%s=%s: not true or false (give --%s alone, or --%s=false)", name, value, name, name)
		case why == "parse error" && f != nil && isDurationFlag(f):
			return Usagef("--%s %s is not a duration: give a number with a unit, such as 90s, 2m or -1h30m", name, value)
		case why == "parse error":
			return Usagef("--%s %s is not a whole number: %s", name, value, help)
		case why == "value out of range":
			return Usagef("--%s %s is out of range: %s", name, value, help)
		}
		// A Value's own error: it says what is wrong; name the flag once.
		why = strings.TrimPrefix(why, "--"+name+": ")
		return Usagef("--%s %s: %s", name, value, why)
	}
	if m := re.badSyntax.FindStringSubmatch(msg); m != nil {
		return Usagef("%q is not a flag: flags are --name or --name=value (%s)", m[1], help)
	}
	return Usagef("%s: %v (%s)", fs.Name(), err, help)
}

func isDurationFlag(f *flag.Flag) bool {
	g, ok := f.Value.(flag.Getter)
	if !ok {
		return false
	}
	_, ok = g.Get().(time.Duration)
	return ok
}

func isBoolFlag(f *flag.Flag) bool {
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// Nearest returns the candidate that s most likely misspells (an edit
// distance of at most 2, or s a prefix of exactly one), or "".
func Nearest(s string, candidates []string) string {
	best, bestD := "", 3
	var prefixed []string
	for _, c := range candidates {
		if d := levenshtein.ComputeDistance(s, c); d < bestD {
			best, bestD = c, d
		}
		if len(s) >= 2 && strings.HasPrefix(c, s) {
			prefixed = append(prefixed, c)
		}
	}
	if best == "" && len(prefixed) == 1 {
		return prefixed[0]
	}
	return best
}

// Strings is a repeatable string flag; comma-separated values are split
// too, and empty ones dropped.
type Strings []string

func (l *Strings) String() string { return strings.Join(*l, ",") }

func (l *Strings) Set(v string) error {
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			*l = append(*l, p)
		}
	}
	return nil
}
