//go:build !js

package emulator

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"syscall"

	"github.com/creack/pty"
	"github.com/ssmwasm/ssm.wasm/protocol"
)

// inputQueueSize is how many client payloads a plugin queues before it
// reports errNotReady.
const inputQueueSize = 256

// shellCommand returns the interactive shell of Standard_Stream sessions:
// bash without startup files, else sh.
func shellCommand() []string {
	if path, err := exec.LookPath("bash"); err == nil {
		return []string{path, "--noprofile", "--norc", "-i"}
	}
	return []string{"sh", "-i"}
}

// sessionEnv returns the environment of session processes: the server's,
// with TERM=xterm-256color, LANG=C.UTF-8 when LANG is unset, the prompt "$ "
// and no shell history file.
func sessionEnv() []string {
	env := append(os.Environ(), "TERM=xterm-256color", "PS1=$ ", "HISTFILE=/dev/null")
	if os.Getenv("LANG") == "" {
		env = append(env, "LANG=C.UTF-8")
	}
	return env
}

// ptyPlugin runs a shell or one command in a pseudo-terminal.
type ptyPlugin struct {
	a        *agent
	cmd      *exec.Cmd
	pty      *os.File
	input    chan []byte
	done     chan struct{}
	stopOnce sync.Once
}

// startPTYPlugin starts argv in a new pseudo-terminal of 80x24.
func startPTYPlugin(a *agent, argv []string) (*ptyPlugin, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = sessionEnv()
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Cols: 80, Rows: 24})
	if err != nil {
		return nil, fmt.Errorf("start %s in a pty: %w", argv[0], err)
	}
	p := &ptyPlugin{a: a, cmd: cmd, pty: f, input: make(chan []byte, inputQueueSize),
		done: make(chan struct{})}
	go p.writeInput()
	a.log.Info("pty process started", "command", argv[0], "pid", cmd.Process.Pid)
	return p, nil
}

// accept queues keystrokes for the pty and applies Size at once. Flags are
// ignored, as shells ignore them.
func (p *ptyPlugin) accept(payloadType protocol.PayloadType, payload []byte) error {
	switch payloadType {
	case protocol.PayloadOutput:
		select {
		case p.input <- payload:
			return nil
		default:
			return errNotReady
		}
	case protocol.PayloadSize:
		var size protocol.SizeData
		if err := json.Unmarshal(payload, &size); err != nil {
			// The JSON error quotes input bytes, so it is not wrapped.
			return fmt.Errorf("invalid Size payload of %d bytes", len(payload))
		}
		return pty.Setsize(p.pty, &pty.Winsize{Cols: uint16(size.Cols), Rows: uint16(size.Rows)})
	}
	return nil
}

// writeInput copies queued client input into the pty.
func (p *ptyPlugin) writeInput() {
	for {
		select {
		case b := <-p.input:
			if _, err := p.pty.Write(b); err != nil {
				return
			}
		case <-p.done:
			return
		}
	}
}

// run sends pty output until the process exits and its output is read.
func (p *ptyPlugin) run() {
	defer p.stop()
	var chunker utf8Chunker
	buf := make([]byte, maxPayload)
	for {
		n, err := p.pty.Read(buf[:chunker.readSize()])
		if n > 0 {
			if out := chunker.next(buf[:n]); len(out) > 0 {
				if p.a.send(protocol.PayloadOutput, out, outputWindow) != nil {
					return
				}
			}
		}
		if err != nil { // EIO once the last process holding the terminal exits
			break
		}
	}
	if rest := chunker.flush(); len(rest) > 0 {
		p.a.send(protocol.PayloadOutput, rest, outputWindow)
	}
	err := p.cmd.Wait()
	p.a.log.Info("pty process exited", "error", err)
}

// stop kills the process group and closes the pty.
func (p *ptyPlugin) stop() {
	p.stopOnce.Do(func() {
		close(p.done)
		syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		p.pty.Close()
	})
}
