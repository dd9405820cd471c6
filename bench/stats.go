package main

import (
	"math"
	"slices"
)

// summary is the median, minimum and maximum of one figure over the
// measured rounds.
type summary struct {
	Median, Min, Max float64
	N                int
}

// summarize returns the summary of values; N is 0 when values is empty.
func summarize(values []float64) summary {
	if len(values) == 0 {
		return summary{Median: math.NaN(), Min: math.NaN(), Max: math.NaN()}
	}
	sorted := slices.Clone(values)
	slices.Sort(sorted)
	return summary{
		Median: percentile(sorted, 50),
		Min:    sorted[0],
		Max:    sorted[len(sorted)-1],
		N:      len(sorted),
	}
}

// percentile returns the p-th percentile (0..100) of sorted values, with
// linear interpolation between the two nearest ranks; for p = 50 that is
// the usual median.
func percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return math.NaN()
	}
	rank := p / 100 * float64(len(sorted)-1)
	lo := int(math.Floor(rank))
	hi := int(math.Ceil(rank))
	frac := rank - float64(lo)
	return sorted[lo] + frac*(sorted[hi]-sorted[lo])
}

// ratio divides two medians, or returns NaN when either is missing.
func ratio(a, b summary) float64 {
	if a.N == 0 || b.N == 0 || b.Median == 0 {
		return math.NaN()
	}
	return a.Median / b.Median
}
