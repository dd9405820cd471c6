//go:build !js

package emulator

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"math/rand"
	"sync"
	"testing"
	"time"

	"github.com/ssmwasm/ssm.wasm/protocol"
	"github.com/ssmwasm/ssm.wasm/protocol/awskms"
)

// e2eTimeout bounds each wait of an end-to-end test.
const e2eTimeout = 60 * time.Second

// e2eClient is a native protocol.Session on a real loopback WebSocket, with
// everything it received. Failure messages report sizes and hashes, never
// terminal content.
type e2eClient struct {
	t    *testing.T
	sess *protocol.Session

	mu         sync.Mutex
	out        bytes.Buffer
	stderr     bytes.Buffer
	payloads   [][]byte // every Output payload
	reconnects int
	changed    chan struct{} // closed and replaced on every change
}

// clientOption adjusts the client configuration of a test.
type clientOption func(*protocol.Config)

func withResumeBudget(d time.Duration) clientOption {
	return func(c *protocol.Config) { c.ResumeBudget = d }
}

func withSize(cols, rows int) clientOption {
	return func(c *protocol.Config) { c.Cols, c.Rows = cols, rows }
}

func requireEncryption(c *protocol.Config) { c.RequireEncryption = true }

func withoutResume(c *protocol.Config) { c.Resume = nil }

// clientConfig returns the configuration of a session on s, resuming
// through s.Resume and taking data keys from the local KMS.
func clientConfig(t *testing.T, s *Server, info SessionInfo, c *e2eClient) protocol.Config {
	t.Helper()
	keys, err := awskms.New(awskms.Options{Region: info.KMS.Region, Endpoint: info.KMS.Endpoint,
		AccessKeyID: info.KMS.AccessKeyID, SecretAccessKey: info.KMS.SecretAccessKey})
	if err != nil {
		t.Fatalf("key provider: %v", err)
	}
	return protocol.Config{
		StreamURL:   info.StreamURL,
		TokenValue:  info.TokenValue,
		SessionID:   info.SessionID,
		TargetID:    info.Target,
		Dial:        protocol.DialWebSocket,
		KeyProvider: keys,
		Resume: func(ctx context.Context) (protocol.ResumeResult, error) {
			r, err := s.Resume(info.SessionID)
			return protocol.ResumeResult{StreamURL: r.StreamURL, TokenValue: r.TokenValue}, err
		},
		OnOutput: c.onOutput,
		OnStderr: c.onStderr,
		OnState:  c.onState,
		Logger:   testLogger(),
	}
}

// openClient opens a client session and closes it when the test ends.
func openClient(t *testing.T, s *Server, info SessionInfo, opts ...clientOption) *e2eClient {
	t.Helper()
	c, err := tryOpenClient(t, s, info, opts...)
	if err != nil {
		t.Fatalf("open session: %v", err)
	}
	return c
}

// tryOpenClient opens a client session and returns the error of Open.
func tryOpenClient(t *testing.T, s *Server, info SessionInfo,
	opts ...clientOption) (*e2eClient, error) {
	t.Helper()
	c := &e2eClient{t: t, changed: make(chan struct{})}
	cfg := clientConfig(t, s, info, c)
	for _, o := range opts {
		o(&cfg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), e2eTimeout)
	defer cancel()
	sess, err := protocol.Open(ctx, cfg)
	if err != nil {
		return nil, err
	}
	c.sess = sess
	t.Cleanup(func() { sess.Close() })
	return c, nil
}

func (c *e2eClient) onOutput(p []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.out.Write(p)
	c.payloads = append(c.payloads, p)
	c.notifyLocked()
}

func (c *e2eClient) onStderr(p []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stderr.Write(p)
	c.notifyLocked()
}

func (c *e2eClient) onState(sc protocol.StateChange) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if sc.State == protocol.StateReconnecting && sc.Attempt == 1 {
		c.reconnects++
	}
	c.notifyLocked()
}

func (c *e2eClient) notifyLocked() {
	close(c.changed)
	c.changed = make(chan struct{})
}

// waitFor waits until cond, called with the lock held, is true.
func (c *e2eClient) waitFor(what string, cond func() bool) {
	c.t.Helper()
	deadline := time.After(e2eTimeout)
	for {
		c.mu.Lock()
		ok, changed := cond(), c.changed
		c.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-changed:
		case <-c.sess.Done():
			c.mu.Lock()
			ok = cond()
			c.mu.Unlock()
			if !ok {
				c.t.Fatalf("session ended while waiting for %s: %+v (output %d bytes)",
					what, c.sess.Result(), c.outputLen())
			}
			return
		case <-deadline:
			c.t.Fatalf("timed out waiting for %s (output %d bytes)", what, c.outputLen())
		}
	}
}

// waitOutput waits until the output contains want.
func (c *e2eClient) waitOutput(want string) {
	c.t.Helper()
	c.waitFor("output marker", func() bool { return bytes.Contains(c.out.Bytes(), []byte(want)) })
}

func (c *e2eClient) outputLen() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.out.Len()
}

// output returns a copy of everything received as Output.
func (c *e2eClient) output() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return bytes.Clone(c.out.Bytes())
}

// write sends p, retrying while the client's outgoing buffer is full.
func (c *e2eClient) write(p []byte) {
	c.t.Helper()
	const piece = 64 << 10
	for len(p) > 0 {
		n := min(piece, len(p))
		_, err := c.sess.Write(p[:n])
		if errors.Is(err, protocol.ErrBufferFull) {
			time.Sleep(5 * time.Millisecond) // the agent has not acknowledged enough yet
			continue
		}
		if err != nil {
			c.t.Fatalf("write: %v", err)
		}
		p = p[n:]
	}
}

// waitEnd waits for the end of the session and returns its result.
func (c *e2eClient) waitEnd() protocol.Result {
	c.t.Helper()
	select {
	case <-c.sess.Done():
		return c.sess.Result()
	case <-time.After(e2eTimeout):
		c.t.Fatalf("session did not end")
		return protocol.Result{}
	}
}

// randomBytes returns n deterministic pseudo-random bytes.
func randomBytes(seed int64, n int) []byte {
	b := make([]byte, n)
	rand.New(rand.NewSource(seed)).Read(b)
	return b
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
