package plugin_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/containernetworking/cni/libcni"
	"github.com/containernetworking/cni/pkg/types"
	types020 "github.com/containernetworking/cni/pkg/types/020"
	types040 "github.com/containernetworking/cni/pkg/types/040"
	types100 "github.com/containernetworking/cni/pkg/types/100"
	"github.com/containernetworking/cni/pkg/types/create"

	"github.com/knitter-cni/knitter/agent/agenttest"
	"github.com/knitter-cni/knitter/core/model"
	"github.com/knitter-cni/knitter/core/netspec"
)

// delegate is one entry of a meta-plugin's static delegate list: a network configuration (a list or
// a single plugin's), and the CNI_IFNAME its position gives it.
type delegate struct {
	ifName  string
	version string // "" is a configuration without cniVersion
	list    *libcni.NetworkConfigList
	single  *libcni.PluginConfig
}

func (d delegate) add(cni *libcni.CNIConfig, rt *libcni.RuntimeConf) (types.Result, error) {
	if d.list != nil {
		return cni.AddNetworkList(ctx, d.list, rt)
	}
	return cni.AddNetwork(ctx, d.single, rt)
}

func (d delegate) check(cni *libcni.CNIConfig, rt *libcni.RuntimeConf) error {
	if d.list != nil {
		return cni.CheckNetworkList(ctx, d.list, rt)
	}
	return cni.CheckNetwork(ctx, d.single, rt)
}

func (d delegate) del(cni *libcni.CNIConfig, rt *libcni.RuntimeConf) error {
	if d.list != nil {
		return cni.DelNetworkList(ctx, d.list, rt)
	}
	return cni.DelNetwork(ctx, d.single, rt)
}

// TestMultusDelegatesThroughLibcni drives the plugin as Multus does with a static delegate list: one
// libcni call per delegate, each configuration naming one Knitter network at its own cniVersion (a
// 1.1.0 list for the cluster network, single-plugin configurations at 0.3.1 and without cniVersion
// for the others), CNI_IFNAME by position (eth0, net1, net2) in an order unlike the annotation's.
// Each result is parsed at its delegate's version and is that delegate's network's port. DEL goes in
// reverse order; with the agent stopped for an upgrade (its socket removed) every DEL is code 11 in
// words Multus does not take for "already gone", and once the agent is back the runtime's retried
// DELs remove every link and checkpoint. An interface the annotation names for another network is
// still refused.
func TestMultusDelegatesThroughLibcni(t *testing.T) {
	w := agenttest.NewWorld(t)
	dir, err := os.MkdirTemp("", "knm") // short: a socket path has at most 108 bytes
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	sock := filepath.Join(dir, "agent.sock")
	stop := w.ServeAt(t, sock)
	// The allocation (the annotation's order) is eth0=net, net1=vl, net2=mv; the delegate list has
	// the macvlan network first, so Multus calls it net1.
	w.Pods.Put("acme", "web", "", map[string]string{netspec.NPWGAnnotation: "vl, mv"})
	conf := func(version, name, network string) string {
		v := fmt.Sprintf(`"cniVersion":%q,`, version)
		if version == "" {
			v = ""
		}
		return fmt.Sprintf(`{%s"name":%q,"type":"knitter","agentSocket":%q,"timeout":"20s","network":%q}`, v, name, sock, network)
	}
	list, err := libcniList(fmt.Sprintf(`{"cniVersion":"1.1.0","name":"pods","plugins":[{"type":"knitter","agentSocket":%q,"network":"acme/net"}]}`, sock))
	if err != nil {
		t.Fatal(err)
	}
	delegates := []delegate{{ifName: "eth0", version: "1.1.0", list: list}}
	for _, d := range []struct{ ifName, version, name, network string }{
		{"net1", "0.3.1", "mv", "acme/mv"},
		{"net2", "", "vl", "acme/vl"},
	} {
		single, err := libcni.NetworkPluginConfFromBytes([]byte(conf(d.version, d.name, d.network)))
		if err != nil {
			t.Fatal(err)
		}
		delegates = append(delegates, delegate{ifName: d.ifName, version: d.version, single: single})
	}
	cni := libcniConfig(t.TempDir())
	netns := w.Netns("c1")
	rt := func(ifName string) *libcni.RuntimeConf {
		c := rtConf(w, "c1", "web")
		c.IfName = ifName
		return c
	}

	var pod model.Pod
	for _, d := range delegates {
		raw, err := d.add(cni, rt(d.ifName))
		if err != nil {
			t.Fatalf("ADD of delegate %s: %v", d.ifName, err)
		}
		pod, _ = w.Mgr.Pod(t, "acme-web")
		want := d.version
		if want == "" {
			want = "0.1.0"
		}
		parsed, err := create.Create(want, []byte(mustJSON(raw)))
		if err != nil {
			t.Fatalf("delegate %s: the runtime cannot parse the result at %s: %v", d.ifName, want, err)
		}
		// Multus built net1 from mv's port (net2 in the allocation) and net2 from vl's (net1).
		port := map[string]model.Port{"eth0": pod.Ports[0], "net1": pod.Ports[2], "net2": pod.Ports[1]}[d.ifName]
		switch r := parsed.(type) {
		case *types100.Result:
			if len(r.Interfaces) != 1 || r.Interfaces[0].Name != d.ifName || r.Interfaces[0].Mac != port.MAC.String() ||
				len(r.IPs) != 1 || !r.IPs[0].Address.IP.Equal(port.IPs[0].AsSlice()) || len(r.Routes) != 1 {
				t.Fatalf("delegate %s: result %s, want port %+v with the default route", d.ifName, mustJSON(r), port)
			}
		case *types040.Result:
			if len(r.Interfaces) != 1 || r.Interfaces[0].Name != d.ifName || r.Interfaces[0].Mac != port.MAC.String() ||
				len(r.IPs) != 1 || !r.IPs[0].Address.IP.Equal(port.IPs[0].AsSlice()) || len(r.Routes) != 0 {
				t.Fatalf("delegate %s: result %s, want port %+v without a route", d.ifName, mustJSON(r), port)
			}
		case *types020.Result:
			if r.IP4 == nil || !r.IP4.IP.IP.Equal(port.IPs[0].AsSlice()) {
				t.Fatalf("delegate %s: result %s, want port %+v's address", d.ifName, mustJSON(r), port)
			}
		default:
			t.Fatalf("delegate %s: result of type %T", d.ifName, parsed)
		}
	}
	links := map[string]string{}
	for _, l := range w.DP.Links(netns) {
		links[l.Name] = l.MAC.String()
	}
	if len(links) != 3 || links["eth0"] != pod.Ports[0].MAC.String() || links["net1"] != pod.Ports[2].MAC.String() ||
		links["net2"] != pod.Ports[1].MAC.String() {
		t.Fatalf("the pod's links %v, want eth0, net1 (mv's MAC %s) and net2 (vl's MAC %s)", links, pod.Ports[2].MAC, pod.Ports[1].MAC)
	}
	// CHECK needs 0.4.0: libcni refuses it for the 0.3.1 and 0.1.0 delegates without calling the plugin.
	if err := delegates[0].check(cni, rt("eth0")); err != nil {
		t.Fatalf("CHECK of delegate eth0: %v", err)
	}
	for _, d := range delegates[1:] {
		if err := d.check(cni, rt(d.ifName)); err == nil || !strings.Contains(err.Error(), "does not support the CHECK command") {
			t.Fatalf("CHECK of delegate %s: %v, want libcni's refusal", d.ifName, err)
		}
	}

	// The agent is stopped for an upgrade: its socket goes. Multus DELs its delegates in reverse.
	stop()
	if _, err := os.Stat(sock); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the stopped agent's socket: %v, want it removed", err)
	}
	for i := len(delegates) - 1; i >= 0; i-- {
		err := delegates[i].del(cni, rt(delegates[i].ifName))
		wantCNIError(t, err, types.ErrTryAgainLater, "is absent", "retry")
		wantNotGone(t, err)
	}
	if n := len(w.Agent.Checkpoints()); n != 3 || len(w.DP.Links(netns)) != 3 {
		t.Fatalf("%d checkpoints and links %v after the failed DELs, want all three kept", n, w.DP.Links(netns))
	}

	// The agent starts again (a new process over the same checkpoints); the runtime retries.
	w.Agent = w.NewAgent(t)
	w.ServeAt(t, sock)
	for round := range 2 {
		for i := len(delegates) - 1; i >= 0; i-- {
			if err := delegates[i].del(cni, rt(delegates[i].ifName)); err != nil {
				t.Fatalf("DEL %d of delegate %s: %v", round+1, delegates[i].ifName, err)
			}
		}
	}
	if len(w.DP.Links(netns)) != 0 || len(w.Agent.Checkpoints()) != 0 {
		t.Fatalf("the DELs left links %v or checkpoints %+v", w.DP.Links(netns), w.Agent.Checkpoints())
	}

	// A real conflict is still refused: this pod's annotation names net1 for the VLAN network, and
	// the delegate in position net1 is the macvlan one.
	w.Pods.Put("acme", "db", "", map[string]string{netspec.NPWGAnnotation: "vl@net1, mv"})
	db := rtConf(w, "c2", "db")
	db.IfName = "net1"
	_, err = delegates[1].add(cni, db)
	wantCNIError(t, err, 102, "puts interface net1 on network acme/vl")
	if len(w.DP.Links(w.Netns("c2"))) != 0 || len(w.Agent.Checkpoints()) != 0 {
		t.Fatalf("a refused delegate left links %v or checkpoints %+v", w.DP.Links(w.Netns("c2")), w.Agent.Checkpoints())
	}
	if err := delegates[1].del(cni, db); err != nil {
		t.Fatalf("DEL of the refused delegate: %v", err)
	}
}
