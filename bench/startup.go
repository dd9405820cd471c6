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
		"first prompt ms", "startSession → prompt ms"}}
	for _, c := range configs {
		runs := res.ByConfig[c]
		for _, load := range []string{"uncached", "cached"} {
			pick := func(r startupRun) startupPass {
				if load == "cached" {
					return r.Cached
				}
				return r.Uncached
			}
			ready := summarize(collect(runs, func(r startupRun) float64 { return pick(r).ReadyMs }))
			fetched := summarize(collect(runs, func(r startupRun) float64 {
				if end := pick(r).WasmResponseEndMs; end != nil {
					return *end
				}
				return 0
			}))
			prompt := summarize(collect(runs, func(r startupRun) float64 { return pick(r).PromptMs }))
			toPrompt := summarize(collect(runs, func(r startupRun) float64 {
				return pick(r).PromptMs - pick(r).ReadyMs
			}))
			t.Rows = append(t.Rows, []string{c, load, cell(ready, 0), cell(fetched, 0),
				cell(prompt, 0), cell(toPrompt, 0)})
		}
	}
	s.Tables = []table{t}
	s.Notes = res.failureNotes()
	return s
}
