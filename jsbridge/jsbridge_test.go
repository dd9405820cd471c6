//go:build js && wasm

package jsbridge

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"strings"
	"syscall/js"
	"testing"
	"time"

	"github.com/ssmwasm/ssm.wasm/protocol"
)

// waitLimit bounds each wait for the emulator so that a hung test fails.
// It measures nothing.
const waitLimit = 30 * time.Second

// newStream creates a plaintext shell session on the emulator named by
// SSM_EMULATOR_URL and returns its StreamUrl and TokenValue.
func newStream(t *testing.T) (streamURL, token string) {
	t.Helper()
	base := os.Getenv("SSM_EMULATOR_URL")
	if base == "" {
		t.Skip("SSM_EMULATOR_URL is not set; ./build.sh test starts an emulator")
	}
	resp, err := (&http.Client{}).Post(base+"/v1/sessions", "application/json",
		strings.NewReader(`{"sessionType":"Standard_Stream"}`))
	if err != nil {
		t.Fatalf("create emulator session: %v", err)
	}
	defer resp.Body.Close()
	var info struct{ StreamUrl, TokenValue string }
	if err := json.NewDecoder(resp.Body).Decode(&info); err != nil {
		t.Fatalf("decode emulator session: %v", err)
	}
	return info.StreamUrl, info.TokenValue
}

func dial(t *testing.T, url string) protocol.Transport {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	tr, err := Dial(ctx, url)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { tr.Close(1000, "") })
	return tr
}

func receive(t *testing.T, tr protocol.Transport) (protocol.FrameKind, []byte, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	return tr.Receive(ctx)
}

func TestDialRejectsInvalidURL(t *testing.T) {
	for _, url := range []string{"not a url", "ftp://127.0.0.1/x"} {
		t.Run(url, func(t *testing.T) {
			_, err := Dial(context.Background(), url)
			if err == nil {
				t.Fatalf("Dial(%q) succeeded, want an error", url)
			}
			if !strings.HasPrefix(err.Error(), "open websocket: ") {
				t.Errorf("error %q lacks the operation", err)
			}
		})
	}
}

func TestReceiveReturnsPeerClose(t *testing.T) {
	url, _ := newStream(t)
	tr := dial(t, url)

	if err := tr.Send(context.Background(), protocol.FrameText, []byte("{}")); err != nil {
		t.Fatalf("Send: %v", err)
	}
	_, _, err := receive(t, tr)
	var ce *protocol.CloseError
	if !errors.As(err, &ce) {
		t.Fatalf("Receive error = %v, want a *protocol.CloseError", err)
	}
	if ce.Code != 1003 {
		t.Errorf("close code = %d, want 1003 for an invalid open message", ce.Code)
	}
	if ce.Reason == "" {
		t.Error("close reason is empty, want the emulator's reason")
	}

	// Later calls report the same end instead of blocking.
	if _, _, err2 := receive(t, tr); !errors.As(err2, &ce) {
		t.Errorf("second Receive error = %v, want the close again", err2)
	}
}

// TestReceiveFramesIntact opens the data channel and checks the SHA-256
// digest of the agent's first message, which covers its payload bytes.
func TestReceiveFramesIntact(t *testing.T) {
	url, token := newStream(t)
	tr := dial(t, url)

	open, err := json.Marshal(protocol.OpenDataChannelInput{
		MessageSchemaVersion: "1.0",
		RequestId:            protocol.NewUUID().String(),
		TokenValue:           token,
		ClientId:             protocol.NewUUID().String(),
		ClientVersion:        protocol.DefaultClientVersion,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Send(context.Background(), protocol.FrameText, open); err != nil {
		t.Fatalf("Send: %v", err)
	}

	kind, frame, err := receive(t, tr)
	if err != nil {
		t.Fatalf("Receive: %v", err)
	}
	if kind != protocol.FrameBinary {
		t.Errorf("frame kind = %d, want binary", kind)
	}
	m, err := protocol.Unmarshal(frame)
	if err != nil {
		t.Fatalf("Unmarshal: %v", err)
	}
	if err := m.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
}

func TestCloseRejectsReservedCodes(t *testing.T) {
	url, _ := newStream(t)
	tr := dial(t, url)

	for _, code := range []int{1001, 1006, 1011, 2999, 5000} {
		if err := tr.Close(code, ""); err == nil {
			t.Errorf("Close(%d) succeeded, want an error", code)
		}
	}
	if err := tr.Close(4000, strings.Repeat("é", 100)); err != nil {
		t.Errorf("Close(4000) with a long reason: %v", err)
	}
	if err := tr.Send(context.Background(), protocol.FrameBinary, []byte{1}); err == nil {
		t.Error("Send after Close succeeded, want an error")
	}
}

func TestTruncateUTF8(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{"abc", 5, "abc"},
		{"abcdef", 3, "abc"},
		{"aé", 2, "a"}, // é is two bytes
		{"aé", 3, "aé"},
		{"€€", 4, "€"}, // € is three bytes
	}
	for _, tt := range tests {
		if got := truncateUTF8(tt.in, tt.n); got != tt.want {
			t.Errorf("truncateUTF8(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
		}
	}
}

// jsFunction compiles a JavaScript function for a test.
func jsFunction(params, body string) js.Value {
	return js.Global().Get("Function").New(params, body)
}

func TestCallbackKeyProvider(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		wantErr string
	}{
		{"promise of Uint8Arrays", `return Promise.resolve({
			plaintext: new Uint8Array(req.numberOfBytes).fill(7),
			ciphertextBlob: new Uint8Array([1, 2, 3])})`, ""},
		{"plain object of ArrayBuffers", `return {
			plaintext: new Uint8Array(req.numberOfBytes).fill(7).buffer,
			ciphertextBlob: new Uint8Array([1, 2, 3]).buffer}`, ""},
		{"throws", `throw new RangeError("no key")`, "RangeError: no key"},
		{"rejects", `return Promise.reject(new Error("denied"))`, "denied"},
		{"not an object", `return 42`, "result must be an object"},
		{"no plaintext", `return {ciphertextBlob: new Uint8Array(1)}`,
			"result.plaintext must be a Uint8Array, got undefined"},
		{"string blob", `return {plaintext: new Uint8Array(64), ciphertextBlob: "x"}`,
			"result.ciphertextBlob must be a Uint8Array, got string"},
	}
	req := protocol.DataKeyRequest{
		KeyID:             "key-1",
		EncryptionContext: map[string]string{"aws:ssm:SessionId": "s-1"},
		NumberOfBytes:     64,
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := callbackKeyProvider{fn: jsFunction("req", tt.body)}
			ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
			defer cancel()
			key, err := p.GenerateDataKey(ctx, req)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("GenerateDataKey error = %v, want one containing %q",
						err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("GenerateDataKey: %v", err)
			}
			if !bytes.Equal(key.Plaintext, bytes.Repeat([]byte{7}, 64)) {
				t.Errorf("plaintext has %d bytes, want 64 bytes of 7", len(key.Plaintext))
			}
			if !bytes.Equal(key.CiphertextBlob, []byte{1, 2, 3}) {
				t.Errorf("ciphertextBlob = %v, want [1 2 3]", key.CiphertextBlob)
			}
		})
	}
}

func TestCallbackKeyProviderRequest(t *testing.T) {
	var got js.Value
	record := js.FuncOf(func(_ js.Value, args []js.Value) any {
		got = args[0]
		return js.ValueOf(map[string]any{
			"plaintext":      bytesToJS(make([]byte, 64)),
			"ciphertextBlob": bytesToJS([]byte{1}),
		})
	})
	defer record.Release()

	p := callbackKeyProvider{fn: record.Value}
	_, err := p.GenerateDataKey(context.Background(), protocol.DataKeyRequest{
		KeyID:             "alias/ssm",
		EncryptionContext: map[string]string{"aws:ssm:TargetId": "i-1"},
		NumberOfBytes:     64,
	})
	if err != nil {
		t.Fatalf("GenerateDataKey: %v", err)
	}
	if k := got.Get("keyId").String(); k != "alias/ssm" {
		t.Errorf("request.keyId = %q, want alias/ssm", k)
	}
	if n := got.Get("numberOfBytes").Int(); n != 64 {
		t.Errorf("request.numberOfBytes = %d, want 64", n)
	}
	if v := got.Get("encryptionContext").Get("aws:ssm:TargetId").String(); v != "i-1" {
		t.Errorf("request.encryptionContext[aws:ssm:TargetId] = %q, want i-1", v)
	}
}

func TestAwaitStopsAtContextEnd(t *testing.T) {
	never := jsPromise.New(jsFunction("resolve", ""))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := await(ctx, never); !errors.Is(err, context.Canceled) {
		t.Errorf("await error = %v, want context.Canceled", err)
	}
}

func TestParseLevel(t *testing.T) {
	for _, name := range []string{"debug", "info", "warn", "error", "off"} {
		if _, ok := parseLevel(name); !ok {
			t.Errorf("parseLevel(%q) failed", name)
		}
	}
	for _, name := range []string{"", "INFO", "trace"} {
		if _, ok := parseLevel(name); ok {
			t.Errorf("parseLevel(%q) succeeded, want failure", name)
		}
	}
}
