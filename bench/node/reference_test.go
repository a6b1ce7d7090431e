package nodebench

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/knitter-cni/knitter/bench/benchns"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/containernetworking/cni/libcni"
	"github.com/containernetworking/plugins/pkg/ns"

	"github.com/knitter-cni/knitter/core/plan"
)

var refBinDir = benchns.RefBinDir

// missingRefPlugins returns a message naming the reference plugins dir lacks and how to build
// them, or "" when all are there and executable.
func missingRefPlugins(dir string) string {
	missing := benchns.MissingRefPlugins(dir)
	if len(missing) == 0 {
		return ""
	}
	return fmt.Sprintf("reference CNI plugins missing from %s: %s; build them with `hack/refplugins.sh %s` from the repository root",
		dir, strings.Join(missing, ", "), dir)
}

// refRig is the reference run: the bridge and macvlan plugins with host-local IPAM, one network
// configuration list per NIC of podNICs, executed through libcni from inside the rig's own node
// namespace, as a runtime (or Multus) does for one pod. A runtime with these plugins has no
// allocation done beforehand: host-local allocates during ADD, which is part of what they cost.
type refRig struct {
	node   *netNS
	cni    *libcni.CNIConfig
	lists  []*libcni.NetworkConfigList
	leases string
}

func newRefRig(tb testing.TB, binDir string) *refRig {
	tb.Helper()
	r := &refRig{node: newNode(tb), leases: tb.TempDir(),
		// libcni's result cache goes to a temporary directory rather than the machine's /var/lib/cni.
		cni: libcni.NewCNIConfigWithCacheDir([]string{binDir}, tb.TempDir(), nil)}
	for _, n := range podNICs {
		conf, err := json.Marshal(refConfList(n, r.leases))
		if err != nil {
			tb.Fatal(err)
		}
		list, err := libcni.ConfListFromBytes(conf)
		if err != nil {
			tb.Fatalf("%s: %v\n%s", n.ifName, err, conf)
		}
		r.lists = append(r.lists, list)
	}
	return r
}

// refBridge names the reference run's bridge of an overlay NIC.
func refBridge(n nic) string { return "rbr-" + n.ifName }

// refConfList is the configuration a cluster would write for n with the reference plugins: a veth
// on a bridge, or a macvlan on parentNIC, each with host-local and n's routes.
func refConfList(n nic, leases string) map[string]any {
	var routes []map[string]string
	if n.defaultRoute {
		routes = append(routes, map[string]string{"dst": "0.0.0.0/0", "gw": n.gateway().String()})
	}
	for _, r := range n.routes {
		routes = append(routes, map[string]string{"dst": r.String(), "gw": n.gateway().String()})
	}
	ipam := map[string]any{
		"type":    "host-local",
		"dataDir": leases,
		"ranges":  [][]map[string]string{{{"subnet": n.subnet.String(), "gateway": n.gateway().String()}}},
		"routes":  routes,
	}
	plugin := map[string]any{"type": "bridge", "bridge": refBridge(n), "ipam": ipam}
	if n.macvlan {
		plugin = map[string]any{"type": "macvlan", "master": parentNIC, "mode": "bridge", "ipam": ipam}
	}
	return map[string]any{"cniVersion": "1.0.0", "name": "ref-" + n.network, "plugins": []any{plugin}}
}

// add runs ADD for every NIC in order. The plugin processes inherit the node namespace from the OS
// thread that ns.Do has switched into it.
func (r *refRig) add(ctx context.Context, p *pod) error {
	return r.node.NS.Do(func(ns.NetNS) error {
		for i, n := range podNICs {
			if _, err := r.cni.AddNetworkList(ctx, r.lists[i], p.rtConf(n.ifName)); err != nil {
				return fmt.Errorf("ADD %s: %w", n.ifName, err)
			}
		}
		return nil
	})
}

// del runs DEL for every NIC in reverse order.
func (r *refRig) del(ctx context.Context, p *pod) error {
	return r.node.NS.Do(func(ns.NetNS) error {
		for i := len(podNICs) - 1; i >= 0; i-- {
			if err := r.cni.DelNetworkList(ctx, r.lists[i], p.rtConf(podNICs[i].ifName)); err != nil {
				return fmt.Errorf("DEL %s: %w", podNICs[i].ifName, err)
			}
		}
		return nil
	})
}

// want is what the reference run must have built: any address of each subnet, any MAC.
func (r *refRig) want() []wantLink {
	var want []wantLink
	for _, n := range podNICs {
		w := wantLink{ifName: n.ifName, addr: n.subnet, anyAddr: true}
		if !n.macvlan {
			w.bridge = refBridge(n)
		}
		if n.defaultRoute {
			w.routes = append(w.routes, plan.Route{Dst: netipDefault, Gateway: n.gateway()})
		}
		for _, dst := range n.routes {
			w.routes = append(w.routes, plan.Route{Dst: dst, Gateway: n.gateway()})
		}
		want = append(want, w)
	}
	return want
}

// heldLeases lists the addresses host-local still holds.
func (r *refRig) heldLeases() ([]string, error) {
	var held []string
	for _, list := range r.lists {
		entries, err := os.ReadDir(filepath.Join(r.leases, list.Name))
		if err != nil && !os.IsNotExist(err) {
			return nil, err
		}
		for _, e := range entries {
			// host-local keeps a lock file and its last reservation next to one file per lease.
			if e.Name() != "lock" && !strings.HasPrefix(e.Name(), "last_reserved_ip") {
				held = append(held, list.Name+"/"+e.Name())
			}
		}
	}
	slices.Sort(held)
	return held, nil
}

// cycle adds a pod, checks its links, deletes it and checks that nothing is left, host-local's
// leases included.
func (r *refRig) cycle(tb testing.TB, name string) {
	tb.Helper()
	ctx := context.Background()
	p := newPod(tb, nil, name)
	defer closePod(tb, nil, p)
	if err := r.add(ctx, p); err != nil {
		tb.Fatal(err)
	}
	if err := checkLinks(r.node, p.ns, r.want()); err != nil {
		tb.Fatalf("after ADD: %v", err)
	}
	if err := r.del(ctx, p); err != nil {
		tb.Fatal(err)
	}
	if err := checkPodEmpty(p.ns); err != nil {
		tb.Fatal(err)
	}
	if err := checkNodeClean(r.node); err != nil {
		tb.Fatal(err)
	}
	if held, err := r.heldLeases(); err != nil || len(held) > 0 {
		tb.Fatalf("host-local still holds %v after DEL (%v)", held, err)
	}
}
