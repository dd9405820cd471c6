//go:build !js

// Command ssm-emulator runs a local Session Manager service and agent on
// loopback for browser and native client tests.
//
// Usage:
//
//	ssm-emulator [-listen 127.0.0.1:8080] [-www DIR] [-exit-after DURATION] [-log-level info]
//
// When it is ready it prints one line to stdout,
// "ssm-emulator listening on http://127.0.0.1:PORT", and logs to stderr.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/ssmwasm/ssm.wasm/emulator"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "ssm-emulator:", err)
		os.Exit(1)
	}
}

// run parses the flags, starts the emulator and waits for a signal or the
// -exit-after duration. The ready line goes to stdout, logs to stderr.
func run(args []string, stdout, stderr io.Writer) error {
	flags := flag.NewFlagSet("ssm-emulator", flag.ContinueOnError)
	flags.SetOutput(stderr)
	listen := flags.String("listen", "127.0.0.1:8080",
		"loopback `address` to serve on; port 0 picks a free port")
	www := flags.String("www", "", "`directory` of static files to serve at /")
	exitAfter := flags.Duration("exit-after", 0,
		"stop after this `duration`, such as 10m; 0 runs until SIGINT or SIGTERM")
	logLevel := flags.String("log-level", "info", "log `level`: debug, info, warn or error")
	if err := flags.Parse(args); err != nil {
		return err
	}
	if flags.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", flags.Args())
	}
	if *exitAfter < 0 {
		return fmt.Errorf("-exit-after %v: expected zero or more", *exitAfter)
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return fmt.Errorf("-log-level %q: expected debug, info, warn or error", *logLevel)
	}
	if *www != "" {
		if info, err := os.Stat(*www); err != nil || !info.IsDir() {
			return fmt.Errorf("-www %q: not a directory", *www)
		}
	}

	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv, err := emulator.Start(ctx, emulator.Options{Addr: *listen, WWW: *www, Logger: logger})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "ssm-emulator listening on %s\n", srv.URL())

	// -exit-after counts from the ready line, so a slow start on a busy
	// machine does not eat into the time a caller planned for.
	var expired <-chan time.Time
	if *exitAfter > 0 {
		timer := time.NewTimer(*exitAfter)
		defer timer.Stop()
		expired = timer.C
	}
	select {
	case <-expired:
		logger.Info("stopping after -exit-after", "duration", exitAfter.String())
	case <-ctx.Done():
		logger.Info("stopping on signal")
	}
	done := make(chan error, 1)
	go func() { done <- srv.Close() }()
	select {
	case err := <-done:
		return err
	case <-time.After(10 * time.Second):
		return errors.New("stop timed out after 10s")
	}
}
