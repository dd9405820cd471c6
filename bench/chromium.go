package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// chromiumPath is Debian's Chromium, which ./build.sh installs.
const chromiumPath = "/usr/bin/chromium"

// chromiumFlags are the flags every run uses. Headless Chromium needs the
// background flags on a machine without internet access, or its own
// connections fail. No DevTools client is attached, because one that
// subscribes to network events slows a page receiving many small
// WebSocket frames several times over.
var chromiumFlags = []string{
	"--headless",
	"--no-sandbox",
	"--disable-gpu",
	"--disable-quic",
	"--no-first-run",
	"--disable-background-networking",
	"--disable-component-update",
	"--disable-sync",
	"--enable-precise-memory-info",
	"--js-flags=--expose-gc",
}

// browser is one running Chromium process group.
type browser struct {
	cmd  *exec.Cmd
	log  *os.File
	done chan struct{}
}

// launchChromium starts Chromium on url with a fresh profile under dir,
// the common flags and extra, and its output in dir/chromium.log. Chromium
// runs in its own process group, so that kill ends its helper processes too.
func launchChromium(dir, url string, extra []string) (*browser, error) {
	profile := filepath.Join(dir, "profile")
	if err := os.MkdirAll(profile, 0o700); err != nil {
		return nil, fmt.Errorf("create chromium profile: %w", err)
	}
	logFile, err := os.Create(filepath.Join(dir, "chromium.log"))
	if err != nil {
		return nil, fmt.Errorf("create chromium log: %w", err)
	}
	args := append([]string{"--user-data-dir=" + profile}, chromiumFlags...)
	args = append(args, extra...)
	cmd := exec.Command(chromiumPath, append(args, url)...)
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start %s: %w", chromiumPath, err)
	}
	b := &browser{cmd: cmd, log: logFile, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(b.done)
	}()
	return b, nil
}

// PID returns the id of the browser process.
func (b *browser) PID() int { return b.cmd.Process.Pid }

// Exited returns a channel that is closed when the browser process ends.
func (b *browser) Exited() <-chan struct{} { return b.done }

// kill ends the browser's process group: SIGTERM first, SIGKILL after two
// seconds.
func (b *browser) kill() {
	defer b.log.Close()
	pgid := b.cmd.Process.Pid
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-b.done:
	case <-time.After(2 * time.Second):
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		<-b.done
	}
	// Helpers that outlived the browser process are still in the group.
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
}

// logTail returns the last lines of the browser's output, for errors.
func (b *browser) logTail() string {
	data, err := os.ReadFile(b.log.Name())
	if err != nil {
		return ""
	}
	var lines []string
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		// Headless Chromium on a machine without a D-Bus daemon logs
		// connection failures that do not affect the run.
		if !strings.Contains(line, "dbus/") {
			lines = append(lines, line)
		}
	}
	if len(lines) > 15 {
		lines = lines[len(lines)-15:]
	}
	return strings.Join(lines, "\n")
}

// chromiumVersion returns the output of chromium --version. Debian's
// launcher script writes shell noise to stderr, which is dropped.
func chromiumVersion(ctx context.Context) (string, error) {
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, chromiumPath, "--version")
	cmd.Stdout = &out
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("run %s --version: %w", chromiumPath, err)
	}
	v := strings.TrimSpace(out.String())
	if v == "" {
		return "", errors.New("chromium --version printed nothing")
	}
	return v, nil
}
