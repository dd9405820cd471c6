package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// emulatorLifetime bounds how long the emulator runs if the runner dies
// without stopping it. A full run takes about 15 minutes.
const emulatorLifetime = 45 * time.Minute

// setup installs the reference library, starts the emulator and the page
// server, and returns the harness with a function that stops both.
func setup(ctx context.Context, root, tmp string, opts options, p plan,
	logger *slog.Logger) (*harness, func(), error) {
	dist := opts.dist
	if !filepath.IsAbs(dist) {
		dist = filepath.Join(root, dist)
	}
	dist, err := snapshotDist(dist, filepath.Join(tmp, "dist"))
	if err != nil {
		return nil, nil, err
	}
	if err := ensureReferenceLibrary(ctx, root, logger); err != nil {
		return nil, nil, err
	}
	binary, err := emulatorBinary(ctx, root, tmp, opts.emulator)
	if err != nil {
		return nil, nil, err
	}

	emu, err := startEmulator(binary, emulatorLifetime, filepath.Join(tmp, "emulator.log"))
	if err != nil {
		return nil, nil, err
	}
	nosdk := filepath.Join(tmp, "nosdk")
	if err := os.MkdirAll(nosdk, 0o755); err != nil {
		emu.stop()
		return nil, nil, fmt.Errorf("create build directory: %w", err)
	}
	pages, err := startPageServer(map[string]string{
		"/bench/":           filepath.Join(root, "bench", "pages"),
		"/dist/":            dist,
		"/nosdk/":           nosdk,
		"/lib/ssm-session/": referenceLibraryDir(root),
	}, logger)
	if err != nil {
		emu.stop()
		return nil, nil, err
	}
	h := &harness{
		root: root, tmp: tmp, dist: dist, nosdk: nosdk,
		emu: emu, pages: pages, logger: logger, timeout: p.RunTimeout,
		chromiumArgs: opts.extraArgs,
	}
	cleanup := func() {
		_ = pages.Close()
		emu.stop()
	}
	logger.Info("ready", "emulator", emu.url, "pages", pages.URL())
	return h, cleanup, nil
}

// distFiles are the files of dist/ that the pages load.
var distFiles = []string{"ssm.js", "wasm_exec.js", "ssm.wasm", "ssm.wasm.gz", "ssm.wasm.br"}

// snapshotDist copies the files the pages load from dist to dir, so that a
// rebuild of dist/ during the run cannot mix two builds. It rejects a
// dist/ whose compressed files are empty or older than ssm.wasm, which is
// what a build in progress leaves.
func snapshotDist(dist, dir string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("create dist snapshot: %w", err)
	}
	wasm, err := os.Stat(filepath.Join(dist, "ssm.wasm"))
	if err != nil {
		return "", fmt.Errorf("find ssm.wasm in %s (run ./build.sh first): %w", dist, err)
	}
	for _, name := range distFiles {
		src := filepath.Join(dist, name)
		info, err := os.Stat(src)
		if err != nil {
			return "", fmt.Errorf("find %s (run ./build.sh first): %w", src, err)
		}
		if info.Size() == 0 || info.ModTime().Before(wasm.ModTime()) {
			return "", fmt.Errorf("%s is empty or older than ssm.wasm; a build may be "+
				"running, so run ./build.sh again", src)
		}
		data, err := os.ReadFile(src)
		if err != nil {
			return "", fmt.Errorf("read %s: %w", src, err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			return "", fmt.Errorf("copy %s: %w", src, err)
		}
	}
	return dir, nil
}

// referenceLibraryDir is the browser ES-module build of ssm-session, which
// loads without a bundler: index.js imports ssm.js, which imports
// sha256.js, all by relative paths.
func referenceLibraryDir(root string) string {
	return filepath.Join(root, "bench", "node_modules", "ssm-session", "dist", "esm-browser")
}

// ensureReferenceLibrary runs npm ci in bench/ when ssm-session is not
// installed.
func ensureReferenceLibrary(ctx context.Context, root string, logger *slog.Logger) error {
	if _, err := os.Stat(filepath.Join(referenceLibraryDir(root), "index.js")); err == nil {
		return nil
	}
	logger.Info("installing ssm-session with npm ci in bench/")
	cmd := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund", "--loglevel=error")
	cmd.Dir = filepath.Join(root, "bench")
	cmd.Stdout = os.Stderr
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("npm ci in bench/: %w", err)
	}
	return nil
}

// emulatorBinary returns the given emulator binary, or builds one.
func emulatorBinary(ctx context.Context, root, tmp, given string) (string, error) {
	if given != "" {
		if _, err := os.Stat(given); err != nil {
			return "", fmt.Errorf("find emulator binary: %w", err)
		}
		return given, nil
	}
	out := filepath.Join(tmp, "ssm-emulator")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, "./cmd/ssm-emulator")
	cmd.Dir = root
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("build the emulator: %w", err)
	}
	return out, nil
}
