package main

import (
	"context"
	"encoding/json"
	"fmt"
)

// memorySample is wasm linear memory and the JS heap after a full GC.
type memorySample struct {
	Bytes     int64   `json:"bytes"` // payload received so far
	WasmBytes float64 `json:"wasmBytes"`
	HeapBytes float64 `json:"heapBytes"`
	GoValues  float64 `json:"goValues"` // JavaScript values that Go holds references to
	Closed    bool    `json:"closed"`   // taken after the session closed
}

// memoryRun is the result of one memory page: the output samples, or the
// samples before and with many sessions open.
type memoryRun struct {
	Samples []memorySample `json:"samples"`
	Before  memorySample   `json:"before"`
	Open    memorySample   `json:"open"`
}

const memoryOutput = "output"

func memorySuite(ctx context.Context, h *harness, p plan) (section, error) {
	configs := []string{memoryOutput}
	for _, n := range p.SessionCounts {
		configs = append(configs, sessionsConfig(n))
	}
	res, err := runRounds(ctx, h, p.Rounds, configs,
		func(ctx context.Context, config string) (memoryRun, error) {
			if config == memoryOutput {
				return h.memoryOutputRun(ctx, p)
			}
			var n int
			fmt.Sscanf(config, "%d sessions", &n)
			return h.memorySessionsRun(ctx, n)
		})
	if err != nil {
		return section{}, err
	}
	return memorySection(p, configs, res), nil
}

func sessionsConfig(n int) string { return fmt.Sprintf("%d sessions", n) }

func (h *harness) memoryOutputRun(ctx context.Context, p plan) (memoryRun, error) {
	req := sessionRequest{
		SessionType: "Standard_Stream",
		Source: &source{Kind: "window", Count: p.MemoryMessages, Size: p.MessageSize,
			Window: p.Window},
	}
	return h.memoryRun(ctx, "memory-output", func(ctx context.Context) (any, error) {
		info, err := h.emu.newSession(ctx, req)
		if err != nil {
			return nil, err
		}
		return map[string]any{"count": p.MemoryMessages, "size": p.MessageSize,
			"session": info, "ssmJs": "/dist/ssm.js", "wasmUrl": "/dist/ssm.wasm"}, nil
	})
}

func (h *harness) memorySessionsRun(ctx context.Context, n int) (memoryRun, error) {
	return h.memoryRun(ctx, "memory-sessions", func(ctx context.Context) (any, error) {
		sessions := make([]sessionInfo, n)
		for i := range sessions {
			info, err := h.emu.newSession(ctx, sessionRequest{SessionType: "Standard_Stream"})
			if err != nil {
				return nil, err
			}
			sessions[i] = info
		}
		return map[string]any{"sessions": sessions, "ssmJs": "/dist/ssm.js",
			"wasmUrl": "/dist/ssm.wasm"}, nil
	})
}

func (h *harness) memoryRun(ctx context.Context, page string,
	config func(context.Context) (any, error)) (memoryRun, error) {
	results, err := h.runPage(ctx, pageRun{
		Name:   page,
		Config: func(ctx context.Context, _ int) (any, error) { return config(ctx) },
	})
	if err != nil {
		return memoryRun{}, err
	}
	var run memoryRun
	if err := json.Unmarshal(results[0].Data, &run); err != nil {
		return memoryRun{}, fmt.Errorf("decode memory result: %w", err)
	}
	return run, nil
}

func memorySection(p plan, configs []string, res roundResults[memoryRun]) section {
	s := section{
		Title: "Memory",
		Method: fmt.Sprintf("wasm linear memory (the byteLength of the Go program's exported "+
			"memory) and the JS heap (performance.memory.usedJSHeapSize with "+
			"--enable-precise-memory-info, right after gc() from --js-flags=--expose-gc). "+
			"Output: one plaintext session receives %d Output messages of %d bytes (%.1f MB) "+
			"in window mode, sampled after load(), at each quarter of the stream and after the "+
			"session closed. The goals compare the end of the stream with its first quarter. "+
			"Sessions: that many shell sessions opened at once, sampled after load() and "+
			"after every session printed its prompt. MiB = 2^20 bytes.",
			p.MemoryMessages, p.MessageSize, float64(p.MemoryMessages*p.MessageSize)/1e6),
	}
	s.Tables = append(s.Tables, outputMemoryTable(res.ByConfig[memoryOutput]))
	t := table{Header: []string{"sessions open", "wasm MiB", "JS heap MiB",
		"wasm MiB per session", "JS heap MiB per session"}}
	for _, c := range configs[1:] {
		runs := res.ByConfig[c]
		var n float64
		fmt.Sscanf(c, "%g", &n)
		mib := func(f func(r memoryRun) float64) summary { return summarize(collect(runs, f)) }
		t.Rows = append(t.Rows, []string{c,
			cell(mib(func(r memoryRun) float64 { return r.Open.WasmBytes / (1 << 20) }), 1),
			cell(mib(func(r memoryRun) float64 { return r.Open.HeapBytes / (1 << 20) }), 1),
			cell(mib(func(r memoryRun) float64 {
				return (r.Open.WasmBytes - r.Before.WasmBytes) / (1 << 20) / n
			}), 2),
			cell(mib(func(r memoryRun) float64 {
				return (r.Open.HeapBytes - r.Before.HeapBytes) / (1 << 20) / n
			}), 2)})
	}
	s.Tables = append(s.Tables, t)
	s.Goals = memoryGoals(res.ByConfig[memoryOutput])
	s.Notes = res.failureNotes()
	return s
}

// outputMemoryTable has one row per sample point of the output run.
func outputMemoryTable(runs []memoryRun) table {
	t := table{Header: []string{"output received", "wasm MiB", "JS heap MiB",
		"JS values held by Go"}}
	if len(runs) == 0 {
		return t
	}
	for i, first := range runs[0].Samples {
		at := func(r memoryRun) (memorySample, bool) {
			if i < len(r.Samples) {
				return r.Samples[i], true
			}
			return memorySample{}, false
		}
		var wasm, heap, values []float64
		for _, r := range runs {
			if sample, ok := at(r); ok {
				wasm = append(wasm, sample.WasmBytes/(1<<20))
				heap = append(heap, sample.HeapBytes/(1<<20))
				values = append(values, sample.GoValues)
			}
		}
		label := fmt.Sprintf("%.1f MB", float64(first.Bytes)/1e6)
		if first.Closed {
			label += ", session closed"
		}
		t.Rows = append(t.Rows, []string{label, cell(summarize(wasm), 1), cell(summarize(heap), 1),
			cell(summarize(values), 0)})
	}
	return t
}

// memoryGoals checks that memory at the end of the stream, before the
// session closes, is no more than 10% above memory after its first quarter.
func memoryGoals(runs []memoryRun) []goal {
	growth := func(f func(memorySample) float64) summary {
		var ratios []float64
		for _, r := range runs {
			var open []memorySample
			for _, s := range r.Samples {
				if !s.Closed {
					open = append(open, s)
				}
			}
			if len(open) >= 3 {
				ratios = append(ratios, f(open[len(open)-1])/f(open[1]))
			}
		}
		return summarize(ratios)
	}
	wasm := growth(func(s memorySample) float64 { return s.WasmBytes })
	heap := growth(func(s memorySample) float64 { return s.HeapBytes })
	return []goal{
		{Text: "wasm memory flat: end ≤ 1.1× the first quarter", Measured: num(wasm.Median, 2) + "×",
			Met: wasm.N > 0 && wasm.Median <= 1.1},
		{Text: "JS heap flat: end ≤ 1.1× the first quarter", Measured: num(heap.Median, 2) + "×",
			Met: heap.N > 0 && heap.Median <= 1.1},
	}
}
