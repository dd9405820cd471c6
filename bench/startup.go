package main

import (
	"context"
	"encoding/json"
	"fmt"
)

// startupPass is the result of one load of the start-up page, in
// milliseconds since navigation start.
type startupPass struct {
	ImportMs          float64  `json:"importMs"`
	ReadyMs           float64  `json:"readyMs"`
	OpenMs            float64  `json:"openMs"`
	PromptMs          float64  `json:"promptMs"`
	WasmResponseEndMs *float64 `json:"wasmResponseEndMs"`
	WasmTransferBytes *float64 `json:"wasmTransferBytes"`
}

// startupRun is an uncached and a cached load in one profile.
type startupRun struct{ Uncached, Cached startupPass }

// startupBuild is a build of ssm.wasm whose start-up is measured.
type startupBuild struct {
	Label   string
	WasmURL string
}

func startupSuite(ctx context.Context, h *harness, p plan) (section, error) {
	if _, err := h.buildNoSDK(ctx); err != nil {
		return section{}, err
	}
	builds := map[string]startupBuild{
		"ssm.wasm":                  {"ssm.wasm", "/dist/ssm.wasm"},
		"ssm.wasm, -tags ssm_nosdk": {"ssm.wasm, -tags ssm_nosdk", "/nosdk/ssm.wasm"},
	}
	configs := []string{"ssm.wasm", "ssm.wasm, -tags ssm_nosdk"}
	res, err := runRounds(ctx, h, p.Rounds, configs,
		func(ctx context.Context, config string) (startupRun, error) {
			return h.startupRun(ctx, builds[config])
		})
	if err != nil {
		return section{}, err
	}
	return startupSection(configs, res), nil
}

func (h *harness) startupRun(ctx context.Context, b startupBuild) (startupRun, error) {
	results, err := h.runPage(ctx, pageRun{
		Name:   "startup",
		Passes: 2,
		Config: func(ctx context.Context, _ int) (any, error) {
			info, err := h.emu.newSession(ctx, sessionRequest{SessionType: "Standard_Stream"})
			if err != nil {
				return nil, err
			}
			return map[string]any{"session": info, "ssmJs": "/dist/ssm.js",
				"wasmUrl": b.WasmURL}, nil
		},
	})
	if err != nil {
		return startupRun{}, err
	}
	var run startupRun
	for _, r := range results {
		target := &run.Uncached
		if r.Pass == 2 {
			target = &run.Cached
		}
		if err := json.Unmarshal(r.Data, target); err != nil {
			return startupRun{}, fmt.Errorf("decode start-up result: %w", err)
		}
	}
	return run, nil
}

func startupSection(configs []string, res roundResults[startupRun]) section {
	s := section{
		Title: "Start-up",
		Method: "Times in ms from navigation start (performance.now() = 0) of a page that " +
			"imports ssm.js and calls load() (fetch of ssm.wasm, brotli-encoded, from the " +
			"runner's server on 127.0.0.1, compile, instantiate, Go start-up), then " +
			"startSession on a shell session and waits for the first onData (the prompt). " +
			"Uncached: the first load in a fresh profile. Cached: the page reloads itself in " +
			"the same profile, so the HTTP cache and Chromium's wasm code cache may serve it. " +
			"The emulator reads the shell's output at once, while the real agent waits about " +
			"a second first, so the time to the prompt here leaves that second out.",
	}
	t := table{Header: []string{"build", "load", "API ready ms", "ssm.wasm fetched ms",
		"ssm.wasm transferred MB", "first prompt ms", "startSession → prompt ms"}}
	for _, c := range configs {
		for _, cached := range []bool{false, true} {
			t.Rows = append(t.Rows, startupRow(c, cached, res.ByConfig[c]))
		}
	}
	s.Tables = []table{t}
	s.Notes = res.failureNotes()
	return s
}

// startupRow summarizes the uncached or the cached loads of one build.
func startupRow(build string, cached bool, runs []startupRun) []string {
	pick := func(r startupRun) startupPass {
		if cached {
			return r.Cached
		}
		return r.Uncached
	}
	figure := func(f func(startupPass) float64) summary {
		return summarize(collect(runs, func(r startupRun) float64 { return f(pick(r)) }))
	}
	orZero := func(v *float64) float64 {
		if v == nil {
			return 0
		}
		return *v
	}

	load := "uncached"
	if cached {
		load = "cached"
	}
	return []string{build, load,
		cell(figure(func(p startupPass) float64 { return p.ReadyMs }), 0),
		cell(figure(func(p startupPass) float64 { return orZero(p.WasmResponseEndMs) }), 0),
		cell(figure(func(p startupPass) float64 { return orZero(p.WasmTransferBytes) / 1e6 }), 3),
		cell(figure(func(p startupPass) float64 { return p.PromptMs }), 0),
		cell(figure(func(p startupPass) float64 { return p.PromptMs - p.ReadyMs }), 0),
	}
}
