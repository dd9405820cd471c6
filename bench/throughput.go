package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
)

// client is one receiver of the throughput benchmark.
type client struct {
	Label string // as shown in the report
	Page  string // module under bench/pages/
	KMS   bool
}

var (
	clientPlain   = client{"ssm.wasm plaintext", "throughput-wasm", false}
	clientKMS     = client{"ssm.wasm KMS", "throughput-wasm", true}
	clientSession = client{"ssm-session 1.0.6 plaintext", "throughput-session", false}
	clientBare    = client{"ceiling: bare WebSocket", "throughput-bare", false}
	clients       = []client{clientPlain, clientKMS, clientSession, clientBare}
	modes         = []string{"flood", "window"}
)

// throughputCounts is the result of one throughput page.
type throughputCounts struct {
	Bytes   int64   `json:"bytes"`
	Frames  int64   `json:"frames"`
	FirstMs float64 `json:"firstMs"`
	LastMs  float64 `json:"lastMs"`
}

// throughputRun is one measured run.
type throughputRun struct {
	MBps         float64 // payload megabytes (10^6) per second
	MainMsPerMiB float64 // renderer main-thread CPU ms per MiB of payload
	AllMsPerMiB  float64 // CPU ms of every Chromium process per MiB
	MainBusy     float64 // share of the time between the marks the main thread ran
}

func throughputConfig(mode string, c client) string { return mode + "/" + c.Label }

func throughputSuite(ctx context.Context, h *harness, p plan) (section, error) {
	var configs []string
	byName := map[string]client{}
	for _, mode := range modes {
		for _, c := range clients {
			name := throughputConfig(mode, c)
			configs = append(configs, name)
			byName[name] = c
		}
	}
	res, err := runRounds(ctx, h, p.Rounds, configs,
		func(ctx context.Context, config string) (throughputRun, error) {
			mode, _, _ := strings.Cut(config, "/")
			return h.throughputRun(ctx, p, mode, byName[config])
		})
	if err != nil {
		return section{}, err
	}
	return throughputSection(p, res), nil
}

// throughputRun creates a source session and runs one client on it.
func (h *harness) throughputRun(ctx context.Context, p plan, mode string, c client) (throughputRun, error) {
	req := sessionRequest{
		SessionType: "Standard_Stream",
		KMS:         c.KMS,
		Source:      &source{Kind: mode, Count: p.Messages, Size: p.MessageSize},
	}
	if mode == "window" {
		req.Source.Window = p.Window
	}
	results, err := h.runPage(ctx, pageRun{
		Name: c.Page,
		Config: func(ctx context.Context, _ int) (any, error) {
			info, err := h.emu.newSession(ctx, req)
			if err != nil {
				return nil, err
			}
			return map[string]any{
				"mode": mode, "count": p.Messages, "size": p.MessageSize, "kms": c.KMS,
				"session": info, "ssmJs": "/dist/ssm.js", "wasmUrl": "/dist/ssm.wasm",
			}, nil
		},
	})
	if err != nil {
		return throughputRun{}, err
	}
	return h.throughputResult(p, mode, c, results[0])
}

// throughputResult turns a page's counts and CPU marks into figures.
func (h *harness) throughputResult(p plan, mode string, c client, r pageResult) (throughputRun, error) {
	var counts throughputCounts
	if err := json.Unmarshal(r.Data, &counts); err != nil {
		return throughputRun{}, fmt.Errorf("decode throughput result: %w", err)
	}
	want := int64(p.Messages) * int64(p.MessageSize)
	if counts.Bytes < want || counts.LastMs <= counts.FirstMs {
		return throughputRun{}, fmt.Errorf("received %d payload bytes of %d in %.1f ms",
			counts.Bytes, want, counts.LastMs-counts.FirstMs)
	}
	cpu := r.Marks["end"].sub(r.Marks["start"])
	mib := float64(counts.Bytes) / (1 << 20)
	h.logger.Info("throughput", "mode", mode, "client", c.Label,
		"MBps", float64(counts.Bytes)/1e3/(counts.LastMs-counts.FirstMs),
		"elapsed", cpu.At, "main", cpu.RendererMain, "renderer", cpu.Renderer,
		"network", cpu.Network, "total", cpu.Total)
	return throughputRun{
		MBps:         float64(counts.Bytes) / 1e6 / ((counts.LastMs - counts.FirstMs) / 1000),
		MainMsPerMiB: float64(cpu.RendererMain.Microseconds()) / 1000 / mib,
		AllMsPerMiB:  float64(cpu.Total.Microseconds()) / 1000 / mib,
		MainBusy:     cpu.RendererMain.Seconds() / cpu.At.Seconds(),
	}, nil
}

func throughputSection(p plan, res roundResults[throughputRun]) section {
	s := section{
		Title: "Output throughput",
		Method: fmt.Sprintf("The emulator's benchmark source sends %d Output messages of %d bytes "+
			"(%.1f MB of payload) and then channel_closed: in flood mode without waiting, in "+
			"window mode with at most %d unacknowledged. MB/s is payload bytes (10^6) from the "+
			"first to the last Output message the client delivered. CPU time comes from the "+
			"kernel's per-thread scheduler statistics (/proc/PID/task/TID/schedstat) of the "+
			"Chromium process tree, read by the runner when the page posts a mark before "+
			"opening the session and after it closed: \"main thread\" is the renderer's main "+
			"thread, where the page, ssm.wasm and ssm-session run; \"all\" adds every Chromium "+
			"process (network service, browser, renderer helpers). \"Busy\" is the main thread's "+
			"CPU time over the wall-clock time between the two marks. ssm.wasm's figures include "+
			"starting the session (and for KMS, the handshake and GenerateDataKey).",
			p.Messages, p.MessageSize, float64(p.Messages*p.MessageSize)/1e6, p.Window),
	}
	sums := map[string]summary{}
	t := table{Header: []string{"mode", "client", "MB/s", "main thread CPU ms/MiB",
		"all Chromium CPU ms/MiB", "main thread busy %"}}
	for _, mode := range modes {
		for _, c := range clients {
			runs := res.ByConfig[throughputConfig(mode, c)]
			mbps := summarize(collect(runs, func(r throughputRun) float64 { return r.MBps }))
			sums[throughputConfig(mode, c)] = mbps
			t.Rows = append(t.Rows, []string{mode, c.Label, cell(mbps, 2),
				cell(summarize(collect(runs, func(r throughputRun) float64 { return r.MainMsPerMiB })), 1),
				cell(summarize(collect(runs, func(r throughputRun) float64 { return r.AllMsPerMiB })), 1),
				cell(summarize(collect(runs, func(r throughputRun) float64 { return 100 * r.MainBusy })), 0)})
		}
	}
	s.Tables = append(s.Tables, t, ratioTable(sums))
	s.Goals = throughputGoals(sums)
	s.Notes = res.failureNotes()
	return s
}

// ratioTable divides the medians of one mode.
func ratioTable(sums map[string]summary) table {
	t := table{Header: []string{"mode", "plaintext / ceiling", "KMS / ceiling",
		"plaintext / ssm-session", "KMS / ssm-session"}}
	for _, mode := range modes {
		get := func(c client) summary { return sums[throughputConfig(mode, c)] }
		t.Rows = append(t.Rows, []string{mode,
			num(ratio(get(clientPlain), get(clientBare)), 2),
			num(ratio(get(clientKMS), get(clientBare)), 2),
			num(ratio(get(clientPlain), get(clientSession)), 2),
			num(ratio(get(clientKMS), get(clientSession)), 2)})
	}
	return t
}

func throughputGoals(sums map[string]summary) []goal {
	var goals []goal
	for _, mode := range modes {
		get := func(c client) summary { return sums[throughputConfig(mode, c)] }
		check := func(text string, r, min float64) {
			goals = append(goals, goal{Text: fmt.Sprintf("%s (%s)", text, mode),
				Measured: num(r, 2), Met: r >= min})
		}
		check("plaintext ≥ 2× ssm-session", ratio(get(clientPlain), get(clientSession)), 2)
		check("plaintext ≥ 0.7 of the ceiling", ratio(get(clientPlain), get(clientBare)), 0.7)
		check("KMS ≥ ssm-session plaintext", ratio(get(clientKMS), get(clientSession)), 1)
		check("KMS ≥ 0.5 of the ceiling", ratio(get(clientKMS), get(clientBare)), 0.5)
	}
	return goals
}
