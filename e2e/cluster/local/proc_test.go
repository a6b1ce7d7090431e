package local

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func sleepBin(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("no sleep binary")
	}
	return bin
}

func TestStartAndStop(t *testing.T) {
	log := filepath.Join(t.TempDir(), "log")
	p, err := startProc([]string{sleepBin(t), "60"}, log, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Kill(p.Pid, syscall.SIGKILL) })
	if !p.alive() || p.exitStatus() != "still running" {
		t.Fatalf("just started: alive %v, %s", p.alive(), p.exitStatus())
	}
	if err := p.stop(); err != nil {
		t.Fatal(err)
	}
	if p.alive() || !strings.Contains(p.exitStatus(), "terminated") {
		t.Fatalf("after stop: alive %v, %s", p.alive(), p.exitStatus())
	}
	if err := p.stop(); err != nil {
		t.Fatalf("stopping a stopped process: %v", err)
	}
}

// A pid recorded by another process is trusted only while it runs the recorded binary.
func TestRecordedPidIdentity(t *testing.T) {
	bin := sleepBin(t)
	cmd := exec.Command(bin, "60")
	cmd.Args[0] = bin
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	mine := process{Pid: cmd.Process.Pid, Args: []string{bin}}
	// Right after exec the kernel may not have set up the new command line yet.
	deadline := time.Now().Add(10 * time.Second)
	for !mine.alive() {
		if time.Now().After(deadline) {
			t.Fatal("a recorded process running the recorded binary is alive")
		}
		time.Sleep(10 * time.Millisecond) // waiting for the kernel's exec to finish, not timing it
	}
	recycled := process{Pid: cmd.Process.Pid, Args: []string{"/tmp/knitter-local/bin/knitter-agent"}}
	if recycled.alive() {
		t.Fatal("a pid running another binary must not count as the recorded process")
	}
	if err := recycled.stop(); err != nil {
		t.Fatal(err)
	}
	if !mine.alive() {
		t.Fatal("stop signalled a process that was not the recorded one")
	}
	if (&process{}).alive() || (&process{Pid: -1, Args: []string{bin}}).alive() {
		t.Fatal("an empty record is not alive")
	}
}

func TestLogTail(t *testing.T) {
	log := filepath.Join(t.TempDir(), "log")
	if err := os.WriteFile(log, []byte("one\ntwo\nthree\nfour\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := process{Log: log}
	if got := p.logTail(2); got != "three\nfour" {
		t.Errorf("tail 2 = %q", got)
	}
	if got := p.logTail(10); got != "one\ntwo\nthree\nfour" {
		t.Errorf("tail 10 = %q", got)
	}
	p.Log = filepath.Join(t.TempDir(), "missing")
	if got := p.logTail(2); !strings.Contains(got, "no log") {
		t.Errorf("missing log: %q", got)
	}
}
