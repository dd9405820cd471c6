//go:build !js

package emulator

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// post sends a JSON POST with an optional Origin header.
func post(t *testing.T, url, origin, body string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func TestAPICreateResumeTerminate(t *testing.T) {
	s := startServer(t)
	resp := post(t, s.URL()+"/v1/sessions", "http://localhost:5173",
		`{"sessionType":"Standard_Stream","kms":true,"faults":[{"kind":"drop"}]}`)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("create: status %d", resp.StatusCode)
	}
	if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "http://localhost:5173" {
		t.Errorf("Access-Control-Allow-Origin %q, want the request origin", got)
	}
	if !strings.Contains(resp.Header.Get("Access-Control-Expose-Headers"), "X-Amzn-Requestid") {
		t.Errorf("X-Amzn-Requestid is not exposed")
	}
	var info SessionInfo
	if err := json.NewDecoder(resp.Body).Decode(&info); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(info.StreamURL, "ws://127.0.0.1:") ||
		!strings.HasSuffix(info.StreamURL, "/v1/data-channel/"+info.SessionID+"?role=publish_subscribe") {
		t.Errorf("StreamUrl %q does not have the service's form", info.StreamURL)
	}
	if info.TokenValue == "" || info.Target != targetID || info.KMS != s.KMS() {
		t.Errorf("session info incomplete: target %q, kms %+v", info.Target, info.KMS)
	}

	resp = post(t, s.URL()+"/v1/sessions/"+info.SessionID+"/resume", "", "")
	var resumed ResumeInfo
	json.NewDecoder(resp.Body).Decode(&resumed)
	if resumed.SessionID != info.SessionID || resumed.TokenValue == "" ||
		resumed.TokenValue == info.TokenValue {
		t.Errorf("resume returned session %q with a missing or reused token", resumed.SessionID)
	}

	resp = post(t, s.URL()+"/v1/sessions/"+info.SessionID+"/terminate", "", "")
	if body, _ := io.ReadAll(resp.Body); resp.StatusCode != http.StatusOK ||
		strings.TrimSpace(string(body)) != "{}" {
		t.Errorf("terminate: status %d, body %q", resp.StatusCode, body)
	}
}

func TestAPIRejectsInvalidRequests(t *testing.T) {
	s := startServer(t)
	tests := []struct {
		name, path, body, want string
	}{
		{"unknown field", "/v1/sessions", `{"sesionType":"Port"}`, "unknown field"},
		{"unknown session type", "/v1/sessions", `{"sessionType":"Telnet"}`, "unknown session type"},
		{"command missing", "/v1/sessions", `{"sessionType":"NonInteractiveCommands"}`,
			"command is missing"},
		{"unknown fault", "/v1/sessions", `{"faults":[{"kind":"melt"}]}`, "unknown fault kind"},
		{"bad source", "/v1/sessions", `{"source":{"kind":"tap"}}`, "source kind"},
		{"unknown session", "/v1/sessions/sess-none/resume", ``, "not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := post(t, s.URL()+tt.path, "", tt.body)
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusBadRequest {
				t.Errorf("status %d, want 400", resp.StatusCode)
			}
			if resp.Header.Get("X-Amzn-Errortype") == "" {
				t.Errorf("no X-Amzn-Errortype header")
			}
			if !strings.Contains(string(body), tt.want) {
				t.Errorf("body %q does not contain %q", body, tt.want)
			}
		})
	}
}

func TestCORSOrigins(t *testing.T) {
	s := startServer(t)
	tests := []struct {
		origin  string
		allowed bool
	}{
		{"", true},
		{"http://127.0.0.1:8080", true},
		{"http://localhost:3000", true},
		{"http://[::1]:9000", true},
		{"http://example.com", false},
		{"http://127.0.0.1.example.com:80", false},
		{"https://localhost:3000", false},
		{"null", false},
	}
	for _, tt := range tests {
		t.Run(tt.origin, func(t *testing.T) {
			for _, endpoint := range []string{s.URL() + "/v1/sessions", s.KMS().Endpoint + "/"} {
				req, _ := http.NewRequest(http.MethodOptions, endpoint, nil)
				if tt.origin != "" {
					req.Header.Set("Origin", tt.origin)
				}
				req.Header.Set("Access-Control-Request-Method", "POST")
				req.Header.Set("Access-Control-Request-Headers", "content-type,x-amz-target")
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if allowed := resp.StatusCode == http.StatusNoContent; allowed != tt.allowed {
					t.Errorf("%s: preflight status %d, allowed %v", endpoint, resp.StatusCode,
						tt.allowed)
				}
				if tt.allowed && tt.origin != "" &&
					resp.Header.Get("Access-Control-Allow-Headers") != "content-type,x-amz-target" {
					t.Errorf("%s: requested headers not echoed", endpoint)
				}
			}
		})
	}
}

func TestWebSocketOrigins(t *testing.T) {
	s := startServer(t)
	info := newTestSession(t, s, SessionRequest{})
	tests := []struct {
		origin  string
		allowed bool
	}{
		{"http://localhost:8000", true},
		{"http://127.0.0.1:1234", true},
		{"http://[::1]:1234", true},
		{"http://evil.example", false},
	}
	for _, tt := range tests {
		t.Run(tt.origin, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			c, resp, err := websocket.Dial(ctx, info.StreamURL, &websocket.DialOptions{
				HTTPHeader: http.Header{"Origin": {tt.origin}}})
			if c != nil {
				c.CloseNow()
			}
			if (err == nil) != tt.allowed {
				t.Errorf("dial error %v, allowed %v", err, tt.allowed)
			}
			if !tt.allowed && resp != nil && resp.StatusCode != http.StatusForbidden {
				t.Errorf("status %d, want 403", resp.StatusCode)
			}
		})
	}
}

func TestForeignHostRejected(t *testing.T) {
	s := startServer(t)
	req, _ := http.NewRequest(http.MethodPost, s.URL()+"/v1/sessions", strings.NewReader("{}"))
	req.Host = "attacker.example:80"
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("status %d for a foreign Host header, want 403", resp.StatusCode)
	}
}

func TestStaticFiles(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"index.html":     "<p>index</p>",
		"main.wasm":      "plain wasm",
		"main.wasm.br":   "brotli wasm",
		"app.js":         "plain js",
		"app.js.gz":      "gzip js",
		"sub/index.html": "sub index",
	}
	for name, content := range files {
		path := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(path), 0o755)
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s, err := Start(context.Background(), Options{WWW: dir, Logger: testLogger()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })

	tests := []struct {
		path, accept, body, ctype, encoding string
		status                              int
	}{
		{"/", "", "<p>index</p>", "text/html; charset=utf-8", "", 200},
		{"/main.wasm", "gzip, br", "brotli wasm", "application/wasm", "br", 200},
		{"/main.wasm", "br;q=0", "plain wasm", "application/wasm", "", 200},
		{"/app.js", "gzip", "gzip js", "text/javascript; charset=utf-8", "gzip", 200},
		{"/sub", "", "sub index", "text/html; charset=utf-8", "", 200},
		{"/missing.txt", "", "", "", "", 404},
		{"/../../etc/passwd", "", "", "", "", 0}, // 0: anything but 200
	}
	for _, tt := range tests {
		t.Run(tt.path+" "+tt.accept, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, s.URL()+tt.path, nil)
			if tt.accept != "" {
				req.Header.Set("Accept-Encoding", tt.accept)
			}
			resp, err := http.DefaultTransport.RoundTrip(req) // no transparent decompression
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if tt.status == 0 && resp.StatusCode == http.StatusOK {
				t.Fatalf("a path outside the directory was served")
			}
			if tt.status != 0 && resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.status)
			}
			if tt.status != 200 {
				return
			}
			if !bytes.Equal(body, []byte(tt.body)) {
				t.Errorf("body %q, want %q", body, tt.body)
			}
			if got := resp.Header.Get("Content-Type"); got != tt.ctype {
				t.Errorf("Content-Type %q, want %q", got, tt.ctype)
			}
			if got := resp.Header.Get("Content-Encoding"); got != tt.encoding {
				t.Errorf("Content-Encoding %q, want %q", got, tt.encoding)
			}
		})
	}
}

func TestStartRejectsNonLoopbackAddress(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":0", "192.0.2.1:80", "example.com:80", "nonsense"} {
		if _, err := loopbackAddr(addr); err == nil {
			t.Errorf("address %q accepted", addr)
		}
	}
	for _, addr := range []string{"127.0.0.1:0", "localhost:8080", "[::1]:0", ""} {
		if _, err := loopbackAddr(addr); err != nil {
			t.Errorf("address %q rejected: %v", addr, err)
		}
	}
}
