package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// procStat is what /proc says of a process's resource use.
type procStat struct {
	cpuTicks int64 // utime + stime, in clock ticks (1/100 s)
	rssKB    int64
	switches int64 // voluntary + involuntary context switches: wake-ups
}

func readProc(t *testing.T, pid int) procStat {
	t.Helper()
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	// Fields after the command name (which may hold spaces), from field 3.
	f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+2:]))
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	var ps procStat
	ps.cpuTicks = utime + stime
	// Threads' switches are summed over /proc/PID/task/*/status.
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/status", pid))
	for _, p := range tasks {
		ps.switches += statusField(p, "voluntary_ctxt_switches") + statusField(p, "nonvoluntary_ctxt_switches")
	}
	ps.rssKB = statusField(fmt.Sprintf("/proc/%d/status", pid), "VmRSS")
	return ps
}

func statusField(path, name string) int64 {
	data, _ := os.ReadFile(path)
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, name+":"); ok {
			n, _ := strconv.ParseInt(strings.Fields(v)[0], 10, 64)
			return n
		}
	}
	return 0
}

// TestIdleAgent measures an idle `endymail agent` (an admin device with an
// enabled address, holding its long poll) over ENDYMAIL_IDLE_SECONDS next
// to an idle `sleep` process: CPU time, context switches (wake-ups) and
// resident memory. It prints figures and asserts nothing about them.
func TestIdleAgent(t *testing.T) {
	secs, _ := strconv.Atoi(os.Getenv("ENDYMAIL_IDLE_SECONDS"))
	if secs == 0 {
		t.Skip("set ENDYMAIL_IDLE_SECONDS=300 to measure")
	}
	bin, err := buildBinary()
	if err != nil {
		t.Fatal(err)
	}
	m := startMeshProcess(t, t.TempDir(), "127.0.0.1:0")
	home, userHome := t.TempDir(), t.TempDir()
	for _, args := range [][]string{{"init", "idle@example.com", "--mesh", m.url}, {"enable", "idle@example.com"}} {
		if out, err := exec.Command(bin, append(args, "--home", home)...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
	}
	agentCmd := exec.Command(bin, "agent", "--home", home, "--log-level", "warn")
	agentCmd.Env = []string{"HOME=" + userHome, "PATH=" + os.Getenv("PATH")}
	sleepCmd := exec.Command("sleep", "100000")
	for _, c := range []*exec.Cmd{agentCmd, sleepCmd} {
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Process.Kill(); c.Wait() })
	}
	time.Sleep(3 * time.Second) // start-up pass done, long poll held
	a0, s0 := readProc(t, agentCmd.Process.Pid), readProc(t, sleepCmd.Process.Pid)
	time.Sleep(time.Duration(secs) * time.Second)
	a1, s1 := readProc(t, agentCmd.Process.Pid), readProc(t, sleepCmd.Process.Pid)
	for _, r := range []struct {
		name   string
		p0, p1 procStat
	}{{"endymail agent", a0, a1}, {"sleep", s0, s1}} {
		t.Logf("%-15s over %ds: CPU %4d ms (%.3f%%), wake-ups %4d (%.2f/s), RSS %6d kB", r.name, secs,
			(r.p1.cpuTicks-r.p0.cpuTicks)*10, float64(r.p1.cpuTicks-r.p0.cpuTicks)/float64(secs), r.p1.switches-r.p0.switches,
			float64(r.p1.switches-r.p0.switches)/float64(secs), r.p1.rssKB)
	}
}
