package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// maxResultBytes bounds the body of a posted result or log line.
const maxResultBytes = 8 << 20

// pageServer serves the benchmark pages, the files they load, and the
// endpoints through which a page fetches its configuration and posts its
// results. It listens on 127.0.0.1 only.
type pageServer struct {
	logger   *slog.Logger
	listener net.Listener
	http     *http.Server

	mu   sync.Mutex
	runs map[string]*activeRun
}

// activeRun is a page run that the server routes requests to.
type activeRun struct {
	config  func(pass int) (any, error)
	sampler func() (cpuSample, error)
	results chan pageResult
	marks   sync.Map     // "pass/name" -> cpuSample
	lastLog atomic.Value // string: the page's latest log line, for timeouts
}

// pageResult is one JSON document posted by a page, with the CPU samples
// taken when the page asked for them.
type pageResult struct {
	Pass  int
	Data  json.RawMessage
	Marks map[string]cpuSample
}

// startPageServer serves files from the given URL prefixes and directories
// on a random loopback port.
func startPageServer(dirs map[string]string, logger *slog.Logger) (*pageServer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen on loopback: %w", err)
	}
	s := &pageServer{logger: logger, listener: ln, runs: map[string]*activeRun{}}

	mux := http.NewServeMux()
	for prefix, dir := range dirs {
		mux.Handle(prefix, http.StripPrefix(prefix, staticHandler(dir)))
	}
	mux.HandleFunc("GET /config/{run}/{pass}", s.handleConfig)
	mux.HandleFunc("POST /mark/{run}/{pass}/{name}", s.handleMark)
	mux.HandleFunc("POST /result/{run}/{pass}", s.handleResult)
	mux.HandleFunc("POST /log/{run}", s.handleLog)

	s.http = &http.Server{Handler: isolate(mux), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := s.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("page server stopped", "err", err)
		}
	}()
	return s, nil
}

// URL returns the server's base URL, without a trailing slash.
func (s *pageServer) URL() string {
	return "http://" + s.listener.Addr().String()
}

// Close stops the server.
func (s *pageServer) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return s.http.Shutdown(ctx)
}

// register makes a run reachable under id until unregister is called.
func (s *pageServer) register(id string, run *activeRun) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.runs[id] = run
}

func (s *pageServer) unregister(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.runs, id)
}

func (s *pageServer) lookup(r *http.Request) (*activeRun, int, error) {
	s.mu.Lock()
	run := s.runs[r.PathValue("run")]
	s.mu.Unlock()
	if run == nil {
		return nil, 0, fmt.Errorf("unknown run %q", r.PathValue("run"))
	}
	pass, err := strconv.Atoi(r.PathValue("pass"))
	if err != nil || pass < 1 {
		return nil, 0, fmt.Errorf("invalid pass %q", r.PathValue("pass"))
	}
	return run, pass, nil
}

func (s *pageServer) handleConfig(w http.ResponseWriter, r *http.Request) {
	run, pass, err := s.lookup(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	}
	cfg, err := run.config(pass)
	if err != nil {
		s.logger.Error("page configuration failed", "run", r.PathValue("run"), "err", err)
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if err := json.NewEncoder(w).Encode(cfg); err != nil {
		s.logger.Warn("write page configuration failed", "err", err)
	}
}

// handleMark samples Chromium's CPU time when the page requests it, so
// that the page can bracket the work it measures.
func (s *pageServer) handleMark(w http.ResponseWriter, r *http.Request) {
	run, pass, err := s.lookup(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	}
	sample, err := run.sampler()
	if err != nil {
		s.logger.Warn("sample CPU time failed", "run", r.PathValue("run"), "err", err)
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	run.marks.Store(fmt.Sprintf("%d/%s", pass, r.PathValue("name")), sample)
	w.WriteHeader(http.StatusNoContent)
}

func (s *pageServer) handleResult(w http.ResponseWriter, r *http.Request) {
	run, pass, err := s.lookup(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxResultBytes))
	if err != nil || !json.Valid(body) {
		http.Error(w, "result is not valid JSON", http.StatusBadRequest)
		return
	}
	marks := map[string]cpuSample{}
	prefix := strconv.Itoa(pass) + "/"
	run.marks.Range(func(key, value any) bool {
		if name, ok := strings.CutPrefix(key.(string), prefix); ok {
			marks[name] = value.(cpuSample)
		}
		return true
	})
	select {
	case run.results <- pageResult{Pass: pass, Data: body, Marks: marks}:
		w.WriteHeader(http.StatusNoContent)
	default:
		http.Error(w, "result already received", http.StatusConflict)
	}
}

// handleLog records the page's latest progress line, which a timeout error
// then reports, and logs it at debug level.
func (s *pageServer) handleLog(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 4096))
	s.mu.Lock()
	run := s.runs[r.PathValue("run")]
	s.mu.Unlock()
	if run != nil {
		run.lastLog.Store(string(body))
	}
	s.logger.Debug("page", "run", r.PathValue("run"), "msg", string(body))
	w.WriteHeader(http.StatusNoContent)
}

// isolate adds the headers that make the pages cross-origin isolated.
// Chromium then gives performance.now() a 5 µs resolution instead of
// 100 µs, which matters for keystroke latencies near 1 ms.
func isolate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cross-Origin-Opener-Policy", "same-origin")
		w.Header().Set("Cross-Origin-Embedder-Policy", "require-corp")
		w.Header().Set("Cross-Origin-Resource-Policy", "same-origin")
		next.ServeHTTP(w, r)
	})
}

// staticHandler serves dir with a one-hour cache lifetime, so a second load
// in the same profile comes from Chromium's cache, and serves a .br or .gz
// sibling with Content-Encoding when the request accepts it.
func staticHandler(dir string) http.Handler {
	files := http.FileServer(http.Dir(dir))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=3600")
		if serveCompressed(w, r, dir) {
			return
		}
		files.ServeHTTP(w, r)
	})
}

// serveCompressed serves a pre-compressed sibling of a .wasm file and
// reports whether it did.
func serveCompressed(w http.ResponseWriter, r *http.Request, dir string) bool {
	name := filepath.Join(dir, filepath.FromSlash(filepath.Clean("/"+r.URL.Path)))
	if !strings.HasSuffix(name, ".wasm") {
		return false
	}
	accept := r.Header.Get("Accept-Encoding")
	for _, enc := range []struct{ token, ext string }{{"br", ".br"}, {"gzip", ".gz"}} {
		if !strings.Contains(accept, enc.token) {
			continue
		}
		f, err := os.Open(name + enc.ext)
		if err != nil {
			continue
		}
		defer f.Close()
		info, err := f.Stat()
		if err != nil {
			continue
		}
		w.Header().Set("Content-Type", "application/wasm")
		w.Header().Set("Content-Encoding", enc.token)
		w.Header().Add("Vary", "Accept-Encoding")
		http.ServeContent(w, r, name, info.ModTime(), f)
		return true
	}
	return false
}
