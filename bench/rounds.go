package main

import (
	"context"
	"fmt"
	"sort"
	"strings"
)

// roundResults are the measured results of each configuration, and the
// errors of runs that failed.
type roundResults[T any] struct {
	ByConfig map[string][]T
	Failures map[string][]string
}

// runRounds runs every configuration once per round, in the given order,
// for one warm-up round and then the measured rounds, so that slow drifts
// of the machine spread over all configurations alike. A failed run is
// logged and recorded, and the rounds go on.
func runRounds[T any](ctx context.Context, h *harness, rounds int, configs []string,
	measure func(ctx context.Context, config string) (T, error)) (roundResults[T], error) {
	res := roundResults[T]{ByConfig: map[string][]T{}, Failures: map[string][]string{}}
	for round := 0; round <= rounds; round++ {
		for _, config := range configs {
			if err := ctx.Err(); err != nil {
				return res, err
			}
			h.logger.Info("run", "config", config, "round", round, "warmup", round == 0)
			v, err := measure(ctx, config)
			if err != nil {
				h.logger.Error("run failed", "config", config, "round", round, "err", err)
				res.Failures[config] = append(res.Failures[config], firstLine(err.Error()))
				continue
			}
			if round > 0 {
				res.ByConfig[config] = append(res.ByConfig[config], v)
			}
		}
	}
	return res, nil
}

// failureNotes describes failed runs for the report.
func (r roundResults[T]) failureNotes() []string {
	var configs []string
	for c := range r.Failures {
		configs = append(configs, c)
	}
	sort.Strings(configs)
	var notes []string
	for _, c := range configs {
		notes = append(notes, fmt.Sprintf("Failed runs of %s: %d (first error: %s).",
			c, len(r.Failures[c]), r.Failures[c][0]))
	}
	return notes
}

// collect maps each result of a configuration to one number.
func collect[T any](values []T, f func(T) float64) []float64 {
	out := make([]float64, 0, len(values))
	for _, v := range values {
		out = append(out, f(v))
	}
	return out
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
