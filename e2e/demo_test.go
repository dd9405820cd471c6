//go:build !js

// Package e2e tests the demo page as a person uses it. The emulator serves
// dist/ (built by ./build.sh) as ./build.sh serve does. Headless Chromium
// opens the page, keys go into the xterm.js terminal, and the result is
// read back from the terminal. Screenshots go to e2e/artifacts/ (or the
// directory in SSM_ARTIFACTS) for people to look at.
package e2e

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/ssmwasm/ssm.wasm/emulator"
)

// waitLimit bounds each wait for the page so that a hung test fails. It
// measures nothing.
const waitLimit = 60 * time.Second

// skipOrFail skips a test that lacks a prerequisite on a developer's
// machine and fails it in CI, where ./build.sh test provides everything.
func skipOrFail(t *testing.T, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf(format, args...)
	}
	t.Skipf(format, args...)
}

// startServer serves dist/ with the emulator on a free loopback port.
func startServer(t *testing.T) *emulator.Server {
	t.Helper()
	dist, err := filepath.Abs(filepath.Join("..", "dist"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dist, "ssm.wasm")); err != nil {
		skipOrFail(t, "dist/ssm.wasm is missing; run ./build.sh first")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	t.Cleanup(cancel)
	srv, err := emulator.Start(ctx, emulator.Options{Addr: "127.0.0.1:0", WWW: dist})
	if err != nil {
		t.Fatalf("start emulator: %v", err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

// newBrowser starts headless Chromium with a fresh profile. The flags keep
// it from reaching any host but the page's.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	path, err := exec.LookPath("/usr/bin/chromium")
	if err != nil {
		skipOrFail(t, "Chromium is missing: /usr/bin/chromium not found "+
			"(./build.sh test installs Debian's chromium)")
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.WindowSize(1200, 900),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 3*time.Minute)
	problems := collectConsoleProblems(ctx)
	t.Cleanup(func() {
		cancelTimeout()
		cancelCtx()
		cancelAlloc()
		if t.Failed() {
			for _, p := range problems() {
				t.Logf("page console: %s", p)
			}
		}
	})
	return ctx
}

// collectConsoleProblems records the page's console warnings, errors and
// uncaught exceptions, which the page's logger keeps free of terminal
// content, and returns a function that lists them.
func collectConsoleProblems(ctx context.Context) func() []string {
	var mu sync.Mutex
	var problems []string
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			switch m.Type {
			case chromedp.ConsoleWarning, chromedp.ConsoleError, chromedp.ConsoleException:
				mu.Lock()
				problems = append(problems, fmt.Sprintf("%s: %s", m.Type, m.Text))
				mu.Unlock()
			}
		}
	}()
	return func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(problems)
	}
}

// pollTrue waits until the JavaScript expression is true on the page.
func pollTrue(t *testing.T, ctx context.Context, what, expr string) {
	t.Helper()
	_, err := chromedp.Run(ctx, chromedp.Poll[bool](expr,
		chromedp.WithPollingInterval(50*time.Millisecond),
		chromedp.WithPollingTimeout(waitLimit)))
	if err != nil {
		screenshot(t, ctx, "failed-"+strings.ReplaceAll(t.Name(), "/", "-"))
		t.Fatalf("waiting for %s: %v", what, err)
	}
}

func evaluate[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// typeLine focuses the first terminal, inserts text as an input method
// would, and presses Enter. chromedp's KeyEvent sends a char event after
// each keyDown, and xterm.js 6 on Chromium 156 then handles both and types
// every character twice; Input.insertText and a bare keyDown of Enter
// each reach it once.
func typeLine(t *testing.T, ctx context.Context, text string) {
	t.Helper()
	terminalInput := chromedp.CSS(".terminal-panel .xterm-helper-textarea")
	enter := input.DispatchKeyEventParams{Key: "Enter", Code: "Enter",
		WindowsVirtualKeyCode: 13, NativeVirtualKeyCode: 13, Text: "\r"}
	err := chromedp.Do(ctx,
		chromedp.Focus(terminalInput),
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, input.InsertText, input.InsertTextParams{Text: text})
			if err != nil {
				return err
			}
			enter.Type = input.DispatchKeyEventTypeKeyDown
			if _, err := cdp.Call(ctx, tg, input.DispatchKeyEvent, enter); err != nil {
				return err
			}
			enter.Type, enter.Text = input.DispatchKeyEventTypeKeyUp, ""
			_, err = cdp.Call(ctx, tg, input.DispatchKeyEvent, enter)
			return err
		}))
	if err != nil {
		t.Fatalf("type into the terminal: %v", err)
	}
}

// screenshot saves the page as a PNG for people to look at.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("SSM_ARTIFACTS")
	if dir == "" {
		dir = "artifacts"
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Errorf("screenshot: %v", err)
		return
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Errorf("screenshot: %v", err)
		return
	}
	path := filepath.Join(dir, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Errorf("screenshot: %v", err)
		return
	}
	t.Logf("screenshot: %s", path)
}

// The expressions below read the demo page's window.ssmDemo hook.
const (
	firstTerminal = "window.ssmDemo && window.ssmDemo.terminals[0]"
	// answerShown is true when the terminal has a line that is only "42":
	// the echoed command contains the expression, not its value.
	answerShown = firstTerminal + ` && ` + firstTerminal +
		`.text().split("\n").some((line) => line.trim() === "42")`
	// screenShowsAnswer reads xterm's rendered rows in the DOM.
	screenShowsAnswer = `[...document.querySelectorAll(".terminal-panel .xterm-rows > div")]` +
		`.some((row) => row.textContent.trim() === "42")`
)

func TestDemoShellWithKMS(t *testing.T) {
	srv := startServer(t)
	ctx := newBrowser(t)

	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL()+"/")); err != nil {
		t.Fatalf("open the demo page: %v", err)
	}
	pollTrue(t, ctx, "the session to open",
		firstTerminal+` && `+firstTerminal+`.state === "open"`)

	status := evaluate[string](t, ctx, firstTerminal+".status()")
	if !strings.Contains(status, "encrypted with KMS") {
		t.Errorf("status line %q does not say the session is encrypted", status)
	}

	typeLine(t, ctx, "echo $((6*7))")
	pollTrue(t, ctx, "the answer 42 in the terminal buffer", answerShown)
	pollTrue(t, ctx, "the answer 42 on the rendered screen", screenShowsAnswer)
	screenshot(t, ctx, "demo-kms")

	err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("second-terminal")))
	if err != nil {
		t.Fatalf("click the second terminal button: %v", err)
	}
	pollTrue(t, ctx, "a second session to open", `window.ssmDemo.terminals.length === 2 && `+
		`window.ssmDemo.terminals[1].state === "open"`)
	closeSecond := chromedp.JSPath(`document.querySelectorAll(".terminal-panel button")[1]`)
	if err := chromedp.Do(ctx, chromedp.Click(closeSecond)); err != nil {
		t.Fatalf("click the second terminal's Close button: %v", err)
	}
	pollTrue(t, ctx, "the second session to close",
		`window.ssmDemo.terminals[1].state === "closed"`)

	typeLine(t, ctx, "exit")
	pollTrue(t, ctx, "the session to close", firstTerminal+`.state === "closed"`)
	status = evaluate[string](t, ctx, firstTerminal+".status()")
	if !strings.Contains(status, "closed") {
		t.Errorf("status line %q does not report the close", status)
	}
}

func TestDemoReconnectsAfterDrop(t *testing.T) {
	srv := startServer(t)
	ctx := newBrowser(t)

	// The typed text and the Enter key are one input message each; the
	// emulator drops the socket when each of them arrives.
	faults := `[{"kind":"drop-socket","at":"paste","every":1,"count":2}]`
	page := fmt.Sprintf("%s/?faults=%s", srv.URL(), url.QueryEscape(faults))
	if err := chromedp.Do(ctx, chromedp.Navigate(page)); err != nil {
		t.Fatalf("open the demo page: %v", err)
	}
	pollTrue(t, ctx, "the session to open",
		firstTerminal+` && `+firstTerminal+`.state === "open"`)

	typeLine(t, ctx, "echo $((6*7))")
	pollTrue(t, ctx, "the answer 42 after reconnects", answerShown)
	screenshot(t, ctx, "demo-reconnect")

	reconnects := evaluate[int](t, ctx,
		firstTerminal+`.states.filter((s) => s === "reconnecting").length`)
	if reconnects == 0 {
		t.Error("the page never reported the reconnecting state")
	}
	if state := evaluate[string](t, ctx, firstTerminal+".state"); state != "open" {
		t.Errorf("state after the reconnects = %q, want open", state)
	}
}
