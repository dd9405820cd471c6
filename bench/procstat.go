package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// cpuSample is the CPU time that a Chromium process tree has used so far,
// read from the kernel's per-thread scheduler statistics.
type cpuSample struct {
	At           time.Duration // wall-clock time of the sample, from an arbitrary origin
	RendererMain time.Duration // main threads of the renderer processes
	Renderer     time.Duration // every thread of the renderer processes
	Network      time.Duration // the network service process
	Total        time.Duration // every process of the tree
}

// sub returns the CPU time used between earlier and s.
func (s cpuSample) sub(earlier cpuSample) cpuSample {
	return cpuSample{
		At:           s.At - earlier.At,
		RendererMain: s.RendererMain - earlier.RendererMain,
		Renderer:     s.Renderer - earlier.Renderer,
		Network:      s.Network - earlier.Network,
		Total:        s.Total - earlier.Total,
	}
}

// sampleTree reads the CPU time of root and all its descendants. A page
// runs on the main thread of a renderer process, the thread whose id equals
// the process id, and RendererMain adds up those threads. Idle spare
// renderers add next to nothing.
func sampleTree(root int) (cpuSample, error) {
	procs, err := descendants(root)
	if err != nil {
		return cpuSample{}, err
	}
	s := cpuSample{At: time.Since(processStart)}
	for _, pid := range procs {
		cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if err != nil {
			continue // the process exited since the listing
		}
		all, main := processCPU(pid)
		s.Total += all
		switch {
		case bytes.Contains(cmdline, []byte("--type=renderer")):
			s.Renderer += all
			s.RendererMain += main
		case bytes.Contains(cmdline, []byte("NetworkService")):
			s.Network += all
		}
	}
	return s, nil
}

// processStart is the origin of cpuSample.At.
var processStart = time.Now()

// descendants lists root and every process below it, from the parent ids
// in /proc/PID/stat.
func descendants(root int) ([]int, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, fmt.Errorf("list processes: %w", err)
	}
	children := map[int][]int{}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		ppid, err := parentPID(string(stat))
		if err != nil {
			continue
		}
		children[ppid] = append(children[ppid], pid)
	}
	tree := []int{root}
	for i := 0; i < len(tree); i++ {
		tree = append(tree, children[tree[i]]...)
	}
	return tree, nil
}

// parentPID extracts the fourth field of /proc/PID/stat. The second field,
// the command name in parentheses, may itself contain spaces and
// parentheses, so parsing starts after its last closing parenthesis.
func parentPID(stat string) (int, error) {
	end := strings.LastIndexByte(stat, ')')
	if end < 0 {
		return 0, fmt.Errorf("parse process stat %q: no command name", stat)
	}
	fields := strings.Fields(stat[end+1:])
	if len(fields) < 2 {
		return 0, fmt.Errorf("parse process stat %q: too few fields", stat)
	}
	return strconv.Atoi(fields[1])
}

// processCPU returns the CPU time of all threads of pid and of its main
// thread.
func processCPU(pid int) (all, main time.Duration) {
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/schedstat", pid))
	mainPath := fmt.Sprintf("/proc/%d/task/%d/schedstat", pid, pid)
	for _, path := range tasks {
		t, err := readSchedstat(path)
		if err != nil {
			continue
		}
		all += t
		if path == mainPath {
			main = t
		}
	}
	return all, main
}

// readSchedstat returns the first field of a schedstat file: the time the
// task has run on a CPU, in nanoseconds.
func readSchedstat(path string) (time.Duration, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	fields := strings.Fields(string(b))
	if len(fields) == 0 {
		return 0, fmt.Errorf("parse %s: empty", path)
	}
	ns, err := strconv.ParseInt(fields[0], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("parse %s: %w", path, err)
	}
	return time.Duration(ns), nil
}
