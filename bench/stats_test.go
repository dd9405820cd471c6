package main

import (
	"math"
	"testing"
)

func TestSummarize(t *testing.T) {
	tests := []struct {
		name   string
		values []float64
		want   summary
	}{
		{"odd count", []float64{3, 1, 2}, summary{Median: 2, Min: 1, Max: 3, N: 3}},
		{"even count", []float64{4, 1, 3, 2}, summary{Median: 2.5, Min: 1, Max: 4, N: 4}},
		{"one value", []float64{7}, summary{Median: 7, Min: 7, Max: 7, N: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := summarize(tt.values); got != tt.want {
				t.Errorf("summarize(%v) = %+v, want %+v", tt.values, got, tt.want)
			}
		})
	}
}

func TestSummarizeEmpty(t *testing.T) {
	got := summarize(nil)
	if got.N != 0 {
		t.Errorf("N = %d, want 0", got.N)
	}
	if !math.IsNaN(got.Median) {
		t.Errorf("Median = %v, want NaN", got.Median)
	}
}

func TestPercentile(t *testing.T) {
	sorted := make([]float64, 101)
	for i := range sorted {
		sorted[i] = float64(i)
	}
	tests := []struct{ p, want float64 }{{0, 0}, {50, 50}, {99, 99}, {100, 100}, {99.5, 99.5}}
	for _, tt := range tests {
		if got := percentile(sorted, tt.p); got != tt.want {
			t.Errorf("percentile(0..100, %v) = %v, want %v", tt.p, got, tt.want)
		}
	}
}

func TestRatioMissing(t *testing.T) {
	a := summarize([]float64{2})
	if got := ratio(a, summarize(nil)); !math.IsNaN(got) {
		t.Errorf("ratio with an empty divisor = %v, want NaN", got)
	}
	if got := ratio(a, summarize([]float64{4})); got != 0.5 {
		t.Errorf("ratio(2, 4) = %v, want 0.5", got)
	}
}

func TestCellFormat(t *testing.T) {
	if got := cell(summarize([]float64{1.234, 2.5, 3}), 1); got != "2.5 (1.2–3.0)" {
		t.Errorf("cell = %q", got)
	}
	if got := cell(summarize(nil), 1); got != "n/a" {
		t.Errorf("cell of nothing = %q, want n/a", got)
	}
}
