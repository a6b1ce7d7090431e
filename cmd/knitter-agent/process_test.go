package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/containernetworking/cni/pkg/skel"

	"github.com/knitter-cni/knitter/agent/agenttest"
	"github.com/knitter-cni/knitter/plugin"
)

// TestProcessServesAndStops runs the real binary against a manager: it registers the node, serves a
// root-only socket that answers STATUS, and exits cleanly on SIGTERM.
func TestProcessServesAndStops(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the real dataplane needs root")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "knitter-agent")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	mgr := agenttest.NewManager(t)
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte(mgr.Token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	sockDir, err := os.MkdirTemp("", "kn")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(sockDir) })
	sock := filepath.Join(sockDir, "run", "agent.sock")
	var logs bytes.Buffer
	cmd := exec.Command(bin, "--node-name", "proc-node", "--vtep", "192.168.9.1", "--manager-url", mgr.URL,
		"--manager-token-file", tokenFile, "--socket", sock, "--state-dir", filepath.Join(dir, "state"), "--heartbeat", "1h")
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
	})

	p := &plugin.Plugin{Out: &bytes.Buffer{}}
	conf := []byte(`{"cniVersion":"1.1.0","name":"k","type":"knitter","agentSocket":"` + sock + `","timeout":"5s"}`)
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := p.Status(&skel.CmdArgs{StdinData: conf})
		if err == nil {
			break
		}
		select {
		case err := <-exited:
			t.Fatalf("the agent exited: %v\n%s", err, logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("STATUS still fails after 30s: %v\n%s", err, logs.String())
		}
		time.Sleep(50 * time.Millisecond) // waiting for a process to start; not a timing assertion
	}
	fi, err := os.Stat(sock)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("socket mode %v, %v; want 0600", fi.Mode(), err)
	}
	if di, err := os.Stat(filepath.Dir(sock)); err != nil || di.Mode().Perm() != 0o700 {
		t.Fatalf("socket directory mode %v, %v; want 0700", di.Mode(), err)
	}
	if _, err := mgr.Client.GetNode(ctx(), "proc-node"); err != nil {
		t.Fatalf("the node is not registered: %v", err)
	}

	// A second agent on the same node (same state directory, another socket) is refused before it
	// touches anything, and says who holds the node; the first keeps serving.
	refused, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	second := exec.CommandContext(refused, bin, "--node-name", "proc-node", "--vtep", "192.168.9.1", "--manager-url", mgr.URL,
		"--manager-token-file", tokenFile, "--socket", filepath.Join(sockDir, "run", "second.sock"),
		"--state-dir", filepath.Join(dir, "state"), "--heartbeat", "1h")
	out, err := second.CombinedOutput()
	if err == nil {
		t.Fatalf("a second agent on the same state directory ran:\n%s", out)
	}
	want := fmt.Sprintf("another knitter-agent (pid %d) holds the state directory", cmd.Process.Pid)
	if !bytes.Contains(out, []byte(want)) {
		t.Fatalf("second agent's error does not say %q:\n%s", want, out)
	}
	if _, err := os.Stat(filepath.Join(sockDir, "run", "second.sock")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the refused agent made its socket: %v", err)
	}
	if err := p.Status(&skel.CmdArgs{StdinData: conf}); err != nil {
		t.Fatalf("the first agent stopped answering STATUS after a second was refused: %v", err)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		var ee *exec.ExitError
		if errors.As(err, &ee) || err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", err, logs.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("the agent did not exit within 30s of SIGTERM\n%s", logs.String())
	}
}
