package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func newTestServer(t *testing.T, dirs map[string]string) *pageServer {
	t.Helper()
	s, err := startPageServer(dirs, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func request(t *testing.T, method, url, body string, header http.Header) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(data)
}

func TestServerRunFlow(t *testing.T) {
	s := newTestServer(t, nil)
	samples := 0
	run := &activeRun{
		config: func(pass int) (any, error) { return map[string]int{"pass": pass}, nil },
		sampler: func() (cpuSample, error) {
			samples++
			return cpuSample{Total: time.Duration(samples) * time.Second}, nil
		},
		results: make(chan pageResult, 1),
	}
	s.register("r1", run)

	resp, body := request(t, "GET", s.URL()+"/config/r1/2", "", nil)
	if resp.StatusCode != http.StatusOK || strings.TrimSpace(body) != `{"pass":2}` {
		t.Errorf("config: HTTP %d %q", resp.StatusCode, body)
	}
	if got := resp.Header.Get("Cross-Origin-Embedder-Policy"); got != "require-corp" {
		t.Errorf("Cross-Origin-Embedder-Policy = %q", got)
	}
	for _, name := range []string{"start", "end"} {
		if resp, _ := request(t, "POST", s.URL()+"/mark/r1/2/"+name, "", nil); resp.StatusCode != http.StatusNoContent {
			t.Errorf("mark %s: HTTP %d", name, resp.StatusCode)
		}
	}
	if resp, _ := request(t, "POST", s.URL()+"/result/r1/2", `{"x":1}`, nil); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("result: HTTP %d", resp.StatusCode)
	}

	got := <-run.results
	if got.Pass != 2 || string(got.Data) != `{"x":1}` {
		t.Errorf("result = pass %d, %s", got.Pass, got.Data)
	}
	if d := got.Marks["end"].sub(got.Marks["start"]); d.Total != time.Second {
		t.Errorf("CPU between marks = %v, want 1s", d.Total)
	}
}

func TestServerRejectsBadRequests(t *testing.T) {
	s := newTestServer(t, nil)
	s.register("r1", &activeRun{
		config:  func(int) (any, error) { return nil, nil },
		sampler: func() (cpuSample, error) { return cpuSample{}, nil },
		results: make(chan pageResult, 1),
	})
	tests := []struct {
		name, method, path, body string
		want                     int
	}{
		{"unknown run", "GET", "/config/nope/1", "", http.StatusNotFound},
		{"invalid pass", "GET", "/config/r1/zero", "", http.StatusNotFound},
		{"invalid JSON", "POST", "/result/r1/1", "{", http.StatusBadRequest},
		{"first result", "POST", "/result/r1/1", "{}", http.StatusNoContent},
		{"extra result", "POST", "/result/r1/1", "{}", http.StatusConflict},
	}
	for _, tt := range tests {
		resp, body := request(t, tt.method, s.URL()+tt.path, tt.body, nil)
		if resp.StatusCode != tt.want {
			t.Errorf("%s: HTTP %d (%s), want %d", tt.name, resp.StatusCode, body, tt.want)
		}
	}
}

func TestServerServesCompressedWasm(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{"a.wasm": "raw", "a.wasm.br": "brotli"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s := newTestServer(t, map[string]string{"/d/": dir})
	tests := []struct {
		accept, wantBody, wantEncoding string
	}{
		{"gzip, deflate, br", "brotli", "br"},
		{"gzip", "raw", ""},
		{"", "raw", ""},
	}
	for _, tt := range tests {
		resp, body := request(t, "GET", s.URL()+"/d/a.wasm", "",
			http.Header{"Accept-Encoding": {tt.accept}})
		if body != tt.wantBody {
			t.Errorf("Accept-Encoding %q: body %q, want %q", tt.accept, body, tt.wantBody)
		}
		if got := resp.Header.Get("Content-Encoding"); got != tt.wantEncoding {
			t.Errorf("Accept-Encoding %q: Content-Encoding %q, want %q", tt.accept, got, tt.wantEncoding)
		}
		if got := resp.Header.Get("Content-Type"); got != "application/wasm" {
			t.Errorf("Accept-Encoding %q: Content-Type %q", tt.accept, got)
		}
	}
}

func TestParseFlags(t *testing.T) {
	opts, err := parseFlags([]string{"-quick", "-suites", "size,memory"})
	if err != nil {
		t.Fatal(err)
	}
	if opts.out != "" {
		t.Errorf("out = %q with -quick, want none", opts.out)
	}
	if strings.Join(opts.suites, ",") != "size,memory" {
		t.Errorf("suites = %v", opts.suites)
	}
	if opts, _ := parseFlags(nil); opts.out != "BENCHMARKS.md" {
		t.Errorf("default out = %q", opts.out)
	}
	for _, args := range [][]string{{"-suites", "speed"}, {"extra"}} {
		if _, err := parseFlags(args); err == nil {
			t.Errorf("parseFlags(%q) returned no error", args)
		}
	}
}

func TestRunPageInChromium(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skip("no Chromium at " + chromiumPath)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	h := &harness{tmp: t.TempDir(), logger: logger, timeout: time.Minute,
		pages: newTestServer(t, map[string]string{"/bench/": "pages"})}
	results, err := h.runPage(t.Context(), pageRun{
		Name:   "probe",
		Passes: 2,
		Config: func(_ context.Context, pass int) (any, error) {
			return map[string]int{"echo": pass}, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != 2 {
		t.Fatalf("got %d results, want 2", len(results))
	}
	for i, r := range results {
		var got struct {
			Echo     int  `json:"echo"`
			Isolated bool `json:"isolated"`
			Memory   struct{ WasmBytes, HeapBytes float64 }
		}
		if err := json.Unmarshal(r.Data, &got); err != nil {
			t.Fatal(err)
		}
		if r.Pass != i+1 || got.Echo != i+1 {
			t.Errorf("result %d: pass %d, echo %d", i, r.Pass, got.Echo)
		}
		if !got.Isolated {
			t.Errorf("pass %d: page not cross-origin isolated", r.Pass)
		}
		if got.Memory.HeapBytes <= 0 {
			t.Errorf("pass %d: JS heap %v", r.Pass, got.Memory.HeapBytes)
		}
		if cpu := r.Marks["end"].sub(r.Marks["start"]); cpu.RendererMain <= 0 {
			t.Errorf("pass %d: no renderer main-thread CPU time between marks: %+v", r.Pass, cpu)
		}
	}
}
