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
	// Parts are the p50 and p99 of each part of ssm.wasm's latencies:
	// "out", "network" and "in".
	Parts map[string][2]float64
}

// keystrokeParts are the parts that the ssm.wasm page reports, in order.
var keystrokeParts = []string{"out", "network", "in"}

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
		Latencies []float64            `json:"latencies"`
		Parts     map[string][]float64 `json:"parts"`
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
	h.logger.Info("keystrokes", "page", page, "p50", percentile(sorted, 50),
		"p90", percentile(sorted, 90), "p99", percentile(sorted, 99), "max", sorted[len(sorted)-1])
	run := keystrokeRun{P50: percentile(sorted, 50), P99: percentile(sorted, 99),
		Latencies: sorted, Parts: map[string][2]float64{}}
	for name, values := range out.Parts {
		slices.Sort(values)
		run.Parts[name] = [2]float64{percentile(values, 50), percentile(values, 99)}
	}
	return run, nil
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
			"measured keystrokes. Each run first sends 50 keys that are not measured. The second "+
			"table splits ssm.wasm's latencies: out is sendText to the WebSocket send of the "+
			"input frame, network is that send to the arrival of the echo frame (the emulator, "+
			"the shell and the browser's network path, which the bare page also pays), in is the "+
			"arrival to onData. They come from a subclass of WebSocket that the page installs "+
			"before loading ssm.js.", p.Keystrokes),
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
	s.Tables = append(s.Tables, t, keystrokePartsTable(res.ByConfig[keysWasm]))

	s.Goals = []goal{{Text: "keystroke p99 overhead ≤ 1 ms", Measured: num(overhead99, 3) + " ms",
		Met: overhead99 <= 1}}
	s.Notes = res.failureNotes()
	return s
}

// keystrokePartsTable gives the median over runs of each part's p50 and
// p99.
func keystrokePartsTable(runs []keystrokeRun) table {
	t := table{Header: []string{"part of ssm.wasm's latency", "p50 ms", "p99 ms"}}
	for _, name := range keystrokeParts {
		p50 := summarize(collect(runs, func(r keystrokeRun) float64 { return r.Parts[name][0] }))
		p99 := summarize(collect(runs, func(r keystrokeRun) float64 { return r.Parts[name][1] }))
		t.Rows = append(t.Rows, []string{name, cell(p50, 3), cell(p99, 3)})
	}
	return t
}
