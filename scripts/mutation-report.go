//go:build ignore

// mutation-report reads the JSON reports that scripts/mutation.sh had
// gremlins write, one per package, and prints the table: package, test
// efficacy, mutator coverage, lived, not covered. It leaves out the mutants
// listed in scripts/mutation-equivalent.txt and those in files the current
// platform does not build, lists every mutant that counts against a
// package, and exits 1 when a package falls below the thresholds or when a
// listed equivalent no longer matches a surviving mutant.
//
// Usage (scripts/mutation.sh runs it):
//
//	go run scripts/mutation-report.go -equivalent FILE DIR=REPORT.json[=IGNORED,...]...
//
// DIR is the package's folder relative to the module root; IGNORED are the
// package's files not built here (go list's IgnoredGoFiles).
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"go/scanner"
	"go/token"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
)

// The thresholds of issue 14, for every package of the security core.
const (
	minEfficacy = 95.0
	minCoverage = 90.0
)

// report is the part of gremlins v0.5.0's -o output that is read here.
type report struct {
	Files []struct {
		FileName  string `json:"file_name"`
		Mutations []struct {
			Type   string `json:"type"`
			Status string `json:"status"`
			Line   int    `json:"line"`
			Column int    `json:"column"`
		} `json:"mutations"`
	} `json:"files"`
}

// equivalent is one line of mutation-equivalent.txt:
// "internal/pkg/file.go:LINE:COLUMN TYPE — reason".
type equivalent struct {
	pos, typ, reason string
	lineNo           int
	matched          string // the status of the mutant it matched, if any
}

func (e *equivalent) key() string { return e.pos + " " + e.typ }

func main() {
	eqFile := flag.String("equivalent", "scripts/mutation-equivalent.txt", "the list of equivalent mutants")
	flag.Parse()
	eqs, err := readEquivalents(*eqFile)
	if err != nil {
		fmt.Fprintln(os.Stderr, "mutation-report:", err)
		os.Exit(2)
	}
	byKey := map[string]*equivalent{}
	for _, e := range eqs {
		byKey[e.key()] = e
	}

	type row struct {
		pkg                        string
		killed, lived, notCovered  int
		timedOut, skippedPlatform  int
		equivalent, blindKilled    int
		livedAt, notCoveredAt, ign []string
	}
	var rows []*row
	measured := map[string]bool{} // package folders measured in this run
	failed := false
	for _, arg := range flag.Args() {
		parts := strings.SplitN(arg, "=", 3)
		if len(parts) < 2 {
			fmt.Fprintf(os.Stderr, "mutation-report: %q is not DIR=REPORT.json[=IGNORED,...]\n", arg)
			os.Exit(2)
		}
		dir, file := parts[0], parts[1]
		ignored := map[string]bool{}
		if len(parts) == 3 && parts[2] != "" {
			for _, f := range strings.Split(parts[2], ",") {
				ignored[f] = true
			}
		}
		measured[dir] = true
		b, err := os.ReadFile(file)
		if err != nil {
			fmt.Fprintln(os.Stderr, "mutation-report:", err)
			os.Exit(2)
		}
		var rep report
		if err := json.Unmarshal(b, &rep); err != nil {
			fmt.Fprintf(os.Stderr, "mutation-report: %s: %v\n", file, err)
			os.Exit(2)
		}
		r := &row{pkg: dir}
		ignoredCount := map[string]int{}
		var blocks []block // the package's coverage profile, read when needed
		for _, f := range rep.Files {
			// gremlins names files relative to the package it ran on, and
			// mutates the packages below it too (policy/policy.go under
			// sts) while running only this package's tests. Those files
			// are their own package's, measured with its own tests.
			rel := strings.TrimPrefix(f.FileName, dir+"/")
			if strings.Contains(rel, "/") {
				continue
			}
			name := path.Join(dir, rel)
			for _, m := range f.Mutations {
				pos := fmt.Sprintf("%s:%d:%d", name, m.Line, m.Column)
				if m.Status == "NOT COVERED" && !ignored[path.Base(name)] && byKey[pos+" "+m.Type] == nil {
					// gremlins tests only mutants inside a block of the
					// coverage profile, but Go's profile has no block for
					// some code that runs: a switch's case expressions,
					// constant declarations. Those are tested here.
					if blocks == nil {
						if blocks, err = coverage(dir); err != nil {
							fmt.Fprintln(os.Stderr, "mutation-report:", err)
							os.Exit(2)
						}
					}
					if !inBlock(blocks, path.Base(name), m.Line, m.Column) {
						st, err := testMutant(dir, name, m.Line, m.Column, m.Type)
						if err != nil {
							fmt.Fprintf(os.Stderr, "mutation-report: %s %s: %v\n", pos, m.Type, err)
							os.Exit(2)
						}
						fmt.Printf("%12s %s at %s (outside the coverage profile: tested by this script)\n", st, m.Type, pos)
						if st == "KILLED" {
							r.blindKilled++
						}
						m.Status = st
					}
				}
				if e := byKey[pos+" "+m.Type]; e != nil {
					e.matched = m.Status
					if m.Status == "LIVED" || m.Status == "NOT COVERED" {
						r.equivalent++
						continue
					}
				}
				switch m.Status {
				case "KILLED":
					r.killed++
				case "TIMED OUT": // the tests noticed: they did not finish
					r.timedOut++
				case "LIVED":
					r.lived++
					r.livedAt = append(r.livedAt, pos+" "+m.Type)
				case "NOT COVERED":
					if ignored[path.Base(name)] {
						r.skippedPlatform++
						ignoredCount[path.Base(name)]++
						continue
					}
					r.notCovered++
					r.notCoveredAt = append(r.notCoveredAt, pos+" "+m.Type)
				}
				// NOT VIABLE (does not compile) and SKIPPED count for nothing.
			}
		}
		for f, n := range ignoredCount {
			r.ign = append(r.ign, fmt.Sprintf("%s (%d)", f, n))
		}
		sort.Strings(r.ign)
		rows = append(rows, r)
	}

	pct := func(num, den int) (string, float64) {
		if den == 0 {
			return "n/a", 100
		}
		v := 100 * float64(num) / float64(den)
		return fmt.Sprintf("%.1f%%", v), v
	}
	fmt.Println()
	fmt.Println("| package | test efficacy | mutator coverage | lived | not covered |")
	fmt.Println("|---|---|---|---|---|")
	for _, r := range rows {
		killed := r.killed + r.timedOut
		eff, effV := pct(killed, killed+r.lived)
		cov, covV := pct(killed+r.lived, killed+r.lived+r.notCovered)
		mark := ""
		if effV < minEfficacy || covV < minCoverage {
			mark, failed = " ✗", true
		}
		fmt.Printf("| %s%s | %s | %s | %d | %d |\n", strings.TrimPrefix(r.pkg, "internal/"), mark, eff, cov, r.lived, r.notCovered)
	}
	fmt.Printf("\nThresholds: test efficacy ≥ %.0f%%, mutator coverage ≥ %.0f%%, for every package.\n", minEfficacy, minCoverage)
	for _, r := range rows {
		notes := []string{}
		if r.equivalent > 0 {
			notes = append(notes, fmt.Sprintf("%d equivalent mutant(s) left out (%s)", r.equivalent, *eqFile))
		}
		if r.blindKilled > 0 {
			notes = append(notes, fmt.Sprintf("%d mutant(s) outside Go's coverage profile (case expressions, constants) tested by this script and killed", r.blindKilled))
		}
		if r.timedOut > 0 {
			notes = append(notes, fmt.Sprintf("%d timed out, counted as killed", r.timedOut))
		}
		if len(r.ign) > 0 {
			notes = append(notes, fmt.Sprintf("%d mutant(s) in files not built on %s/%s left out: %s",
				r.skippedPlatform, runtime.GOOS, runtime.GOARCH, strings.Join(r.ign, ", ")))
		}
		if len(notes) > 0 {
			fmt.Printf("%s: %s\n", r.pkg, strings.Join(notes, "; "))
		}
		for _, p := range r.livedAt {
			fmt.Printf("  LIVED        %s\n", p)
		}
		for _, p := range r.notCoveredAt {
			fmt.Printf("  NOT COVERED  %s\n", p)
		}
	}
	// An entry of the list that matches no surviving mutant of a measured
	// package is stale: the code moved or a test now kills it.
	for _, e := range eqs {
		if !measured[path.Dir(strings.SplitN(e.pos, ":", 2)[0])] {
			continue
		}
		switch e.matched {
		case "LIVED", "NOT COVERED":
		case "":
			fmt.Printf("%s:%d: stale: no %s mutant at %s (did the code move?)\n", *eqFile, e.lineNo, e.typ, e.pos)
			failed = true
		default:
			fmt.Printf("%s:%d: stale: %s at %s is %s now: drop the line\n", *eqFile, e.lineNo, e.typ, e.pos, e.matched)
			failed = true
		}
	}
	if failed {
		fmt.Println("\nmutation testing: FAILED")
		os.Exit(1)
	}
	fmt.Println("\nmutation testing: passed")
}

// readEquivalents reads the list: blank lines and lines starting with #
// are comments; every other line is "POSITION TYPE — reason".
func readEquivalents(name string) ([]*equivalent, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []*equivalent
	seen := map[string]bool{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) < 4 || fields[2] != "—" || strings.Count(fields[0], ":") != 2 {
			return nil, fmt.Errorf("%s:%d: want \"internal/pkg/file.go:LINE:COLUMN TYPE — reason\", got %q", name, n, line)
		}
		e := &equivalent{pos: fields[0], typ: fields[1], reason: strings.Join(fields[3:], " "), lineNo: n}
		if seen[e.key()] {
			return nil, fmt.Errorf("%s:%d: %s is listed twice", name, n, e.key())
		}
		seen[e.key()] = true
		out = append(out, e)
	}
	return out, sc.Err()
}

// block is one block of a coverage profile: file (base name), start and end
// line.column, and whether the tests ran it.
type block struct {
	file                  string
	sl, sc, el, ec, count int
}

// coverage runs dir's tests with a coverage profile and returns its blocks.
func coverage(dir string) ([]block, error) {
	f, err := os.CreateTemp("", "mutation-cover-*.out")
	if err != nil {
		return nil, err
	}
	f.Close()
	defer os.Remove(f.Name())
	cmd := exec.Command("go", "test", "-count=1", "-coverprofile="+f.Name(), "./"+dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("go test -coverprofile ./%s: %v\n%s", dir, err, out)
	}
	b, err := os.ReadFile(f.Name())
	if err != nil {
		return nil, err
	}
	var out []block
	for _, line := range strings.Split(string(b), "\n") {
		// path/file.go:SL.SC,EL.EC STATEMENTS COUNT
		name, rest, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		var bl block
		if _, err := fmt.Sscanf(rest, "%d.%d,%d.%d %d %d", &bl.sl, &bl.sc, &bl.el, &bl.ec, new(int), &bl.count); err != nil {
			continue
		}
		bl.file = path.Base(name)
		out = append(out, bl)
	}
	return out, nil
}

// inBlock reports whether line:col of file lies in any block, run or not.
func inBlock(blocks []block, file string, line, col int) bool {
	for _, b := range blocks {
		if b.file == file && (line > b.sl || line == b.sl && col >= b.sc) && (line < b.el || line == b.el && col <= b.ec) {
			return true
		}
	}
	return false
}

// mutations is gremlins v0.5.0's table (internal/engine/mappings.go) for the
// mutators it enables by default.
var mutations = map[string]map[token.Token]token.Token{
	"ARITHMETIC_BASE":       {token.ADD: token.SUB, token.MUL: token.QUO, token.QUO: token.MUL, token.REM: token.MUL, token.SUB: token.ADD},
	"CONDITIONALS_BOUNDARY": {token.GEQ: token.GTR, token.GTR: token.GEQ, token.LEQ: token.LSS, token.LSS: token.LEQ},
	"CONDITIONALS_NEGATION": {token.EQL: token.NEQ, token.GEQ: token.LSS, token.GTR: token.LEQ, token.LEQ: token.GTR, token.LSS: token.GEQ, token.NEQ: token.EQL},
	"INCREMENT_DECREMENT":   {token.DEC: token.INC, token.INC: token.DEC},
	"INVERT_NEGATIVES":      {token.SUB: token.ADD},
}

// testMutant applies one mutation to file (through go test -overlay: the
// tree is untouched) and runs dir's tests: KILLED when they fail, LIVED
// when they pass, NOT VIABLE when the mutant does not build.
func testMutant(dir, file string, line, col int, typ string) (string, error) {
	src, err := os.ReadFile(file)
	if err != nil {
		return "", err
	}
	fset := token.NewFileSet()
	tf := fset.AddFile(file, -1, len(src))
	var s scanner.Scanner
	s.Init(tf, src, nil, 0)
	var mutated []byte
	for {
		p, tok, lit := s.Scan()
		if tok == token.EOF {
			break
		}
		if pos := fset.Position(p); pos.Line == line && pos.Column == col {
			to, ok := mutations[typ][tok]
			if !ok {
				return "", fmt.Errorf("no %s mutation of %q", typ, lit+tok.String())
			}
			off := tf.Offset(p)
			mutated = append(append(append([]byte{}, src[:off]...), to.String()...), src[off+len(tok.String()):]...)
			break
		}
	}
	if mutated == nil {
		return "", fmt.Errorf("no operator at %d:%d", line, col)
	}
	tmp, err := os.MkdirTemp("", "mutation-overlay-*")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	abs, err := filepath.Abs(file)
	if err != nil {
		return "", err
	}
	mfile := filepath.Join(tmp, filepath.Base(file))
	if err := os.WriteFile(mfile, mutated, 0o600); err != nil {
		return "", err
	}
	overlay, _ := json.Marshal(map[string]any{"Replace": map[string]string{abs: mfile}})
	ofile := filepath.Join(tmp, "overlay.json")
	if err := os.WriteFile(ofile, overlay, 0o600); err != nil {
		return "", err
	}
	cmd := exec.Command("go", "test", "-count=1", "-failfast", "-timeout=10m", "-overlay="+ofile, "./"+dir)
	out, err := cmd.CombinedOutput()
	switch {
	case err == nil:
		return "LIVED", nil
	case bytes.Contains(out, []byte("[build failed]")) || bytes.Contains(out, []byte("[setup failed]")):
		return "NOT VIABLE", nil
	default:
		return "KILLED", nil
	}
}
