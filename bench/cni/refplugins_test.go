package cnibench

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
	"time"

	"github.com/containernetworking/cni/libcni"
	"github.com/containernetworking/plugins/pkg/ns"
)

var (
	refPlugins     = benchns.RefPlugins
	refBinDir      = benchns.RefBinDir
	missingPlugins = benchns.MissingRefPlugins
)

// needRefPlugins returns the plugin directory, or skips tb naming what is missing and how to build it.
func needRefPlugins(tb testing.TB) string {
	tb.Helper()
	dir := refBinDir()
	if missing := missingPlugins(dir); len(missing) > 0 {
		tb.Skipf("reference CNI plugins missing from %s: %s; build them with `hack/refplugins.sh %s` "+
			"from the repository root", dir, strings.Join(missing, ", "), dir)
	}
	return dir
}

// refRig drives the reference plugins through libcni as a container runtime does, one network
// configuration list per attachment, from inside the node namespace.
type refRig struct {
	node  *netNS
	pod   []attachment
	cni   *libcni.CNIConfig
	lists []*libcni.NetworkConfigList
}

func newRefRig(tb testing.TB, binDir string, node *netNS, pod []attachment) *refRig {
	tb.Helper()
	// host-local's leases and libcni's result cache go to temporary directories rather than the
	// machine's /var/lib/cni.
	leases, cache := tb.TempDir(), tb.TempDir()
	r := &refRig{node: node, pod: pod, cni: libcni.NewCNIConfigWithCacheDir([]string{binDir}, cache, nil)}
	for _, a := range pod {
		conf, err := json.Marshal(refConfList(a, leases))
		if err != nil {
			tb.Fatal(err)
		}
		list, err := libcni.ConfListFromBytes(conf)
		if err != nil {
			tb.Fatalf("%s: %v\n%s", a.ifName, err, conf)
		}
		r.lists = append(r.lists, list)
	}
	return r
}

// refConfList is the CNI configuration a cluster would write for attachment a with the reference
// plugins: bridge (VLAN-tagged where a has a VLAN) or macvlan, each with host-local IPAM.
func refConfList(a attachment, leases string) map[string]any {
	var routes []map[string]string
	for _, r := range a.routes {
		routes = append(routes, map[string]string{"dst": r.dst.String(), "gw": r.gw.String()})
	}
	ipam := map[string]any{
		"type":    "host-local",
		"dataDir": leases,
		"ranges":  [][]map[string]string{{{"subnet": a.subnet.String()}}},
		"routes":  routes,
	}
	plugin := map[string]any{"type": "bridge", "bridge": a.bridge, "ipam": ipam}
	if a.vlan != 0 {
		plugin["vlan"] = a.vlan
	}
	if a.bridge == "" {
		plugin = map[string]any{"type": "macvlan", "master": macvlanParent, "mode": "bridge", "ipam": ipam}
	}
	return map[string]any{
		"cniVersion": "1.0.0",
		"name":       "bench-" + a.ifName,
		"plugins":    []any{plugin},
	}
}

func (r *refRig) runtimeConf(pod *netNS, containerID string, a attachment) *libcni.RuntimeConf {
	return &libcni.RuntimeConf{ContainerID: containerID, NetNS: pod.Path(), IfName: a.ifName}
}

// add runs ADD for every attachment in order, as a runtime or Multus does for one pod. The plugin
// processes inherit the node namespace from the OS thread that ns.Do has switched into it.
func (r *refRig) add(ctx context.Context, pod *netNS, containerID string) error {
	return r.node.NS.Do(func(ns.NetNS) error {
		for i, a := range r.pod {
			if _, err := r.cni.AddNetworkList(ctx, r.lists[i], r.runtimeConf(pod, containerID, a)); err != nil {
				return fmt.Errorf("ADD %s: %w", a.ifName, err)
			}
		}
		return nil
	})
}

// del runs DEL for every attachment in reverse order.
func (r *refRig) del(ctx context.Context, pod *netNS, containerID string) error {
	return r.node.NS.Do(func(ns.NetNS) error {
		for i, a := range slices.Backward(r.pod) {
			if err := r.cni.DelNetworkList(ctx, r.lists[i], r.runtimeConf(pod, containerID, a)); err != nil {
				return fmt.Errorf("DEL %s: %w", a.ifName, err)
			}
		}
		return nil
	})
}

// leases lists the addresses host-local still holds for any attachment.
func (r *refRig) leases(dataDir string) ([]string, error) {
	var held []string
	for _, list := range r.lists {
		entries, err := os.ReadDir(filepath.Join(dataDir, list.Name))
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
	return held, nil
}

// leaseDir is the dataDir every configuration list of the rig shares.
func (r *refRig) leaseDir() string {
	var ipam struct {
		IPAM struct {
			DataDir string `json:"dataDir"`
		} `json:"ipam"`
	}
	if err := json.Unmarshal(r.lists[0].Plugins[0].Bytes, &ipam); err != nil {
		panic(err)
	}
	return ipam.IPAM.DataDir
}

// cycle adds a pod, checks its interfaces, deletes it and checks that nothing is left, including
// host-local's leases.
func (r *refRig) cycle(tb testing.TB, containerID string) {
	tb.Helper()
	ctx := context.Background()
	pod := newPod(tb)
	defer func() {
		if err := pod.Close(); err != nil {
			tb.Error(err)
		}
	}()
	if err := r.add(ctx, pod, containerID); err != nil {
		tb.Fatal(err)
	}
	if err := checkPod(r.node, pod, r.pod, false); err != nil {
		tb.Fatalf("after ADD: %v", err)
	}
	if err := r.del(ctx, pod, containerID); err != nil {
		tb.Fatal(err)
	}
	if err := checkPodGone(r.node, pod); err != nil {
		tb.Fatal(err)
	}
	held, err := r.leases(r.leaseDir())
	if err != nil {
		tb.Fatal(err)
	}
	if len(held) > 0 {
		tb.Fatalf("host-local still holds %v after DEL", held)
	}
}

func TestReferencePlugins(t *testing.T) {
	needRoot(t)
	dir := needRefPlugins(t)
	node, pod := setup(t)
	r := newRefRig(t, dir, node, pod)
	r.cycle(t, "ref-test-1")
	// A second pod finds the node's bridges already there, as every pod but a node's first does.
	r.cycle(t, "ref-test-2")
}

func TestMissingPlugins(t *testing.T) {
	dir := t.TempDir()
	if got := missingPlugins(dir); !slices.Equal(got, refPlugins) {
		t.Errorf("empty dir: missing %v, want %v", got, refPlugins)
	}
	if err := os.WriteFile(filepath.Join(dir, "bridge"), nil, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "host-local"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "macvlan"), 0o755); err != nil {
		t.Fatal(err)
	}
	want := []string{"host-local", "macvlan"}
	if got := missingPlugins(dir); !slices.Equal(got, want) {
		t.Errorf("bridge executable, host-local not, macvlan a directory: missing %v, want %v", got, want)
	}
}

// BenchmarkReferencePluginsADD times the baseline pod ADD and DEL: the reference plugins building
// eth0 and three extra NICs through libcni, host-local allocating each address. Each iteration is
// one pod in a fresh namespace; making and removing the namespace is not timed. The first pod,
// which also creates the node's bridges, runs before timing starts and is checked by reading
// netlink back.
func BenchmarkReferencePluginsADD(b *testing.B) {
	needRoot(b)
	dir := needRefPlugins(b)
	node, pod := setup(b)
	r := newRefRig(b, dir, node, pod)
	r.cycle(b, "ref-warmup")
	ctx := context.Background()
	var add, del latencies
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		pod := newPod(b)
		id := fmt.Sprintf("ref-%d", i)
		b.StartTimer()

		start := time.Now()
		if err := r.add(ctx, pod, id); err != nil {
			b.Fatal(err)
		}
		added := time.Now()
		if err := r.del(ctx, pod, id); err != nil {
			b.Fatal(err)
		}
		add = append(add, added.Sub(start))
		del = append(del, time.Since(added))

		b.StopTimer()
		if err := pod.Close(); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.StopTimer()
	add.report(b, "ADD")
	del.report(b, "DEL")
	reportTagged(b, pod)
}
