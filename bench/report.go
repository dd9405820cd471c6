package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"
)

// section is the part of the report that one suite writes.
type section struct {
	Title  string
	Method string // the measurement method
	Tables []table
	Goals  []goal
	Notes  []string
}

// table is a Markdown table.
type table struct {
	Header []string
	Rows   [][]string
}

// goal is a target from the project's plan, checked against a figure of
// the same run.
type goal struct {
	Text     string // the target, for example "plaintext ≥ 2× ssm-session (flood)"
	Measured string
	Met      bool
}

// report collects the sections and the facts about the run.
type report struct {
	date     time.Time
	quick    bool
	plan     plan
	machine  []string
	versions []string
	sections []section
	root     string // repository root, for bench/findings.md
	duration time.Duration
	loadAvg  [2]string // /proc/loadavg at the start and the end of the run
}

func newReport(ctx context.Context, root string, p plan, quick bool) (*report, error) {
	chromium, err := chromiumVersion(ctx)
	if err != nil {
		return nil, err
	}
	r := &report{date: time.Now().UTC(), quick: quick, plan: p}
	r.loadAvg[0] = loadAverage()
	r.machine = []string{
		"CPU: " + cpuModel(),
		fmt.Sprintf("nproc: %d", runtime.NumCPU()),
		"Memory: " + memTotal(),
		"OS: " + runtime.GOOS + "/" + runtime.GOARCH,
	}
	r.versions = []string{
		"Go: " + runtime.Version(),
		"Chromium: " + chromium,
		"ssm-session: " + referenceVersion(root),
		"Commit: " + commit(ctx, root),
	}
	r.root = root
	return r, nil
}

func (r *report) add(s section) { r.sections = append(r.sections, s) }

// markdown renders the whole report.
func (r *report) markdown() string {
	var b strings.Builder
	b.WriteString("# Benchmarks\n\n")
	fmt.Fprintf(&b, "Written by `./build.sh bench` (the command in `bench/`) on %s",
		r.date.Format("2006-01-02 15:04 UTC"))
	if r.quick {
		b.WriteString(", with `-quick`: a smoke run, not a measurement")
	}
	fmt.Fprintf(&b, "; the run took %s.\n\n", r.duration.Round(time.Second))
	b.WriteString("Each figure is the median of the measured rounds, with the minimum and " +
		"maximum in brackets. ")
	fmt.Fprintf(&b, "Every configuration ran once per round, in turn, for %d measured rounds "+
		"after one warm-up round; each run launched its own headless Chromium with a fresh "+
		"profile and no DevTools connection, and the page posted its figures to the runner's "+
		"HTTP server on 127.0.0.1. The emulator ran as a separate process on the same machine.\n\n",
		r.plan.Rounds)

	if r.loadAvg[1] == "" {
		r.loadAvg[1] = loadAverage()
	}
	machine := append(slices.Clone(r.machine), fmt.Sprintf("Load average (1, 5, 15 min) at the start: %s; "+
		"at the end: %s. Other work on the machine competes for its cores.",
		r.loadAvg[0], r.loadAvg[1]))
	writeList(&b, "Machine", machine)
	writeList(&b, "Versions", r.versions)
	for _, s := range r.sections {
		writeSection(&b, s)
	}
	// bench/findings.md is the analysis of profiles, written by hand. It
	// is read at the end, so it can be finished while a run goes on.
	if data, err := os.ReadFile(filepath.Join(r.root, "bench", "findings.md")); err == nil {
		b.WriteString("\n" + strings.TrimSpace(string(data)) + "\n")
	}
	return b.String()
}

func writeList(b *strings.Builder, title string, items []string) {
	fmt.Fprintf(b, "## %s\n\n", title)
	for _, item := range items {
		fmt.Fprintf(b, "- %s\n", item)
	}
	b.WriteString("\n")
}

func writeSection(b *strings.Builder, s section) {
	fmt.Fprintf(b, "## %s\n\n", s.Title)
	if s.Method != "" {
		b.WriteString(s.Method + "\n\n")
	}
	for _, t := range s.Tables {
		writeTable(b, t)
	}
	if len(s.Goals) > 0 {
		writeTable(b, goalTable(s.Goals))
	}
	for _, n := range s.Notes {
		fmt.Fprintf(b, "%s\n\n", n)
	}
}

func goalTable(goals []goal) table {
	t := table{Header: []string{"goal", "measured", "met"}}
	for _, g := range goals {
		met := "no"
		if g.Met {
			met = "yes"
		}
		t.Rows = append(t.Rows, []string{g.Text, g.Measured, met})
	}
	return t
}

func writeTable(b *strings.Builder, t table) {
	fmt.Fprintf(b, "| %s |\n", strings.Join(t.Header, " | "))
	seps := make([]string, len(t.Header))
	for i := range seps {
		seps[i] = "---"
		if i > 0 {
			seps[i] = "---:"
		}
	}
	fmt.Fprintf(b, "| %s |\n", strings.Join(seps, " | "))
	for _, row := range t.Rows {
		fmt.Fprintf(b, "| %s |\n", strings.Join(row, " | "))
	}
	b.WriteString("\n")
}

// cell formats a summary as "median (min–max)" with the given decimals.
func cell(s summary, decimals int) string {
	if s.N == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%s (%s–%s)", num(s.Median, decimals), num(s.Min, decimals),
		num(s.Max, decimals))
}

// num formats v with the given decimals, or "n/a" for NaN.
func num(v float64, decimals int) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "n/a"
	}
	return fmt.Sprintf("%.*f", decimals, v)
}

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	scanner := bufio.NewScanner(f)
	for scanner.Scan() {
		if key, value, ok := strings.Cut(scanner.Text(), ":"); ok &&
			strings.TrimSpace(key) == "model name" {
			return strings.TrimSpace(value)
		}
	}
	return "unknown"
}

// loadAverage returns the first three fields of /proc/loadavg.
func loadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	fields := strings.Fields(string(data))
	if len(fields) < 3 {
		return "unknown"
	}
	return strings.Join(fields[:3], " ")
}

func memTotal() string {
	data, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return "unknown"
	}
	for _, line := range strings.Split(string(data), "\n") {
		fields := strings.Fields(line)
		if len(fields) >= 2 && fields[0] == "MemTotal:" {
			var kib float64
			fmt.Sscan(fields[1], &kib)
			return fmt.Sprintf("%.1f GiB", kib/(1<<20))
		}
	}
	return "unknown"
}

func referenceVersion(root string) string {
	data, err := os.ReadFile(filepath.Join(root, "bench", "node_modules", "ssm-session",
		"package.json"))
	if err != nil {
		return "unknown"
	}
	var pkg struct{ Version string }
	if json.Unmarshal(data, &pkg) != nil {
		return "unknown"
	}
	return pkg.Version + " (npm, dist/esm-browser)"
}

// commit returns the abbreviated HEAD commit, marked when the tree has
// uncommitted changes.
func commit(ctx context.Context, root string) string {
	out, err := exec.CommandContext(ctx, "git", "-C", root, "rev-parse", "--short=12",
		"HEAD").Output()
	if err != nil {
		return "unknown"
	}
	c := strings.TrimSpace(string(out))
	status, err := exec.CommandContext(ctx, "git", "-C", root, "status", "--porcelain",
		"--untracked-files=no").Output()
	if err == nil && len(strings.TrimSpace(string(status))) > 0 {
		c += " (with uncommitted changes)"
	}
	return c
}
