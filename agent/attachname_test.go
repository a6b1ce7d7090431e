package agent_test

import (
	"strings"
	"testing"

	"github.com/knitter-cni/knitter/agent/agenttest"
	"github.com/knitter-cni/knitter/agent/wire"
)

// A container ID whose attachment name the node cannot record (with its ifname, over a file name's
// 255 bytes) is refused at ADD with code 4 naming the limit, not an I/O error; its DEL succeeds
// (it was never added) and its CHECK finds no attachment. The longest that fits is attached.
func TestContainerIDsTheNodeCannotRecord(t *testing.T) {
	w := agenttest.NewWorld(t)
	w.Pods.Put("acme", "web", "", nil)
	fits := strings.Repeat("a", 255-len("@eth0.json"))
	if _, err := w.Agent.Add(ctx, w.AddRequest(fits, "acme", "web")); err != nil {
		t.Fatalf("a %d-character container ID: %v", len(fits), err)
	}
	if err := w.Agent.Del(ctx, w.Request(fits)); err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{len(fits) + 1, 256} {
		id := strings.Repeat("b", n)
		_, err := w.Agent.Add(ctx, w.AddRequest(id, "acme", "web"))
		wantCode(t, err, wire.CodeInvalidEnv, "CNI_CONTAINERID", "at most 245")
		if err := w.Agent.Del(ctx, w.Request(id)); err != nil {
			t.Fatalf("DEL of a %d-character container ID: %v", n, err)
		}
		wantCode(t, w.Agent.Check(ctx, w.Request(id)), wire.CodeUnknownContainer, "no attachment")
	}
}

// A CHECK with a huge CNI_NETNS (the runtime's environment allows 128 KiB) gets a short error.
func TestCheckClipsAnEchoedNetns(t *testing.T) {
	w := agenttest.NewWorld(t)
	added(t, w, "c1")
	req := w.Request("c1")
	req.Netns = "/run/netns/" + strings.Repeat("x", 100<<10)
	err := w.Agent.Check(ctx, req)
	wantCode(t, err, wire.CodeInvalidEnv, "CNI_NETNS", "but container c1 is attached in")
	if n := len(err.Error()); n > 1024 {
		t.Fatalf("a %d-byte error", n)
	}
}
