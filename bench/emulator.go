package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// emulatorProcess is the local Session Manager emulator, run as its own
// process so that its CPU use stays out of the runner's.
type emulatorProcess struct {
	cmd  *exec.Cmd
	url  string
	done chan struct{}
}

// sessionRequest is the body of POST /v1/sessions.
type sessionRequest struct {
	SessionType string  `json:"sessionType"`
	KMS         bool    `json:"kms,omitempty"`
	Source      *source `json:"source,omitempty"`
}

// source requests from the emulator's agent a stream of Output messages in
// place of a shell.
type source struct {
	Kind   string `json:"kind"` // "flood" or "window"
	Count  int    `json:"count"`
	Size   int    `json:"size"`
	Window int    `json:"window,omitempty"`
}

// sessionInfo is the emulator's response to POST /v1/sessions.
type sessionInfo struct {
	SessionID  string  `json:"SessionId"`
	StreamURL  string  `json:"StreamUrl"`
	TokenValue string  `json:"TokenValue"`
	Target     string  `json:"Target"`
	KMS        kmsInfo `json:"Kms"`
}

// kmsInfo locates the emulator's local KMS and its test credentials.
type kmsInfo struct {
	Region          string `json:"Region"`
	Endpoint        string `json:"Endpoint"`
	KeyID           string `json:"KeyId"`
	AccessKeyID     string `json:"AccessKeyId"`
	SecretAccessKey string `json:"SecretAccessKey"`
}

// startEmulator runs the emulator binary on a random loopback port. It
// stops by itself after lifetime even if the runner dies.
func startEmulator(binary string, lifetime time.Duration, logPath string) (*emulatorProcess, error) {
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("create emulator log: %w", err)
	}
	cmd := exec.Command(binary, "-listen", "127.0.0.1:0",
		"-exit-after", lifetime.String(), "-log-level", "warn")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("pipe emulator output: %w", err)
	}
	cmd.Stderr = logFile
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start emulator %s: %w", binary, err)
	}
	e := &emulatorProcess{cmd: cmd, done: make(chan struct{})}
	ready := make(chan string, 1)
	go e.readOutput(stdout, logFile, ready)
	go func() {
		_ = cmd.Wait()
		logFile.Close()
		close(e.done)
	}()

	select {
	case e.url = <-ready:
		return e, nil
	case <-e.done:
		return nil, fmt.Errorf("emulator exited before it was ready; see %s", logPath)
	case <-time.After(30 * time.Second):
		e.stop()
		return nil, fmt.Errorf("emulator not ready after 30s; see %s", logPath)
	}
}

// readOutput sends the URL from the emulator's ready line and copies the
// rest of its output to the log.
func (e *emulatorProcess) readOutput(r io.Reader, log io.Writer, ready chan<- string) {
	const prefix = "ssm-emulator listening on "
	scanner := bufio.NewScanner(r)
	for scanner.Scan() {
		line := scanner.Text()
		if rest, ok := strings.CutPrefix(line, prefix); ok {
			fields := strings.Fields(rest)
			if len(fields) > 0 {
				select {
				case ready <- fields[0]:
				default:
				}
			}
		}
		fmt.Fprintln(log, line)
	}
}

// stop ends the emulator with SIGTERM, then SIGKILL after five seconds.
func (e *emulatorProcess) stop() {
	_ = e.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-e.done:
	case <-time.After(5 * time.Second):
		_ = e.cmd.Process.Kill()
		<-e.done
	}
}

// newSession creates a session through the emulator's HTTP API.
func (e *emulatorProcess) newSession(ctx context.Context, req sessionRequest) (sessionInfo, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return sessionInfo{}, fmt.Errorf("encode session request: %w", err)
	}
	httpReq, err := http.NewRequestWithContext(ctx, http.MethodPost,
		e.url+"/v1/sessions", bytes.NewReader(body))
	if err != nil {
		return sessionInfo{}, fmt.Errorf("create session request: %w", err)
	}
	httpReq.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(httpReq)
	if err != nil {
		return sessionInfo{}, fmt.Errorf("create emulator session: %w", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return sessionInfo{}, fmt.Errorf("read emulator session: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return sessionInfo{}, fmt.Errorf("create emulator session: HTTP %d: %s",
			resp.StatusCode, strings.TrimSpace(string(data)))
	}
	var info sessionInfo
	if err := json.Unmarshal(data, &info); err != nil {
		return sessionInfo{}, fmt.Errorf("decode emulator session: %w", err)
	}
	return info, nil
}
