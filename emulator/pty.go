//go:build !js

package emulator

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/creack/pty"
	"github.com/ssmwasm/ssm.wasm/protocol"
	"golang.org/x/sys/unix"
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
	a   *agent
	cmd *exec.Cmd
	// control is the terminal's master as pty.Start returned it, kept open
	// for resizing through controlFD. Its Fd method is never called again,
	// because that would make the shared file description blocking.
	control   *os.File
	controlFD int
	// pty is a non-blocking duplicate of the master, so that a read
	// deadline can end a read that background jobs would keep waiting.
	pty      *os.File
	exited   atomic.Bool // the process has exited
	input    chan []byte
	done     chan struct{}
	stopOnce sync.Once
}

// startPTYPlugin starts argv in a new pseudo-terminal of 80x24.
func startPTYPlugin(a *agent, argv []string) (*ptyPlugin, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = sessionEnv()
	control, err := pty.StartWithSize(cmd, &pty.Winsize{Cols: 80, Rows: 24})
	if err != nil {
		return nil, fmt.Errorf("start %s in a pty: %w", argv[0], err)
	}
	p := &ptyPlugin{a: a, cmd: cmd, control: control, controlFD: int(control.Fd()),
		input: make(chan []byte, inputQueueSize), done: make(chan struct{})}
	if p.pty, err = nonBlockingDup(p.controlFD); err != nil {
		p.stop()
		return nil, fmt.Errorf("start %s in a pty: %w", argv[0], err)
	}
	go p.writeInput()
	a.log.Info("pty process started", "command", argv[0], "pid", cmd.Process.Pid)
	return p, nil
}

// nonBlockingDup duplicates fd in non-blocking mode as a file that supports
// deadlines.
func nonBlockingDup(fd int) (*os.File, error) {
	dup, err := unix.Dup(fd)
	if err != nil {
		return nil, fmt.Errorf("duplicate pty: %w", err)
	}
	if err := unix.SetNonblock(dup, true); err != nil {
		unix.Close(dup)
		return nil, fmt.Errorf("duplicate pty: %w", err)
	}
	return os.NewFile(uintptr(dup), "/dev/ptmx"), nil
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
		ws := &unix.Winsize{Col: uint16(size.Cols), Row: uint16(size.Rows)}
		if err := unix.IoctlSetWinsize(p.controlFD, unix.TIOCSWINSZ, ws); err != nil {
			return fmt.Errorf("resize pty to %dx%d: %w", size.Cols, size.Rows, err)
		}
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

// exitGrace is how long a read of the terminal may wait once the pty's
// process has exited. Background jobs may keep the terminal open; they do
// not keep the session alive.
const exitGrace = 200 * time.Millisecond

// run sends pty output until the process exits and its output is read.
func (p *ptyPlugin) run() {
	defer p.stop()
	go p.waitExit()
	var chunker utf8Chunker
	buf := make([]byte, maxPayload)
	for {
		if p.exited.Load() {
			// Time spent sending does not count against the grace.
			p.pty.SetReadDeadline(time.Now().Add(exitGrace))
		}
		n, err := p.pty.Read(buf[:chunker.readSize()])
		if n > 0 {
			if out := chunker.next(buf[:n]); len(out) > 0 {
				if p.a.send(protocol.PayloadOutput, out, outputWindow) != nil {
					return
				}
			}
		}
		if err != nil { // EIO once no process holds the terminal, or the deadline
			break
		}
	}
	if rest := chunker.flush(); len(rest) > 0 {
		p.a.send(protocol.PayloadOutput, rest, outputWindow)
	}
}

// waitExit waits for the process, then bounds the read in progress.
func (p *ptyPlugin) waitExit() {
	err := p.cmd.Wait()
	p.a.log.Info("pty process exited", "error", err)
	p.exited.Store(true)
	p.pty.SetReadDeadline(time.Now().Add(exitGrace))
}

// stop kills the process group and closes the terminal.
func (p *ptyPlugin) stop() {
	p.stopOnce.Do(func() {
		close(p.done)
		syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		if p.pty != nil {
			p.pty.Close()
		}
		p.control.Close()
	})
}
