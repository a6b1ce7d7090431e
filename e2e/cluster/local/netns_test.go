package local

import (
	"context"
	"net"
	"os"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
)

func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to create network namespaces")
	}
}

func TestNetnsLifecycle(t *testing.T) {
	needRoot(t)
	id, err := newRunID()
	if err != nil {
		t.Fatal(err)
	}
	name := names{id}.node(1)
	if err := createNetns(name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = deleteNetns(name) })
	if !netnsExists(name) {
		t.Fatal("the namespace is not there")
	}
	if err := createNetns(name); err == nil {
		t.Fatal("creating it twice succeeded")
	}
	err = withHandle(name, func(h *netlink.Handle) error {
		lo, err := h.LinkByName("lo")
		if err == nil && lo.Attrs().Flags&net.FlagUp == 0 {
			t.Error("loopback is down")
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := listNetns(names{id}.prefix()); err != nil || len(got) != 1 || got[0] != name {
		t.Fatalf("listNetns = %v, %v", got, err)
	}
	if err := deleteNetns(name); err != nil {
		t.Fatal(err)
	}
	if netnsExists(name) {
		t.Fatal("the namespace is still there")
	}
	if err := deleteNetns(name); err != nil {
		t.Fatalf("deleting it twice: %v", err)
	}
}

func TestUnderlayWiring(t *testing.T) {
	needRoot(t)
	id, err := newRunID()
	if err != nil {
		t.Fatal(err)
	}
	n := names{id}
	t.Cleanup(func() {
		for _, ns := range []string{n.node(1), n.node(2), n.hub()} {
			_ = deleteNetns(ns)
		}
	})
	if err := buildHub(n.hub()); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 2; i++ {
		if err := wireNode(n.hub(), n.node(i), i); err != nil {
			t.Fatal(err)
		}
	}
	ifs, err := readInterfaces(n.node(2))
	if err != nil {
		t.Fatal(err)
	}
	if len(ifs) != 3 || ifs[0].Name != UnderlayNIC || len(ifs[0].Addrs) != 1 || ifs[0].Addrs[0].String() != "192.0.2.2/24" {
		t.Fatalf("node2's NICs: %+v", ifs)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	if err := PingFrom(ctx, netnsPath(n.node(1)), vtepOf(2)); err != nil {
		t.Fatalf("node1 cannot reach node2 over the underlay: %v", err)
	}
}
