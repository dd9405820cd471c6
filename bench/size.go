package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// wasmBuildArgs are the go build arguments that ./build.sh uses for
// dist/ssm.wasm.
var wasmBuildArgs = []string{"build", "-trimpath", "-ldflags=-s -w"}

// buildNoSDK builds ssm.wasm with the ssm_nosdk tag into h.nosdk, with
// gzip and brotli siblings for the page server, once per run.
func (h *harness) buildNoSDK(ctx context.Context) (string, error) {
	out := filepath.Join(h.nosdk, "ssm.wasm")
	if _, err := os.Stat(out + ".br"); err == nil {
		return out, nil
	}
	h.logger.Info("building ssm.wasm with -tags ssm_nosdk")
	args := append(append([]string{}, wasmBuildArgs...), "-tags", "nethttpomithttp2,ssm_nosdk", "-o", out, "./wasm")
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = h.root
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("build ssm.wasm with ssm_nosdk: %w", err)
	}
	for _, c := range compressors {
		data, err := compress(ctx, c, out)
		if err != nil {
			return "", err
		}
		if err := os.WriteFile(out+c.ext, data, 0o644); err != nil {
			return "", fmt.Errorf("write %s: %w", out+c.ext, err)
		}
	}
	return out, nil
}

// compressor is a command line that compresses a file to stdout, with the
// settings ./build.sh uses.
type compressor struct {
	name string
	ext  string
	args []string
}

var compressors = []compressor{
	{"gzip -9", ".gz", []string{"gzip", "-9", "-n", "-c"}},
	{"brotli -q 11", ".br", []string{"brotli", "-q", "11", "-c"}},
}

func compress(ctx context.Context, c compressor, path string) ([]byte, error) {
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, c.args[0], append(c.args[1:], path)...)
	cmd.Stdout = &out
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%s %s: %w", c.name, path, err)
	}
	return out.Bytes(), nil
}

func sizeSuite(ctx context.Context, h *harness) (section, error) {
	nosdk, err := h.buildNoSDK(ctx)
	if err != nil {
		return section{}, err
	}
	s := section{
		Title: "Size",
		Method: "dist/ssm.wasm as ./build.sh builds it (GOOS=js GOARCH=wasm go build -trimpath " +
			"-ldflags=\"-s -w\" -tags nethttpomithttp2 ./wasm), and the same build with -tags " +
			"nethttpomithttp2,ssm_nosdk, which leaves " +
			"out the built-in AWS SDK KMS client. Compressed sizes are those of `gzip -9 -n` " +
			"and `brotli -q 11`. MB = 10^6 bytes.",
	}
	t := table{Header: []string{"build", "raw MB", "gzip -9 MB", "brotli MB"}}
	var brotli [2]float64
	for i, b := range []struct{ label, path string }{
		{"ssm.wasm (with the KMS SDK client)", filepath.Join(h.dist, "ssm.wasm")},
		{"ssm.wasm, -tags ssm_nosdk", nosdk},
	} {
		row, br, err := sizeRow(ctx, b.label, b.path)
		if err != nil {
			return section{}, err
		}
		brotli[i] = br
		t.Rows = append(t.Rows, row)
	}
	s.Tables = []table{t}
	s.Goals = []goal{
		{Text: "≤ 2.5 MB brotli with the SDK", Measured: num(brotli[0], 2) + " MB",
			Met: brotli[0] <= 2.5},
		{Text: "≤ 0.8 MB brotli without the SDK", Measured: num(brotli[1], 2) + " MB",
			Met: brotli[1] <= 0.8},
	}
	return s, nil
}

// sizeRow returns a table row for one file and its brotli size in MB.
func sizeRow(ctx context.Context, label, path string) ([]string, float64, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, 0, fmt.Errorf("stat %s: %w", path, err)
	}
	row := []string{label, num(float64(info.Size())/1e6, 3)}
	var last float64
	for _, c := range compressors {
		data, err := compress(ctx, c, path)
		if err != nil {
			return nil, 0, err
		}
		last = float64(len(data)) / 1e6
		row = append(row, num(last, 3))
	}
	return row, last, nil
}
