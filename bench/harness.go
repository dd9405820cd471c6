package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"time"
)

// harness runs benchmark pages in Chromium against one emulator.
type harness struct {
	root    string // repository root
	tmp     string // per-run profiles and logs
	dist    string // ssm.js, ssm.wasm and wasm_exec.js, served at /dist/
	nosdk   string // the ssm_nosdk build of ssm.wasm, served at /nosdk/
	emu     *emulatorProcess
	pages   *pageServer
	logger  *slog.Logger
	timeout time.Duration // limit for one Chromium launch
	runs    int

	chromiumArgs []string // added to chromiumFlags
}

// pageRun is one launch of Chromium on a benchmark page.
type pageRun struct {
	Name   string // module under bench/pages/ that runs the benchmark
	Passes int    // results expected; the page reloads itself for each pass
	// Config returns the JSON configuration for a pass. It runs when the
	// page requests it, so sessions are created just before they are used.
	Config func(ctx context.Context, pass int) (any, error)
}

// pageError is the shape of a result that reports a failure.
type pageError struct {
	Error string `json:"error"`
}

// runPage launches Chromium on the page with a fresh profile, waits for
// every pass to post its result, and kills the browser.
func (h *harness) runPage(ctx context.Context, run pageRun) ([]pageResult, error) {
	h.runs++
	id := fmt.Sprintf("%03d-%s", h.runs, run.Name)
	dir := filepath.Join(h.tmp, id)
	if run.Passes == 0 {
		run.Passes = 1
	}

	active := &activeRun{results: make(chan pageResult, run.Passes)}
	var b *browser
	active.config = func(pass int) (any, error) {
		cfg, err := run.Config(ctx, pass)
		if err != nil {
			return nil, err
		}
		return map[string]any{"page": run.Name, "passes": run.Passes, "params": cfg}, nil
	}
	active.sampler = func() (cpuSample, error) { return sampleTree(b.PID()) }
	h.pages.register(id, active)
	defer h.pages.unregister(id)

	pageURL := fmt.Sprintf("%s/bench/run.html?run=%s&pass=1", h.pages.URL(), url.QueryEscape(id))
	b, err := launchChromium(dir, pageURL, h.chromiumArgs)
	if err != nil {
		return nil, err
	}
	results, err := h.collect(ctx, b, active, run.Passes)
	b.kill()
	if err != nil {
		return nil, fmt.Errorf("run %s: %w\nchromium output:\n%s", id, err, b.logTail())
	}
	if err := os.RemoveAll(dir); err != nil {
		h.logger.Warn("remove run directory failed", "dir", dir, "err", err)
	}
	return results, nil
}

// collect waits for n results, the browser's exit, or the timeout.
func (h *harness) collect(ctx context.Context, b *browser, run *activeRun, n int) ([]pageResult, error) {
	timer := time.NewTimer(h.timeout)
	defer timer.Stop()
	var results []pageResult
	for len(results) < n {
		select {
		case r := <-run.results:
			var pe pageError
			if json.Unmarshal(r.Data, &pe) == nil && pe.Error != "" {
				return nil, fmt.Errorf("page failed in pass %d: %s", r.Pass, pe.Error)
			}
			results = append(results, r)
		case <-b.Exited():
			return nil, fmt.Errorf("chromium exited after %d of %d results", len(results), n)
		case <-timer.C:
			last, _ := run.lastLog.Load().(string)
			return nil, fmt.Errorf("timed out after %s with %d of %d results; the page's "+
				"last step: %q", h.timeout, len(results), n, last)
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return results, nil
}
