package main

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
)

const (
	keysWasm = "ssm.wasm"
	keysBare = "bare WebSocket"
)

var keystrokePages = map[string]string{keysWasm: "keystroke-wasm", keysBare: "keystroke-bare"}

// keystrokeRun holds the percentiles of one run, in milliseconds.
type keystrokeRun struct {
	P50, P99  float64
	Latencies []float64
}

func keystrokeSuite(ctx context.Context, h *harness, p plan) (section, error) {
	configs := []string{keysWasm, keysBare}
	res, err := runRounds(ctx, h, p.Rounds, configs,
		func(ctx context.Context, config string) (keystrokeRun, error) {
			return h.keystrokeRun(ctx, p, keystrokePages[config])
		})
	if err != nil {
		return section{}, err
	}
	return keystrokeSection(p, res), nil
}

func (h *harness) keystrokeRun(ctx context.Context, p plan, page string) (keystrokeRun, error) {
	results, err := h.runPage(ctx, pageRun{
		Name: page,
		Config: func(ctx context.Context, _ int) (any, error) {
			info, err := h.emu.newSession(ctx, sessionRequest{SessionType: "Standard_Stream"})
			if err != nil {
				return nil, err
			}
			return map[string]any{"keystrokes": p.Keystrokes, "session": info,
				"ssmJs": "/dist/ssm.js", "wasmUrl": "/dist/ssm.wasm"}, nil
		},
	})
	if err != nil {
		return keystrokeRun{}, err
	}
	var out struct {
		Latencies []float64 `json:"latencies"`
	}
	if err := json.Unmarshal(results[0].Data, &out); err != nil {
		return keystrokeRun{}, fmt.Errorf("decode keystroke result: %w", err)
	}
	if len(out.Latencies) != p.Keystrokes {
		return keystrokeRun{}, fmt.Errorf("got %d latencies, expected %d",
			len(out.Latencies), p.Keystrokes)
	}
	sorted := slices.Clone(out.Latencies)
	slices.Sort(sorted)
	return keystrokeRun{P50: percentile(sorted, 50), P99: percentile(sorted, 99),
		Latencies: sorted}, nil
}

func keystrokeSection(p plan, res roundResults[keystrokeRun]) section {
	s := section{
		Title: "Keystroke latency",
		Method: fmt.Sprintf("A shell session of the emulator (a real shell in a pty). The page "+
			"sends one character (alternately \"x\" and DEL), takes the time until the next "+
			"Output reaches it, and waits 3 ms before the next key; %d keystrokes per run, "+
			"after the prompt. ssm.wasm: session.sendText to the first onData callback. Bare "+
			"WebSocket: ws.send of an input_stream_data frame built before timing to the next "+
			"output_stream_data frame in onmessage. Times come from performance.now() in a "+
			"cross-origin-isolated page (5 µs resolution). The table gives the median over "+
			"rounds of each run's percentile; \"pooled\" takes the percentile over all "+
			"measured keystrokes.", p.Keystrokes),
	}

	t := table{Header: []string{"client", "p50 ms", "p99 ms", "pooled p50 ms", "pooled p99 ms"}}
	p50 := map[string]summary{}
	p99 := map[string]summary{}
	for _, c := range []string{keysWasm, keysBare} {
		runs := res.ByConfig[c]
		p50[c] = summarize(collect(runs, func(r keystrokeRun) float64 { return r.P50 }))
		p99[c] = summarize(collect(runs, func(r keystrokeRun) float64 { return r.P99 }))
		var pooled []float64
		for _, r := range runs {
			pooled = append(pooled, r.Latencies...)
		}
		slices.Sort(pooled)
		t.Rows = append(t.Rows, []string{c, cell(p50[c], 3), cell(p99[c], 3),
			num(percentile(pooled, 50), 3), num(percentile(pooled, 99), 3)})
	}

	overhead50 := p50[keysWasm].Median - p50[keysBare].Median
	overhead99 := p99[keysWasm].Median - p99[keysBare].Median
	t.Rows = append(t.Rows, []string{"overhead of ssm.wasm (difference of medians)",
		num(overhead50, 3), num(overhead99, 3), "", ""})
	s.Tables = append(s.Tables, t)

	s.Goals = []goal{{Text: "keystroke p99 overhead ≤ 1 ms", Measured: num(overhead99, 3) + " ms",
		Met: overhead99 <= 1}}
	s.Notes = res.failureNotes()
	return s
}
