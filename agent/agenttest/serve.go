package agenttest

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/knitter-cni/knitter/agent"
)

// Serve serves the world's agent on a unix socket in a new short temp directory (socket paths are
// limited to 108 bytes) until the test ends, and returns the socket's path.
func (w *World) Serve(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "kn")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	sock := filepath.Join(dir, "agent.sock")
	ln, err := agent.Listen(sock)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- agent.NewServer(w.Agent, 4).Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serving: %v", err)
		}
	})
	return sock
}
