// Command bench measures ssm.wasm in headless Chromium beside the
// reference library ssm-session 1.0.6 and a bare page WebSocket, against
// the local emulator, and writes the results to BENCHMARKS.md.
//
// It measures Output throughput, keystroke latency, the size of ssm.wasm,
// start-up time and memory. Each Chromium launch gets a fresh profile and
// no DevTools connection; pages post their results to the runner's own
// HTTP server on 127.0.0.1. Configurations alternate round by round after
// one warm-up round, and every figure is the median of the measured
// rounds with their minimum and maximum.
//
// Run it through ./build.sh bench, which builds dist/ and the emulator
// first. Flags:
//
//	-quick        fewer messages, keystrokes and rounds: a smoke run
//	-out FILE     the Markdown report (default BENCHMARKS.md, none with -quick)
//	-suites LIST  comma-separated subset of throughput,keystroke,size,startup,memory
//	-messages N   Output messages per throughput run; -rounds N measured rounds
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// plan sets how much each suite measures.
type plan struct {
	Rounds         int // measured rounds after one warm-up round
	Messages       int // Output messages per throughput run
	MessageSize    int // payload bytes per Output message
	Window         int // unacknowledged messages in window mode
	Keystrokes     int // keystrokes per latency run
	MemoryMessages int // Output messages in the memory run
	SessionCounts  []int
	RunTimeout     time.Duration // limit for one Chromium launch
}

var fullPlan = plan{
	Rounds:         5,
	Messages:       50000,
	MessageSize:    1024,
	Window:         64,
	Keystrokes:     1000,
	MemoryMessages: 200000, // 204.8 MB of payload
	SessionCounts:  []int{20, 50},
	RunTimeout:     3 * time.Minute,
}

var quickPlan = plan{
	Rounds:         2,
	Messages:       5000,
	MessageSize:    1024,
	Window:         64,
	Keystrokes:     100,
	MemoryMessages: 20000,
	SessionCounts:  []int{5, 10},
	RunTimeout:     time.Minute,
}

var allSuites = []string{"throughput", "keystroke", "size", "startup", "memory"}

// options are the command-line flags.
type options struct {
	quick     bool
	out       string
	suites    []string
	dist      string
	emulator  string
	keep      bool
	extraArgs []string // more Chromium flags, for profiling
	messages  int      // overrides plan.Messages when positive
	rounds    int      // overrides plan.Rounds when positive
}

func main() {
	opts, err := parseFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, opts, logger); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func parseFlags(args []string) (options, error) {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	var opts options
	var suites string
	fs.BoolVar(&opts.quick, "quick", false, "smoke run: fewer messages, keystrokes and rounds")
	fs.StringVar(&opts.out, "out", "", "Markdown report to write (default BENCHMARKS.md, none with -quick)")
	fs.StringVar(&suites, "suites", strings.Join(allSuites, ","), "comma-separated suites to run")
	fs.StringVar(&opts.dist, "dist", "dist", "directory built by ./build.sh (ssm.js, ssm.wasm)")
	fs.StringVar(&opts.emulator, "emulator", "", "emulator binary (default: build ./cmd/ssm-emulator)")
	fs.BoolVar(&opts.keep, "keep", false, "keep the temporary directory with profiles and logs")
	var chromiumArgs string
	fs.StringVar(&chromiumArgs, "chromium-args", "",
		"space-separated extra Chromium flags, for example to write a trace")
	fs.IntVar(&opts.messages, "messages", 0, "Output messages per throughput run (overrides the plan)")
	fs.IntVar(&opts.rounds, "rounds", 0, "measured rounds after the warm-up (overrides the plan)")
	if err := fs.Parse(args); err != nil {
		return options{}, err
	}
	opts.extraArgs = strings.Fields(chromiumArgs)

	if fs.NArg() > 0 {
		return options{}, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	for _, s := range strings.Split(suites, ",") {
		if !contains(allSuites, s) {
			return options{}, fmt.Errorf("unknown suite %q; known: %s", s, strings.Join(allSuites, ","))
		}
		opts.suites = append(opts.suites, s)
	}

	if opts.out == "" && !opts.quick {
		opts.out = "BENCHMARKS.md"
	}
	return opts, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// run sets up the emulator, the page server and the builds, runs the
// suites, and writes the report.
func run(ctx context.Context, opts options, logger *slog.Logger) error {
	root, err := findRoot()
	if err != nil {
		return err
	}
	p := fullPlan
	if opts.quick {
		p = quickPlan
	}
	if opts.messages > 0 {
		p.Messages = opts.messages
	}
	if opts.rounds > 0 {
		p.Rounds = opts.rounds
	}
	tmp, err := os.MkdirTemp("", "ssm-bench-")
	if err != nil {
		return fmt.Errorf("create temporary directory: %w", err)
	}
	if opts.keep {
		logger.Info("keeping temporary directory", "dir", tmp)
	} else {
		defer os.RemoveAll(tmp)
	}

	h, cleanup, err := setup(ctx, root, tmp, opts, p, logger)
	if err != nil {
		return err
	}
	defer cleanup()

	rep, err := newReport(ctx, root, p, opts.quick)
	if err != nil {
		return err
	}
	started := time.Now()
	for _, name := range opts.suites {
		logger.Info("suite", "name", name)
		section, err := runSuite(ctx, h, p, name)
		if err != nil {
			return fmt.Errorf("suite %s: %w", name, err)
		}
		rep.add(section)
	}
	rep.duration = time.Since(started)

	fmt.Print(rep.markdown())
	if opts.out == "" {
		return nil
	}
	out := opts.out
	if !filepath.IsAbs(out) {
		out = filepath.Join(root, out)
	}
	if err := os.WriteFile(out, []byte(rep.markdown()), 0o644); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	logger.Info("report written", "file", out)
	return nil
}

func runSuite(ctx context.Context, h *harness, p plan, name string) (section, error) {
	switch name {
	case "throughput":
		return throughputSuite(ctx, h, p)
	case "keystroke":
		return keystrokeSuite(ctx, h, p)
	case "size":
		return sizeSuite(ctx, h)
	case "startup":
		return startupSuite(ctx, h, p)
	case "memory":
		return memorySuite(ctx, h, p)
	}
	return section{}, fmt.Errorf("unknown suite %q", name)
}

// findRoot returns the directory of go.mod at or above the working
// directory.
func findRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("get working directory: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("find repository root: no go.mod at or above the working directory")
		}
		dir = parent
	}
}
