package agenttest

import (
	"context"
	"os"
	"path/filepath"
	"sync"
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
	w.ServeAt(t, sock)
	return sock
}

// ServeAt serves the world's agent on the unix socket sock until stop is called or the test ends.
// stop returns once the server has stopped and removed its socket, as a knitter-agent stopped cleanly
// (for an upgrade, say) does; ServeAt on the same path then stands for the agent started again.
func (w *World) ServeAt(t testing.TB, sock string) (stop func()) {
	t.Helper()
	ln, err := agent.Listen(sock)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- agent.NewServer(w.Agent, 4).Serve(ctx, ln) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("serving: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}
