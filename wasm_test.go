//go:build js && wasm

// These tests run in headless Chromium (GOOS=js GOARCH=wasm go test with
// wasmbrowsertest as go_js_wasm_exec) against a running emulator whose URL
// is in SSM_EMULATOR_URL; ./build.sh test starts one. They create sessions
// through the emulator's HTTP API and drive them through globalThis.ssm,
// the JavaScript surface that pages use.
package ssm_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall/js"
	"testing"
	"time"

	"github.com/ssmwasm/ssm.wasm/jsbridge"
	"github.com/ssmwasm/ssm.wasm/protocol"
	"github.com/ssmwasm/ssm.wasm/protocol/awskms"
)

// waitLimit bounds every wait for the emulator so that a hung test fails.
// It measures nothing.
const waitLimit = 60 * time.Second

var httpClient = &http.Client{}

func TestMain(m *testing.M) {
	jsbridge.Register()
	os.Exit(m.Run())
}

// emulatorURL returns the emulator's base URL or skips the test.
func emulatorURL(t *testing.T) string {
	t.Helper()
	u := os.Getenv("SSM_EMULATOR_URL")
	if u == "" {
		t.Skip("SSM_EMULATOR_URL is not set; ./build.sh test starts an emulator")
	}
	return u
}

// sessionRequest is the body of the emulator's POST /v1/sessions.
type sessionRequest struct {
	SessionType string  `json:"sessionType,omitempty"`
	KMS         bool    `json:"kms,omitempty"`
	Command     string  `json:"command,omitempty"`
	Faults      []fault `json:"faults,omitempty"`
}

type fault map[string]any

type sessionInfo struct {
	SessionID  string `json:"SessionId"`
	StreamURL  string `json:"StreamUrl"`
	TokenValue string `json:"TokenValue"`
	Target     string `json:"Target"`
	KMS        struct {
		Region          string `json:"Region"`
		Endpoint        string `json:"Endpoint"`
		KeyID           string `json:"KeyId"`
		AccessKeyID     string `json:"AccessKeyId"`
		SecretAccessKey string `json:"SecretAccessKey"`
	} `json:"Kms"`
}

func postJSON(ctx context.Context, url string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url,
		bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := httpClient.Do(req)
	if err != nil {
		return fmt.Errorf("post %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("post %s: HTTP %s", url, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

func newEmulatorSession(t *testing.T, req sessionRequest) sessionInfo {
	t.Helper()
	var info sessionInfo
	err := postJSON(context.Background(), emulatorURL(t)+"/v1/sessions", req, &info)
	if err != nil {
		t.Fatalf("create emulator session: %v", err)
	}
	return info
}

// kmsMode selects how a test session gets its data key.
type kmsMode int

const (
	kmsNone     kmsMode = iota
	kmsSDK              // the built-in AWS SDK client
	kmsCallback         // a generateDataKey function
)

// options returns startSession options for an emulator session. Functions
// created here are never released, because a session may call them until
// it ends, which can be after its test.
func options(t *testing.T, info sessionInfo, mode kmsMode, resume bool) map[string]any {
	o := map[string]any{
		"streamUrl":  info.StreamURL,
		"tokenValue": info.TokenValue,
		"sessionId":  info.SessionID,
		"targetId":   info.Target,
		"cols":       80,
		"rows":       24,
		"logLevel":   "warn",
	}
	switch mode {
	case kmsSDK:
		o["kms"] = map[string]any{
			"region":   info.KMS.Region,
			"endpoint": info.KMS.Endpoint,
			"credentials": map[string]any{
				"accessKeyId":     info.KMS.AccessKeyID,
				"secretAccessKey": info.KMS.SecretAccessKey,
			},
		}
	case kmsCallback:
		o["kms"] = map[string]any{"generateDataKey": generateDataKeyFunc(t, info)}
	}
	if resume {
		o["resume"] = resumeFunc(emulatorURL(t), info.SessionID)
	}
	return o
}

// generateDataKeyFunc returns a JavaScript generateDataKey function that
// calls the emulator's local KMS from Go, as a page's backend would.
func generateDataKeyFunc(t *testing.T, info sessionInfo) js.Func {
	provider, err := awskms.New(awskms.Options{
		Region:          info.KMS.Region,
		Endpoint:        info.KMS.Endpoint,
		AccessKeyID:     info.KMS.AccessKeyID,
		SecretAccessKey: info.KMS.SecretAccessKey,
	})
	if err != nil {
		t.Fatalf("new KMS provider: %v", err)
	}
	return asyncFunc(func(args []js.Value) (any, error) {
		req := args[0]
		encryptionContext := map[string]string{}
		obj := req.Get("encryptionContext")
		keys := js.Global().Get("Object").Call("keys", obj)
		for i := range keys.Length() {
			k := keys.Index(i).String()
			encryptionContext[k] = obj.Get(k).String()
		}
		key, err := provider.GenerateDataKey(context.Background(), protocol.DataKeyRequest{
			KeyID:             req.Get("keyId").String(),
			EncryptionContext: encryptionContext,
			NumberOfBytes:     int32(req.Get("numberOfBytes").Int()),
		})
		if err != nil {
			return nil, err
		}
		return map[string]any{
			"plaintext":      toUint8Array(key.Plaintext),
			"ciphertextBlob": toUint8Array(key.CiphertextBlob),
		}, nil
	})
}

// resumeFunc returns a JavaScript resume function that calls the
// emulator's POST /v1/sessions/{id}/resume.
func resumeFunc(base, id string) js.Func {
	return asyncFunc(func([]js.Value) (any, error) {
		var r struct{ StreamUrl, TokenValue string }
		err := postJSON(context.Background(), base+"/v1/sessions/"+id+"/resume",
			struct{}{}, &r)
		if err != nil {
			return nil, err
		}
		return map[string]any{"streamUrl": r.StreamUrl, "tokenValue": r.TokenValue}, nil
	})
}

// asyncFunc returns a JavaScript function that returns a promise settled
// by fn, which runs in a goroutine.
func asyncFunc(fn func([]js.Value) (any, error)) js.Func {
	return js.FuncOf(func(_ js.Value, args []js.Value) any {
		var resolve, reject js.Value
		executor := js.FuncOf(func(_ js.Value, a []js.Value) any {
			resolve, reject = a[0], a[1]
			return nil
		})
		p := js.Global().Get("Promise").New(executor)
		executor.Release()
		go func() {
			v, err := fn(args)
			if err != nil {
				reject.Invoke(js.Global().Get("Error").New(err.Error()))
				return
			}
			resolve.Invoke(v)
		}()
		return p
	})
}

func toUint8Array(b []byte) js.Value {
	a := js.Global().Get("Uint8Array").New(len(b))
	js.CopyBytesToJS(a, b)
	return a
}

// await waits for a promise from a test goroutine and returns its value or
// its rejection reason.
func await(t *testing.T, p js.Value) (value js.Value, rejection js.Value) {
	t.Helper()
	type settled struct{ value, reason js.Value }
	ch := make(chan settled, 1)
	var onOK, onErr js.Func
	onOK = js.FuncOf(func(_ js.Value, a []js.Value) any {
		ch <- settled{value: a[0]}
		return nil
	})
	onErr = js.FuncOf(func(_ js.Value, a []js.Value) any {
		ch <- settled{reason: a[0]}
		return nil
	})
	js.Global().Get("Promise").Call("resolve", p).Call("then", onOK, onErr)
	select {
	case s := <-ch:
		onOK.Release()
		onErr.Release()
		return s.value, s.reason
	case <-time.After(waitLimit):
		t.Fatalf("promise not settled within %s", waitLimit)
		return js.Undefined(), js.Undefined()
	}
}

func ssm() js.Value { return js.Global().Get("ssm") }

// session is a session opened through globalThis.ssm, with its output
// collected.
type session struct {
	t      *testing.T
	handle js.Value

	mu     sync.Mutex
	out    []byte
	stderr []byte
	states []string
	signal chan struct{}
}

// start opens a session and subscribes to its output; it fails the test
// when startSession rejects.
func start(t *testing.T, opts map[string]any) *session {
	t.Helper()
	handle, reason := await(t, ssm().Call("startSession", js.ValueOf(opts)))
	if !reason.IsUndefined() {
		t.Fatalf("startSession rejected: %s", errorText(reason))
	}
	s := &session{t: t, handle: handle, signal: make(chan struct{}, 1)}
	s.subscribe("onData", func(p []byte) { s.out = append(s.out, p...) })
	s.subscribe("onStderr", func(p []byte) { s.stderr = append(s.stderr, p...) })
	onState := js.FuncOf(func(_ js.Value, a []js.Value) any {
		s.mu.Lock()
		s.states = append(s.states, a[0].Get("state").String())
		s.mu.Unlock()
		s.notify()
		return nil
	})
	ssm().Call("onState", handle, onState)
	t.Cleanup(func() { s.end() })
	return s
}

// startErr calls startSession and returns its rejection reason; it fails
// the test when the session opens.
func startErr(t *testing.T, opts map[string]any) js.Value {
	t.Helper()
	handle, reason := await(t, ssm().Call("startSession", js.ValueOf(opts)))
	if reason.IsUndefined() {
		ssm().Call("terminate", handle)
		t.Fatal("startSession resolved, want a rejection")
	}
	return reason
}

func (s *session) subscribe(name string, add func([]byte)) {
	fn := js.FuncOf(func(_ js.Value, a []js.Value) any {
		p := make([]byte, a[0].Get("length").Int())
		js.CopyBytesToGo(p, a[0])
		s.mu.Lock()
		add(p)
		s.mu.Unlock()
		s.notify()
		return nil
	})
	ssm().Call(name, s.handle, fn)
}

func (s *session) notify() {
	select {
	case s.signal <- struct{}{}:
	default:
	}
}

func (s *session) send(data any) {
	s.t.Helper()
	if r := ssm().Call("sendText", s.handle, data); !r.IsUndefined() {
		s.t.Fatalf("sendText returned %s", errorText(r))
	}
}

// waitFor waits until cond holds for the output so far. Failure messages
// give sizes only: terminal content stays out of logs.
func (s *session) waitFor(what string, cond func(out []byte) bool) {
	s.t.Helper()
	deadline := time.After(waitLimit)
	for {
		s.mu.Lock()
		ok := cond(s.out)
		n := len(s.out)
		s.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-s.signal:
		case <-deadline:
			s.t.Fatalf("waiting for %s: not seen in %d bytes of output within %s",
				what, n, waitLimit)
		}
	}
}

func (s *session) waitOutput(marker string) {
	s.t.Helper()
	s.waitFor(strconv.Quote(marker), func(out []byte) bool {
		return bytes.Contains(out, []byte(marker))
	})
}

func (s *session) output() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return bytes.Clone(s.out)
}

func (s *session) sawState(state string) bool { return s.count(state) > 0 }

// count returns how often onState reported state.
func (s *session) count(state string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, st := range s.states {
		if st == state {
			n++
		}
	}
	return n
}

// result is the value of closed(handle).
type result struct {
	exitCode *int
	reason   string
	clean    bool
}

func (s *session) closed() result {
	s.t.Helper()
	v, reason := await(s.t, ssm().Call("closed", s.handle))
	if !reason.IsUndefined() {
		s.t.Fatalf("closed rejected: %s", errorText(reason))
	}
	r := result{reason: v.Get("reason").String(), clean: v.Get("clean").Bool()}
	if code := v.Get("exitCode"); !code.IsNull() {
		c := code.Int()
		r.exitCode = &c
	}
	return r
}

// end terminates the session unless it has ended and waits for the end.
func (s *session) end() {
	ssm().Call("terminate", s.handle)
	done := make(chan struct{})
	var onDone js.Func
	onDone = js.FuncOf(func(js.Value, []js.Value) any {
		close(done)
		return nil
	})
	ssm().Call("closed", s.handle).Call("then", onDone)
	select {
	case <-done:
		onDone.Release()
	case <-time.After(waitLimit):
		s.t.Errorf("session did not end within %s after terminate", waitLimit)
	}
}

func (s *session) info() js.Value { return ssm().Call("info", s.handle) }

func errorText(v js.Value) string {
	if v.Type() == js.TypeObject && !v.Get("message").IsUndefined() {
		return v.Get("name").String() + ": " + v.Get("message").String()
	}
	return js.Global().Call("String", v).String()
}

// evalCommand prints evalOutput, which its own echo does not contain, so a
// match proves that the shell ran the command.
const (
	evalCommand = "echo ab$((6*7))cd\r"
	evalOutput  = "ab42cd"
)

func TestShellWithSDKKMS(t *testing.T) {
	info := newEmulatorSession(t, sessionRequest{KMS: true})
	s := start(t, options(t, info, kmsSDK, false))

	if !s.info().Get("encrypted").Bool() {
		t.Error("info().encrypted = false, want true for a KMS session")
	}
	if got := s.info().Get("sessionType").String(); got != "Standard_Stream" {
		t.Errorf("info().sessionType = %q, want Standard_Stream", got)
	}
	if got := s.info().Get("state").String(); got != "open" {
		t.Errorf("info().state = %q, want open", got)
	}
	s.send(evalCommand)
	s.waitOutput(evalOutput)

	s.send("exit\r")
	r := s.closed()
	if !r.clean {
		t.Errorf("closed: clean = false (reason %q), want true after exit", r.reason)
	}
}

func TestShellWithKMSCallback(t *testing.T) {
	info := newEmulatorSession(t, sessionRequest{KMS: true})
	s := start(t, options(t, info, kmsCallback, false))

	if !s.info().Get("encrypted").Bool() {
		t.Error("info().encrypted = false, want true for a KMS session")
	}
	s.send(evalCommand)
	s.waitOutput(evalOutput)
}

func TestKMSCallbackRejection(t *testing.T) {
	info := newEmulatorSession(t, sessionRequest{KMS: true})
	opts := options(t, info, kmsNone, false)
	opts["kms"] = map[string]any{"generateDataKey": asyncFunc(
		func([]js.Value) (any, error) { return nil, errors.New("backend refused") })}

	reason := startErr(t, opts)
	if got := reason.Get("name").String(); got != "KMSError" {
		t.Errorf("rejection name = %q, want KMSError (%s)", got, errorText(reason))
	}
	if !strings.Contains(reason.Get("message").String(), "backend refused") {
		t.Errorf("rejection message %q lacks the callback's error", errorText(reason))
	}
}

func TestKMSWithoutOption(t *testing.T) {
	info := newEmulatorSession(t, sessionRequest{KMS: true})
	reason := startErr(t, options(t, info, kmsNone, false))
	if got := reason.Get("name").String(); got != "KMSError" {
		t.Errorf("rejection name = %q, want KMSError (%s)", got, errorText(reason))
	}
	if !strings.Contains(reason.Get("message").String(), "no kms option") {
		t.Errorf("rejection message %q does not name the kms option", errorText(reason))
	}
}

func TestPlaintextSession(t *testing.T) {
	info := newEmulatorSession(t, sessionRequest{})
	s := start(t, options(t, info, kmsNone, false))

	if s.info().Get("encrypted").Bool() {
		t.Error("info().encrypted = true, want false without KMS")
	}
	s.send(evalCommand)
	s.waitOutput(evalOutput)
}

func TestRequireEncryptionRejectsPlaintext(t *testing.T) {
	info := newEmulatorSession(t, sessionRequest{})
	opts := options(t, info, kmsNone, false)
	opts["requireEncryption"] = true

	reason := startErr(t, opts)
	if got := reason.Get("name").String(); got != "HandshakeError" {
		t.Errorf("rejection name = %q, want HandshakeError (%s)", got, errorText(reason))
	}
}

func TestTwoSessionsAtOnce(t *testing.T) {
	a := start(t, options(t, newEmulatorSession(t, sessionRequest{KMS: true}), kmsSDK, false))
	b := start(t, options(t, newEmulatorSession(t, sessionRequest{}), kmsNone, false))

	a.send("echo first$((1+1))\r")
	b.send("echo second$((2+2))\r")
	a.waitOutput("first2")
	b.waitOutput("second4")
	if bytes.Contains(a.output(), []byte("second4")) {
		t.Error("session a received the output of session b")
	}
	if bytes.Contains(b.output(), []byte("first2")) {
		t.Error("session b received the output of session a")
	}
}

// seqOutput returns what `seq 1 n` prints.
func seqOutput(n int) []byte {
	var b bytes.Buffer
	for i := 1; i <= n; i++ {
		b.WriteString(strconv.Itoa(i))
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// checkSeqOutput runs `seq 1 n` as a NonInteractiveCommands session with
// the given faults and compares the output byte for byte by hash.
func checkSeqOutput(t *testing.T, n int, faults []fault, mode kmsMode, resume bool) *session {
	t.Helper()
	info := newEmulatorSession(t, sessionRequest{
		SessionType: "NonInteractiveCommands",
		KMS:         mode != kmsNone,
		Command:     fmt.Sprintf("seq 1 %d", n),
		Faults:      faults,
	})
	s := start(t, options(t, info, mode, resume))
	r := s.closed()

	want := seqOutput(n)
	got := s.output()
	if sha256.Sum256(got) != sha256.Sum256(want) {
		t.Errorf("output: %d bytes with SHA-256 %s, want %d bytes with %s",
			len(got), hash(got), len(want), hash(want))
	}
	if r.exitCode == nil || *r.exitCode != 0 {
		t.Errorf("closed: exitCode = %v, want 0 (reason %q)", r.exitCode, r.reason)
	}
	return s
}

func hash(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:8])
}

func TestLargeOutputByteExact(t *testing.T) {
	checkSeqOutput(t, 500000, nil, kmsSDK, false) // 3.4 MB
}

func TestResize(t *testing.T) {
	info := newEmulatorSession(t, sessionRequest{})
	s := start(t, options(t, info, kmsNone, false))

	if r := ssm().Call("resize", s.handle, 123, 45); !r.IsUndefined() {
		t.Fatalf("resize returned %s", errorText(r))
	}
	// The size applies once the agent has the Size message, so the shell
	// polls for it.
	s.send(`while [ "$(stty size)" != "45 123" ]; do sleep 0.1; done; ` +
		"echo size$((40+5))ok\r")
	s.waitOutput("size45ok")
}

func TestExitCode(t *testing.T) {
	info := newEmulatorSession(t, sessionRequest{
		SessionType: "NonInteractiveCommands", Command: "echo out; echo err >&2; exit 3"})
	s := start(t, options(t, info, kmsNone, false))

	r := s.closed()
	if r.exitCode == nil || *r.exitCode != 3 {
		t.Errorf("closed: exitCode = %v, want 3", r.exitCode)
	}
	if got := string(s.output()); got != "out\n" {
		t.Errorf("output = %d bytes, want the 4 bytes of stdout", len(got))
	}
	s.mu.Lock()
	stderr := string(s.stderr)
	s.mu.Unlock()
	if stderr != "err\n" {
		t.Errorf("stderr = %d bytes, want the 4 bytes of stderr", len(stderr))
	}
}

func TestChannelClosedReason(t *testing.T) {
	const reason = "maintenance window"
	info := newEmulatorSession(t, sessionRequest{
		SessionType: "NonInteractiveCommands",
		Command:     "seq 1 100000",
		Faults:      []fault{{"kind": "channel-closed", "after": 5, "reason": reason}},
	})
	s := start(t, options(t, info, kmsNone, false))

	r := s.closed()
	if r.reason != reason {
		t.Errorf("closed: reason = %q, want %q", r.reason, reason)
	}
	if !r.clean {
		t.Error("closed: clean = false, want true for channel_closed")
	}
	if !s.sawState("closed") {
		t.Error("onState never reported closed")
	}
}

// TestFaultsKeepOutputIntact runs each fault that the protocol recovers
// from and checks that the output arrives whole and in order.
func TestFaultsKeepOutputIntact(t *testing.T) {
	tests := []struct {
		name   string
		faults []fault
		resume bool
	}{
		{"reorder", []fault{{"kind": "reorder", "window": 8}}, false},
		{"duplicate", []fault{{"kind": "duplicate", "every": 5}}, false},
		{"drop", []fault{{"kind": "drop", "every": 7}}, false},
		{"corrupt-digest", []fault{{"kind": "corrupt-digest", "every": 9}}, false},
		{"pause", []fault{{"kind": "pause", "after": 20, "durationMs": 300}}, false},
		{"close-socket", []fault{{"kind": "close-socket", "after": 50}}, true},
		{"new-stream-url", []fault{{"kind": "close-socket", "after": 50},
			{"kind": "new-stream-url"}}, true},
		{"reorder, duplicate and drop", []fault{{"kind": "reorder"},
			{"kind": "duplicate"}, {"kind": "drop"}}, false},
		{"reorder and corrupt-digest", []fault{{"kind": "reorder"},
			{"kind": "corrupt-digest"}}, false},
		{"drop and corrupt-digest", []fault{{"kind": "drop"},
			{"kind": "corrupt-digest"}}, false},
		{"all four", []fault{{"kind": "reorder"}, {"kind": "duplicate"},
			{"kind": "drop"}, {"kind": "corrupt-digest"}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkSeqOutput(t, 20000, tt.faults, kmsSDK, tt.resume)
		})
	}
}

func TestStopAckingKeepsOutput(t *testing.T) {
	info := newEmulatorSession(t, sessionRequest{
		Faults: []fault{{"kind": "stop-acking", "after": 2}}})
	s := start(t, options(t, info, kmsNone, false))

	// Input beyond the acknowledged messages is retransmitted and never
	// acknowledged; output still flows.
	for i := range 5 {
		s.send(fmt.Sprintf("echo x%dy$((%d*2))z\r", i, i))
	}
	s.waitOutput("x0y0z")
	if got := s.info().Get("state").String(); got != "open" {
		t.Errorf("info().state = %q, want open while input is unacknowledged", got)
	}
}

func TestOpenFaults(t *testing.T) {
	tests := []struct {
		name     string
		req      sessionRequest
		wantName string
	}{
		{"fail-handshake", sessionRequest{
			Faults: []fault{{"kind": "fail-handshake"}}}, "HandshakeError"},
		{"fail-handshake with KMS", sessionRequest{KMS: true,
			Faults: []fault{{"kind": "fail-handshake"}}}, "HandshakeError"},
		{"wrong-challenge", sessionRequest{KMS: true,
			Faults: []fault{{"kind": "wrong-challenge", "durationMs": 50}}}, "ChallengeError"},
		{"drop-socket at challenge", sessionRequest{KMS: true,
			Faults: []fault{{"kind": "drop-socket", "at": "challenge"}}}, "ChallengeError"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info := newEmulatorSession(t, tt.req)
			reason := startErr(t, options(t, info, kmsSDK, false))
			if got := reason.Get("name").String(); got != tt.wantName {
				t.Errorf("rejection name = %q, want %s (%s)", got, tt.wantName,
					errorText(reason))
			}
			if reason.Get("message").String() == "" {
				t.Error("rejection message is empty")
			}
		})
	}
}

func TestReconnectDuringHandshake(t *testing.T) {
	for _, at := range []string{"handshake", "challenge"} {
		t.Run(at, func(t *testing.T) {
			info := newEmulatorSession(t, sessionRequest{KMS: true,
				Faults: []fault{{"kind": "drop-socket", "at": at}}})
			s := start(t, options(t, info, kmsSDK, true))
			s.send(evalCommand)
			s.waitOutput(evalOutput)
		})
	}
}

func TestReconnectDropsWithResume(t *testing.T) {
	s := checkSeqOutput(t, 20000, []fault{
		{"kind": "drop-socket", "at": "output", "every": 40, "count": 5}}, kmsSDK, true)
	if !s.sawState("reconnecting") {
		t.Error("onState never reported reconnecting")
	}
}

// TestReconnectRandomDropsWithPaste drops the socket up to 100 times at
// random while the shell prints and while a paste goes in, then checks
// both directions: each byte once and in order.
func TestReconnectRandomDropsWithPaste(t *testing.T) {
	info := newEmulatorSession(t, sessionRequest{KMS: true, Faults: []fault{
		{"kind": "drop-socket", "at": "random", "every": 4, "count": 100, "seed": 7}}})
	s := start(t, options(t, info, kmsSDK, true))

	const lines = 20000
	s.send(fmt.Sprintf("echo begin$((1)); seq 1 %d; echo end$((2))\r", lines))
	want := "begin1\r\n" + strings.ReplaceAll(string(seqOutput(lines)), "\n", "\r\n") +
		"end2\r\n"
	s.waitOutput("end2\r\n")
	if !bytes.Contains(s.output(), []byte(want)) {
		t.Errorf("output lacks the %d bytes that seq printed, each once and in order",
			len(want))
	}

	paste := pasteData(200000)
	pasteHash := sha256.Sum256(paste)
	s.send(fmt.Sprintf("stty raw -echo; echo ready$((3)); head -c %d | sha256sum | "+
		"sed 's/^/in=/'; stty sane\r", len(paste)))
	s.waitOutput("ready3")
	s.send(toUint8Array(paste))
	s.waitOutput("in=" + hex.EncodeToString(pasteHash[:]))

	t.Logf("%d reconnects", s.count("reconnecting"))
	if s.count("reconnecting") == 0 {
		t.Error("onState never reported reconnecting")
	}
}

// pasteData returns n bytes of printable lines, deterministic.
func pasteData(n int) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	b := make([]byte, n)
	for i := range b {
		if i%64 == 63 {
			b[i] = '\n'
		} else {
			b[i] = byte(' ' + r.IntN(95))
		}
	}
	return b
}

func TestRefusedResumeEndsSession(t *testing.T) {
	info := newEmulatorSession(t, sessionRequest{
		SessionType: "NonInteractiveCommands", Command: "seq 1 100000",
		Faults: []fault{{"kind": "close-socket", "after": 20}, {"kind": "refuse-resume"}}})
	s := start(t, options(t, info, kmsNone, true))

	r := s.closed()
	if r.clean {
		t.Errorf("closed: clean = true (reason %q), want false after a refused resume",
			r.reason)
	}
	if r.reason == "" {
		t.Error("closed: reason is empty")
	}
}

func TestResumeBudgetExpires(t *testing.T) {
	info := newEmulatorSession(t, sessionRequest{
		SessionType: "NonInteractiveCommands", Command: "seq 1 100000",
		Faults: []fault{{"kind": "close-socket", "after": 20}}})
	opts := options(t, info, kmsNone, false)
	// A resume that never settles: only the budget can end the session.
	opts["resume"] = js.FuncOf(func(js.Value, []js.Value) any {
		p, _, _ := pendingPromise()
		return p
	})
	opts["resumeBudgetMs"] = 300
	s := start(t, opts)

	r := s.closed()
	if r.clean {
		t.Errorf("closed: clean = true (reason %q), want false after the budget", r.reason)
	}
	if !s.sawState("reconnecting") {
		t.Error("onState never reported reconnecting")
	}
}

func pendingPromise() (p, resolve, reject js.Value) {
	executor := js.FuncOf(func(_ js.Value, a []js.Value) any {
		resolve, reject = a[0], a[1]
		return nil
	})
	p = js.Global().Get("Promise").New(executor)
	executor.Release()
	return p, resolve, reject
}

func TestPeriodicCloseReconnects(t *testing.T) {
	info := newEmulatorSession(t, sessionRequest{KMS: true,
		Faults: []fault{{"kind": "periodic-close", "intervalMs": 300}}})
	s := start(t, options(t, info, kmsSDK, true))

	s.send("sleep 1; echo slept$((1+2))\r")
	s.waitOutput("slept3")
	if !s.sawState("reconnecting") {
		t.Error("onState never reported reconnecting across a periodic close")
	}
	s.send(evalCommand)
	s.waitOutput(evalOutput)
}

func TestOutputBeforeSubscribeIsKept(t *testing.T) {
	info := newEmulatorSession(t, sessionRequest{
		SessionType: "NonInteractiveCommands", Command: "echo early"})
	handle, reason := await(t, ssm().Call("startSession",
		js.ValueOf(options(t, info, kmsNone, false))))
	if !reason.IsUndefined() {
		t.Fatalf("startSession rejected: %s", errorText(reason))
	}
	await(t, ssm().Call("closed", handle))

	var got []byte
	fn := js.FuncOf(func(_ js.Value, a []js.Value) any {
		p := make([]byte, a[0].Get("length").Int())
		js.CopyBytesToGo(p, a[0])
		got = append(got, p...)
		return nil
	})
	defer fn.Release()
	ssm().Call("onData", handle, fn)
	if string(got) != "early\n" {
		t.Errorf("late subscriber got %d bytes, want the 6 bytes of output", len(got))
	}
}

// TestCallbacksMayCallBack calls the API from inside an onData callback,
// which runs while the engine delivers output: nothing may wait there.
func TestCallbacksMayCallBack(t *testing.T) {
	info := newEmulatorSession(t, sessionRequest{})
	s := start(t, options(t, info, kmsNone, false))

	makeCallback := js.Global().Get("Function").New("ssm", "h", `
		let sent = false;
		return (bytes) => {
			ssm.info(h);
			ssm.resize(h, 90, 30);
			if (!sent) {
				sent = true;
				ssm.sendText(h, "echo re$((2+3))entrant\r");
			}
		};`)
	ssm().Call("onData", s.handle, makeCallback.Invoke(ssm(), s.handle))
	s.send("\r") // a prompt to start the callbacks
	s.waitOutput("re5entrant")
}

func TestThrowingSubscriberKeepsSession(t *testing.T) {
	info := newEmulatorSession(t, sessionRequest{})
	s := start(t, options(t, info, kmsNone, false))

	throw := js.Global().Get("Function").New("bytes", `throw new Error("page bug")`)
	ssm().Call("onData", s.handle, throw)
	ssm().Call("onState", s.handle, throw)
	s.send(evalCommand)
	s.waitOutput(evalOutput)
	if got := s.info().Get("state").String(); got != "open" {
		t.Errorf("info().state = %q after a subscriber threw, want open", got)
	}
}

// hostileThrow throws a value whose message getter itself throws, which
// must not strand the Go code that reads it.
const hostileThrow = `throw { get message() { throw new Error("hostile getter") } }`

func TestHostileExceptionKeepsSession(t *testing.T) {
	info := newEmulatorSession(t, sessionRequest{})
	s := start(t, options(t, info, kmsNone, false))

	throw := js.Global().Get("Function").New("bytes", hostileThrow)
	ssm().Call("onData", s.handle, throw)
	s.send(evalCommand)
	s.waitOutput(evalOutput)
	s.send("echo again-$((3*3))\r")
	s.waitOutput("again-9")
	if got := s.info().Get("state").String(); got != "open" {
		t.Errorf("info().state = %q after a hostile exception, want open", got)
	}
	s.end()
}

func TestHostileKMSRejection(t *testing.T) {
	info := newEmulatorSession(t, sessionRequest{KMS: true})
	opts := options(t, info, kmsNone, false)
	opts["kms"] = map[string]any{"generateDataKey": js.Global().Get("Function").New(
		"req", `return Promise.reject({ get message() { throw new Error("x") } })`)}

	reason := startErr(t, opts)
	if got := reason.Get("name").String(); got != "KMSError" {
		t.Errorf("rejection name = %q, want KMSError (%s)", got, errorText(reason))
	}
}

func TestHostileOptions(t *testing.T) {
	proxy := js.Global().Get("Function").New(`return new Proxy({}, {
		ownKeys() { throw new Error("no keys") },
		get() { throw new Error("no reads") } })`).Invoke()
	_, reason := await(t, ssm().Call("startSession", proxy))
	checkTypeError(t, reason, "reading options failed")

	info := newEmulatorSession(t, sessionRequest{})
	getter := js.ValueOf(options(t, info, kmsNone, false))
	js.Global().Get("Object").Call("defineProperty", getter, "cols", js.ValueOf(
		map[string]any{"get": js.Global().Get("Function").New(`throw new Error("cols")`),
			"enumerable": true}))
	_, reason = await(t, ssm().Call("startSession", getter))
	checkTypeError(t, reason, "reading options failed")
}

// TestKeptOutputIsBounded checks that StdErr without a subscriber is kept
// only up to the 1 MiB limit for a late subscriber.
func TestKeptOutputIsBounded(t *testing.T) {
	info := newEmulatorSession(t, sessionRequest{SessionType: "NonInteractiveCommands",
		Command: "head -c 3000000 /dev/zero >&2; echo done"})
	handle, reason := await(t, ssm().Call("startSession",
		js.ValueOf(options(t, info, kmsNone, false))))
	if !reason.IsUndefined() {
		t.Fatalf("startSession rejected: %s", errorText(reason))
	}
	await(t, ssm().Call("closed", handle))

	n := 0
	fn := js.FuncOf(func(_ js.Value, a []js.Value) any {
		n += a[0].Get("length").Int()
		return nil
	})
	defer fn.Release()
	ssm().Call("onStderr", handle, fn)
	if n == 0 || n > 1<<20 {
		t.Errorf("late StdErr subscriber got %d bytes, want 1 to %d", n, 1<<20)
	}
}

func TestBadArguments(t *testing.T) {
	info := newEmulatorSession(t, sessionRequest{})
	valid := options(t, info, kmsNone, false)
	with := func(key string, v any) map[string]any {
		o := map[string]any{}
		for k, x := range valid {
			o[k] = x
		}
		if v == nil {
			delete(o, key)
		} else {
			o[key] = v
		}
		return o
	}
	startTests := []struct {
		name string
		opts any
		want string
	}{
		{"no options", js.Undefined(), "options must be an object"},
		{"no streamUrl", with("streamUrl", nil), "streamUrl is required"},
		{"empty streamUrl", with("streamUrl", ""), "streamUrl is required"},
		{"number streamUrl", with("streamUrl", 5), "streamUrl must be a string"},
		{"no tokenValue", with("tokenValue", nil), "tokenValue is required"},
		{"unknown option", with("streamURL", "x"), "unknown option streamURL"},
		{"negative cols", with("cols", -1), "cols must be an integer"},
		{"fractional rows", with("rows", 2.5), "rows must be an integer"},
		{"string requireEncryption", with("requireEncryption", "yes"),
			"requireEncryption must be a boolean"},
		{"bad logLevel", with("logLevel", "loud"), "logLevel \"loud\""},
		{"kms not an object", with("kms", "key"), "kms must be an object"},
		{"kms without credentials", with("kms", map[string]any{"region": "us-east-1"}),
			"kms.credentials must be an object"},
		{"kms without region", with("kms", map[string]any{"credentials": map[string]any{
			"accessKeyId": "a", "secretAccessKey": "b"}}), "kms.region is required"},
		{"generateDataKey not a function", with("kms",
			map[string]any{"generateDataKey": 1}), "must be a function"},
		{"resume not a function", with("resume", "later"), "resume must be a function"},
		{"zero resumeBudgetMs", with("resumeBudgetMs", 0), "resumeBudgetMs must be"},
	}
	for _, tt := range startTests {
		t.Run("startSession "+tt.name, func(t *testing.T) {
			_, reason := await(t, ssm().Call("startSession", tt.opts))
			checkTypeError(t, reason, tt.want)
		})
	}

	s := start(t, valid)
	ended := start(t, options(t, newEmulatorSession(t, sessionRequest{}), kmsNone, false))
	ended.end()

	callTests := []struct {
		name string
		call func() js.Value
		want string
	}{
		{"sendText number", func() js.Value {
			return ssm().Call("sendText", s.handle, 42)
		}, "data must be a string or Uint8Array, got number"},
		{"sendText array", func() js.Value {
			return ssm().Call("sendText", s.handle, js.ValueOf([]any{1, 2}))
		}, "got array"},
		{"sendText unknown handle", func() js.Value {
			return ssm().Call("sendText", 99999, "x")
		}, "unknown session handle 99999"},
		{"sendText string handle", func() js.Value {
			return ssm().Call("sendText", "1", "x")
		}, "handle must be a session handle"},
		{"sendText closed session", func() js.Value {
			return ssm().Call("sendText", ended.handle, "x")
		}, "is closed"},
		{"resize zero", func() js.Value {
			return ssm().Call("resize", s.handle, 0, 24)
		}, "cols must be an integer from 1"},
		{"resize closed session", func() js.Value {
			return ssm().Call("resize", ended.handle, 80, 24)
		}, "is closed"},
		{"onData not a function", func() js.Value {
			return ssm().Call("onData", s.handle, "cb")
		}, "callback must be a function"},
		{"info unknown handle", func() js.Value {
			return ssm().Call("info", 0)
		}, "unknown session handle 0"},
	}
	for _, tt := range callTests {
		t.Run(tt.name, func(t *testing.T) {
			checkTypeError(t, tt.call(), tt.want)
		})
	}

	t.Run("closed unknown handle", func(t *testing.T) {
		_, reason := await(t, ssm().Call("closed", 12345))
		checkTypeError(t, reason, "unknown session handle 12345")
	})
}

func checkTypeError(t *testing.T, v js.Value, want string) {
	t.Helper()
	if v.Type() != js.TypeObject || !v.InstanceOf(js.Global().Get("TypeError")) {
		t.Fatalf("got %s, want a TypeError", errorText(v))
	}
	if msg := v.Get("message").String(); !strings.Contains(msg, want) {
		t.Errorf("TypeError message %q does not contain %q", msg, want)
	}
}

// TestModuleWrapsSessions loads ssm.js from the emulator, which serves
// dist/ in ./build.sh test, and drives a session through its objects.
func TestModuleWrapsSessions(t *testing.T) {
	module := importModule(t)
	client, reason := await(t, module.Call("load"))
	if !reason.IsUndefined() {
		t.Fatalf("load rejected: %s", errorText(reason))
	}

	info := newEmulatorSession(t, sessionRequest{
		SessionType: "NonInteractiveCommands", Command: "echo wrapped; exit 4"})
	sess, reason := await(t, client.Call("startSession",
		js.ValueOf(options(t, info, kmsNone, false))))
	if !reason.IsUndefined() {
		t.Fatalf("startSession rejected: %s", errorText(reason))
	}
	if got := sess.Get("sessionId").String(); got != info.SessionID {
		t.Errorf("session.sessionId = %q, want %q", got, info.SessionID)
	}

	var out []byte
	onData := js.FuncOf(func(_ js.Value, a []js.Value) any {
		p := make([]byte, a[0].Get("length").Int())
		js.CopyBytesToGo(p, a[0])
		out = append(out, p...)
		return nil
	})
	sub := sess.Call("onData", onData)

	catch := js.Global().Get("Function").New("s",
		"try { s.sendText(5); return null } catch (e) { return e }")
	checkTypeError(t, catch.Invoke(sess), "data must be a string or Uint8Array")

	r, reason := await(t, sess.Get("closed"))
	if !reason.IsUndefined() {
		t.Fatalf("session.closed rejected: %s", errorText(reason))
	}
	if code := r.Get("exitCode"); code.IsNull() || code.Int() != 4 {
		t.Errorf("closed.exitCode = %s, want 4", errorText(code))
	}
	if string(out) != "wrapped\n" {
		t.Errorf("onData got %d bytes, want the 8 bytes of output", len(out))
	}
	if got := sess.Get("state").String(); got != "closed" {
		t.Errorf("session.state = %q after closed, want closed", got)
	}
	sub.Call("dispose")
	sub.Call("dispose") // a second dispose does nothing
}

// importModule imports ssm.js from the emulator, which serves dist/ in
// ./build.sh test. Importing it installs globalThis.ssmWasmSupport, so
// the WebSockets that later tests open take the batched receive path.
func importModule(t *testing.T) js.Value {
	t.Helper()
	base := emulatorURL(t)
	importURL := js.Global().Get("Function").New("url", "return import(url)")
	module, reason := await(t, importURL.Invoke(base+"/ssm.js"))
	if !reason.IsUndefined() {
		t.Skipf("the emulator does not serve ssm.js (start it with -www dist): %s",
			errorText(reason))
	}
	return module
}

// TestSupportQueueByteExact streams 3.4 MB through the frame queue of
// ssm.js and checks that the bridge used it and its batch send.
func TestSupportQueueByteExact(t *testing.T) {
	importModule(t)
	support := js.Global().Get("ssmWasmSupport")
	if support.Type() != js.TypeObject {
		t.Fatalf("globalThis.ssmWasmSupport is %s after importing ssm.js, want an object",
			support.Type())
	}
	calls := map[string]int{}
	counting := map[string]any{}
	for _, name := range []string{"queueWebSocket", "sendFrames"} {
		f := js.FuncOf(func(_ js.Value, args []js.Value) any {
			calls[name]++
			return support.Call(name, args[0], args[1])
		})
		defer f.Release()
		counting[name] = f
	}
	js.Global().Set("ssmWasmSupport", counting)
	defer js.Global().Set("ssmWasmSupport", support)

	checkSeqOutput(t, 500000, nil, kmsNone, false)
	if calls["queueWebSocket"] == 0 {
		t.Error("the session's WebSocket did not use the frame queue of ssm.js")
	}
	if calls["sendFrames"] == 0 {
		t.Error("the session sent no batch of frames through ssm.js")
	}
}

// TestModuleKeptOutputAfterSubscribe checks that ssm.js hands kept output
// to a callback only once onData has returned, so the callback can dispose
// of its own subscription.
func TestModuleKeptOutputAfterSubscribe(t *testing.T) {
	module := importModule(t)
	client, reason := await(t, module.Call("load"))
	if !reason.IsUndefined() {
		t.Fatalf("load rejected: %s", errorText(reason))
	}
	info := newEmulatorSession(t, sessionRequest{
		SessionType: "NonInteractiveCommands", Command: "echo one; sleep 0.3; echo two"})
	sess, reason := await(t, client.Call("startSession",
		js.ValueOf(options(t, info, kmsNone, false))))
	if !reason.IsUndefined() {
		t.Fatalf("startSession rejected: %s", errorText(reason))
	}
	if _, reason := await(t, sess.Get("closed")); !reason.IsUndefined() {
		t.Fatalf("session.closed rejected: %s", errorText(reason))
	}

	disposeFirst := js.Global().Get("Function").New("s", `
		let calls = 0;
		const sub = s.onData(() => { calls++; sub.dispose(); });
		return new Promise((resolve) => setTimeout(() => resolve(calls), 50));`)
	calls, reason := await(t, disposeFirst.Invoke(sess))
	if !reason.IsUndefined() {
		t.Fatalf("subscribing threw: %s", errorText(reason))
	}
	if calls.Int() != 1 {
		t.Errorf("callback ran %d times after disposing of itself, want 1", calls.Int())
	}

	notFunction := js.Global().Get("Function").New("s",
		"try { s.onData(5); return null } catch (e) { return e }")
	checkTypeError(t, notFunction.Invoke(sess), "callback must be a function")
}

func TestPortSessionEchoesAndTerminates(t *testing.T) {
	info := newEmulatorSession(t, sessionRequest{SessionType: "Port"})
	s := start(t, options(t, info, kmsNone, false))

	if got := s.info().Get("sessionType").String(); got != "Port" {
		t.Errorf("info().sessionType = %q, want Port", got)
	}
	data := []byte{0, 1, 2, 0xfe, 0xff, 'p', 'o', 'r', 't'}
	s.send(toUint8Array(data))
	s.waitFor("the echoed bytes", func(out []byte) bool {
		return bytes.Equal(out, data)
	})

	ssm().Call("terminate", s.handle)
	if r := s.closed(); !r.clean {
		t.Errorf("closed: clean = false (reason %q), want true after terminate", r.reason)
	}
}
