//go:build !js

package emulator

import (
	"errors"
	"fmt"
	"io"
	"os/exec"
	"sync"
	"syscall"

	"github.com/ssmwasm/ssm.wasm/protocol"
)

// commandPlugin runs a NonInteractiveCommands command without a terminal:
// stdout goes out as Output, stderr as StdErr, then the exit code.
type commandPlugin struct {
	a        *agent
	cmd      *exec.Cmd
	stdout   io.ReadCloser
	stderr   io.ReadCloser
	stopOnce sync.Once
}

// startCommandPlugin starts command with sh -c in its own process group.
func startCommandPlugin(a *agent, command string) (*commandPlugin, error) {
	cmd := exec.Command("sh", "-c", command)
	cmd.Env = sessionEnv()
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	p := &commandPlugin{a: a, cmd: cmd}
	var err error
	if p.stdout, err = cmd.StdoutPipe(); err != nil {
		return nil, fmt.Errorf("start command: %w", err)
	}
	if p.stderr, err = cmd.StderrPipe(); err != nil {
		return nil, fmt.Errorf("start command: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start command: %w", err)
	}
	a.log.Info("command started", "pid", cmd.Process.Pid)
	return p, nil
}

// accept turns the bytes 0x03 and 0x1C of client input into SIGINT and
// SIGQUIT for the command's process group and ignores everything else, as
// the agent does on Linux.
func (p *commandPlugin) accept(payloadType protocol.PayloadType, payload []byte) error {
	if payloadType != protocol.PayloadOutput {
		return nil
	}
	for _, b := range payload {
		switch b {
		case 0x03:
			syscall.Kill(-p.cmd.Process.Pid, syscall.SIGINT)
		case 0x1c:
			syscall.Kill(-p.cmd.Process.Pid, syscall.SIGQUIT)
		}
	}
	return nil
}

// run streams both outputs, waits for the command and sends its exit code
// as "EXIT_CODE: n". A command killed by a signal reports 128 plus the
// signal number, as shells do.
func (p *commandPlugin) run() {
	var wg sync.WaitGroup
	wg.Add(2)
	go p.stream(&wg, p.stdout, protocol.PayloadOutput)
	go p.stream(&wg, p.stderr, protocol.PayloadStdErr)
	wg.Wait()
	code := exitCode(p.cmd.Wait())
	p.a.log.Info("command exited", "exitCode", code)
	p.a.send(protocol.PayloadExitCode, fmt.Appendf(nil, "EXIT_CODE: %d", code), outputWindow)
}

// stream sends one pipe's content as payloads of one type.
func (p *commandPlugin) stream(wg *sync.WaitGroup, r io.Reader, payloadType protocol.PayloadType) {
	defer wg.Done()
	var chunker utf8Chunker
	buf := make([]byte, maxPayload)
	for {
		n, err := r.Read(buf[:chunker.readSize()])
		if n > 0 {
			if out := chunker.next(buf[:n]); len(out) > 0 {
				if p.a.send(payloadType, out, outputWindow) != nil {
					return
				}
			}
		}
		if err != nil {
			break
		}
	}
	if rest := chunker.flush(); len(rest) > 0 {
		p.a.send(payloadType, rest, outputWindow)
	}
}

// exitCode converts the result of Wait to a shell-style exit status.
func exitCode(err error) int {
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) {
		if err != nil {
			return -1
		}
		return 0
	}
	if status, ok := exitErr.Sys().(syscall.WaitStatus); ok && status.Signaled() {
		return 128 + int(status.Signal())
	}
	return exitErr.ExitCode()
}

// stop kills the command's process group.
func (p *commandPlugin) stop() {
	p.stopOnce.Do(func() {
		syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	})
}
