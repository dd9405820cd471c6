//go:build js && wasm

package profile

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"syscall/js"
	"testing"
	"time"

	"github.com/ssmwasm/ssm.wasm/jsbridge"
)

// session is the emulator's response to POST /v1/sessions.
type session struct {
	SessionID  string `json:"SessionId"`
	StreamURL  string `json:"StreamUrl"`
	TokenValue string `json:"TokenValue"`
	Target     string `json:"Target"`
	KMS        struct {
		Region, Endpoint, AccessKeyID, SecretAccessKey string
	} `json:"Kms"`
}

func TestProfileOutput(t *testing.T) {
	base := os.Getenv("SSM_EMULATOR_URL")
	if base == "" {
		t.Skip("SSM_EMULATOR_URL is not set")
	}
	kind := envOr("SSM_PROFILE_SOURCE", "flood")
	count, err := strconv.Atoi(envOr("SSM_PROFILE_COUNT", "20000"))
	if err != nil {
		t.Fatalf("invalid SSM_PROFILE_COUNT: %v", err)
	}
	kms := os.Getenv("SSM_PROFILE_KMS") == "1"
	s := newSession(t, base, kind, count, kms)

	jsbridge.Register()
	api := js.Global().Get("ssm")
	started := time.Now()
	handle, err := await(api.Call("startSession", options(s, kms)))
	if err != nil {
		t.Fatalf("startSession: %v", err)
	}
	counter := js.Global().Get("Object").New()
	counter.Set("n", 0)
	countBytes := js.Global().Get("Function").New("counter",
		"return (bytes) => { counter.n += bytes.length; };").Invoke(counter)
	api.Call("onData", handle, countBytes)

	result, err := await(api.Call("closed", handle))
	if err != nil {
		t.Fatalf("closed: %v", err)
	}
	n := counter.Get("n").Int()
	elapsed := time.Since(started)
	t.Logf("%s, kms %v: %d bytes in %v (%.2f MB/s); closed: %s", kind, kms, n,
		elapsed, float64(n)/1e6/elapsed.Seconds(), js.Global().Get("JSON").Call("stringify", result))
	if n != count*1024 {
		t.Errorf("received %d bytes, expected %d", n, count*1024)
	}
}

func envOr(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}

// newSession creates a benchmark source session through the emulator's
// HTTP API, which net/http reaches through the browser's fetch.
func newSession(t *testing.T, base, kind string, count int, kms bool) session {
	t.Helper()
	body, _ := json.Marshal(map[string]any{
		"sessionType": "Standard_Stream",
		"kms":         kms,
		"source":      map[string]any{"kind": kind, "count": count, "size": 1024, "window": 64},
	})
	resp, err := http.Post(base+"/v1/sessions", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatalf("create session: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("create session: HTTP %d", resp.StatusCode)
	}
	var s session
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
		t.Fatalf("decode session: %v", err)
	}
	return s
}

func options(s session, kms bool) map[string]any {
	o := map[string]any{
		"streamUrl": s.StreamURL, "tokenValue": s.TokenValue,
		"sessionId": s.SessionID, "targetId": s.Target, "logLevel": "warn",
	}
	if kms {
		o["requireEncryption"] = true
		o["kms"] = map[string]any{
			"region": s.KMS.Region, "endpoint": s.KMS.Endpoint,
			"credentials": map[string]any{
				"accessKeyId": s.KMS.AccessKeyID, "secretAccessKey": s.KMS.SecretAccessKey,
			},
		}
	}
	return o
}

// await waits for a promise. The test goroutine is not a JavaScript
// callback, so blocking here lets the event loop run.
func await(p js.Value) (js.Value, error) {
	done := make(chan struct{})
	var value js.Value
	var err error
	then := js.FuncOf(func(_ js.Value, args []js.Value) any {
		value = args[0]
		close(done)
		return nil
	})
	catch := js.FuncOf(func(_ js.Value, args []js.Value) any {
		err = fmt.Errorf("%s", args[0].Call("toString").String())
		close(done)
		return nil
	})
	defer then.Release()
	defer catch.Release()
	p.Call("then", then, catch)
	<-done
	return value, err
}
