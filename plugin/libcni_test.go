package plugin_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/containernetworking/cni/libcni"
	"github.com/containernetworking/cni/pkg/types"
	types020 "github.com/containernetworking/cni/pkg/types/020"
	types040 "github.com/containernetworking/cni/pkg/types/040"
	types100 "github.com/containernetworking/cni/pkg/types/100"
	"github.com/containernetworking/cni/pkg/types/create"
	cniversion "github.com/containernetworking/cni/pkg/version"

	"github.com/knitter-cni/knitter/agent/agenttest"
	"github.com/knitter-cni/knitter/core/netspec"
)

// binDir holds the plugin binary, built once, named as a network configuration's "type" names it.
var binDir string

// reuseBinDir names a binDir built by the parent test process (a test re-executed in a private
// namespace uses it rather than building the plugin again).
const reuseBinDir = "KNITTER_TEST_PLUGIN_BIN_DIR"

func TestMain(m *testing.M) {
	if dir := os.Getenv(reuseBinDir); dir != "" {
		binDir = dir
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "knitter-plugin-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	build := exec.Command("go", "build", "-o", filepath.Join(dir, "knitter"), "github.com/knitter-cni/knitter/cmd/knitter-plugin")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building knitter-plugin: %v\n%s", err, out)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

var ctx = context.Background()

// runtime is a container runtime's CNI library with its own result cache.
type runtime struct {
	cni  *libcni.CNIConfig
	list *libcni.NetworkConfigList
}

func newRuntime(t *testing.T, conf string) *runtime {
	t.Helper()
	list, err := libcniList(conf)
	if err != nil {
		t.Fatal(err)
	}
	return &runtime{cni: libcniConfig(t.TempDir()), list: list}
}

func libcniList(conf string) (*libcni.NetworkConfigList, error) {
	return libcni.ConfListFromBytes([]byte(conf))
}

// libcniConfig finds the plugin in binDir and caches results in cacheDir.
func libcniConfig(cacheDir string) *libcni.CNIConfig {
	return libcni.NewCNIConfigWithCacheDir([]string{binDir}, cacheDir, nil)
}

// confList is a network configuration list of one knitter plugin; extra is more JSON members.
func confList(version, socket, extra string) string {
	return fmt.Sprintf(`{"cniVersion":%q,"name":"knitter","plugins":[{"type":"knitter","agentSocket":%q,"timeout":"20s"%s}]}`, version, socket, extra)
}

// rtConf is the runtime's view of container id of pod acme/name, in its namespace of w (nil: a path
// that does not exist).
func rtConf(w *agenttest.World, id, name string) *libcni.RuntimeConf {
	netns := "/run/netns/" + id
	if w != nil {
		netns = w.Netns(id)
	}
	return &libcni.RuntimeConf{ContainerID: id, NetNS: netns, IfName: "eth0",
		Args: [][2]string{{"IgnoreUnknown", "1"}, {"K8S_POD_NAMESPACE", "acme"}, {"K8S_POD_NAME", name}}}
}

// wantCNIError fails unless err is a CNI error with code whose message has every part.
func wantCNIError(t *testing.T, err error, code uint, parts ...string) {
	t.Helper()
	var e *types.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T), want a CNI error with code %d", err, err, code)
	}
	if e.Code != code {
		t.Fatalf("CNI error code %d (%v), want %d", e.Code, e, code)
	}
	for _, p := range parts {
		if !strings.Contains(e.Error(), p) {
			t.Fatalf("error %q does not mention %q", e.Error(), p)
		}
	}
}

// wantNotGone fails if err's text says what a meta-plugin reads as "the attachment is already gone".
func wantNotGone(t *testing.T, err error) {
	t.Helper()
	for _, gone := range []string{"no such file or directory", "not found", "does not exist"} {
		if strings.Contains(strings.ToLower(err.Error()), gone) {
			t.Fatalf("error %q says %q: a meta-plugin would take the attachment for gone", err, gone)
		}
	}
}

func TestLifecycleThroughLibcni(t *testing.T) {
	w := agenttest.NewWorld(t)
	sock := w.Serve(t)
	w.Pods.Put("acme", "web", "", map[string]string{netspec.NPWGAnnotation: "vl,mv"})
	rt := newRuntime(t, confList("1.1.0", sock, `,"dns":{"nameservers":["9.9.9.9"]}`))
	if err := rt.cni.GetStatusNetworkList(ctx, rt.list); err != nil {
		t.Fatalf("STATUS: %v", err)
	}
	raw, err := rt.cni.AddNetworkList(ctx, rt.list, rtConf(w, "c1", "web"))
	if err != nil {
		t.Fatalf("ADD: %v", err)
	}
	res, err := types100.NewResultFromResult(raw)
	if err != nil {
		t.Fatal(err)
	}
	pod, _ := w.Mgr.Pod(t, "acme-web")
	if res.CNIVersion != "1.1.0" || len(res.Interfaces) != 3 || len(res.IPs) != 3 {
		t.Fatalf("result %s", mustJSON(res))
	}
	for i, itf := range res.Interfaces {
		if itf.Name != pod.Ports[i].Interface || itf.Mac != pod.Ports[i].MAC.String() || itf.Sandbox != w.Netns("c1") || itf.Mtu == 0 {
			t.Errorf("interface %d = %+v, want port %+v", i, itf, pod.Ports[i])
		}
	}
	for i, ip := range res.IPs {
		if *ip.Interface != i || !ip.Address.IP.Equal(pod.Ports[i].IPs[0].AsSlice()) || ip.Gateway == nil {
			t.Errorf("ip %d = %s, want %s on interface %d with a gateway", i, ip, pod.Ports[i].IPs[0], i)
		}
	}
	if len(res.Routes) != 1 || res.Routes[0].Dst.String() != "0.0.0.0/0" || res.Routes[0].GW.String() != "10.1.0.1" {
		t.Errorf("routes %v, want the default route through 10.1.0.1", res.Routes)
	}
	if strings.Join(res.DNS.Nameservers, ",") != "9.9.9.9" {
		t.Errorf("dns %+v, want the configuration's", res.DNS)
	}
	if err := rt.cni.CheckNetworkList(ctx, rt.list, rtConf(w, "c1", "web")); err != nil {
		t.Fatalf("CHECK: %v", err)
	}
	again, err := rt.cni.AddNetworkList(ctx, rt.list, rtConf(w, "c1", "web"))
	if err != nil || mustJSON(again) != mustJSON(raw) {
		t.Fatalf("repeated ADD = %s, %v; want %s", mustJSON(again), err, mustJSON(raw))
	}
	for i := range 2 {
		if err := rt.cni.DelNetworkList(ctx, rt.list, rtConf(w, "c1", "web")); err != nil {
			t.Fatalf("DEL %d: %v", i+1, err)
		}
	}
	if w.Attached() != 0 || len(w.Agent.Checkpoints()) != 0 {
		t.Fatal("DEL left links or checkpoints")
	}
	wantCNIError(t, rt.cni.CheckNetworkList(ctx, rt.list, rtConf(w, "c1", "web")), types.ErrUnknownContainer, "ADD it first")
}

func TestOutOfOrderCalls(t *testing.T) {
	w := agenttest.NewWorld(t)
	sock := w.Serve(t)
	w.Pods.Put("acme", "web", "", nil)
	rt := newRuntime(t, confList("1.1.0", sock, ""))
	if err := rt.cni.DelNetworkList(ctx, rt.list, rtConf(w, "c1", "web")); err != nil {
		t.Fatalf("DEL before ADD: %v", err)
	}
	wantCNIError(t, rt.cni.CheckNetworkList(ctx, rt.list, rtConf(w, "c1", "web")), types.ErrUnknownContainer)
	if _, err := rt.cni.AddNetworkList(ctx, rt.list, rtConf(w, "c1", "web")); err != nil {
		t.Fatalf("ADD after DEL: %v", err)
	}
	// The runtime deletes while the manager and the API server are down.
	w.Mgr.SetDown(true)
	w.Pods.SetDown(true)
	if err := rt.cni.DelNetworkList(ctx, rt.list, rtConf(w, "c1", "web")); err != nil {
		t.Fatalf("DEL with the manager down: %v", err)
	}
	_, err := rt.cni.AddNetworkList(ctx, rt.list, rtConf(w, "c2", "web"))
	wantCNIError(t, err, types.ErrTryAgainLater, "acme/web")
	wantNotGone(t, err)
	w.Pods.SetDown(false)
	_, err = rt.cni.AddNetworkList(ctx, rt.list, rtConf(w, "c2", "web"))
	wantCNIError(t, err, types.ErrTryAgainLater, "unavailable")
	wantNotGone(t, err)
	// GC needs nothing but the node's checkpoints either.
	if err := rt.cni.GCNetworkList(ctx, rt.list, &libcni.GCArgs{}); err != nil {
		t.Fatalf("GC with the manager down: %v", err)
	}
}

func TestGCThroughLibcni(t *testing.T) {
	w := agenttest.NewWorld(t)
	sock := w.Serve(t)
	conf := confList("1.1.0", sock, "")
	adder := newRuntime(t, conf)
	for _, id := range []string{"c1", "c2"} {
		w.Pods.Put("acme", "pod-"+id, "", nil)
		if _, err := adder.cni.AddNetworkList(ctx, adder.list, rtConf(w, id, "pod-"+id)); err != nil {
			t.Fatal(err)
		}
	}
	// A runtime that lost its cache: only the plugin's GC can find c1.
	gc := newRuntime(t, conf)
	if err := gc.cni.GCNetworkList(ctx, gc.list, &libcni.GCArgs{ValidAttachments: []types.GCAttachment{{ContainerID: "c2", IfName: "eth0"}}}); err != nil {
		t.Fatal(err)
	}
	if cps := w.Agent.Checkpoints(); len(cps) != 1 || cps[0].ContainerID != "c2" {
		t.Fatalf("after GC: %+v, want c2 alone", cps)
	}
	if len(w.DP.Links(w.Netns("c1"))) != 0 {
		t.Fatal("c1's links survived GC")
	}
}

// TestEveryCNIVersion drives ADD, CHECK and DEL through libcni at every CNI version the reference
// plugins speak, and without cniVersion; each result is parsed as the runtime parses it at the
// configuration's version, then converted to 1.0 as runtimes do. DEL works at every version, also
// from a runtime that lost its result cache.
func TestEveryCNIVersion(t *testing.T) {
	w := agenttest.NewWorld(t)
	sock := w.Serve(t)
	w.Pods.Put("acme", "web", "", map[string]string{netspec.NPWGAnnotation: "vl"})
	versions := append(cniversion.All.SupportedVersions(), "")
	if got := strings.Join(versions, " "); got != "0.1.0 0.2.0 0.3.0 0.3.1 0.4.0 1.0.0 1.1.0 " {
		t.Fatalf("versions under test %q, want 0.1.0 to 1.1.0 and none", got)
	}
	for i, v := range versions {
		t.Run("v"+v, func(t *testing.T) {
			id := fmt.Sprintf("c%d", i)
			conf := confList(v, sock, "")
			if v == "" {
				conf = strings.Replace(conf, `"cniVersion":"",`, "", 1)
			}
			rt := newRuntime(t, conf)
			raw, err := rt.cni.AddNetworkList(ctx, rt.list, rtConf(w, id, "web"))
			if err != nil {
				t.Fatalf("ADD: %v", err)
			}
			pod, _ := w.Mgr.Pod(t, "acme-web")
			want := v
			if want == "" {
				want = "0.1.0"
			}
			if raw.Version() != want {
				t.Fatalf("result version %q, want %q", raw.Version(), want)
			}
			// The runtime parses the plugin's stdout by the configuration's version.
			parsed, err := create.Create(want, []byte(mustJSON(raw)))
			if err != nil {
				t.Fatalf("the runtime cannot parse the result: %v", err)
			}
			switch r := parsed.(type) {
			case *types020.Result:
				if r.IP4 == nil || !r.IP4.IP.IP.Equal(pod.Ports[0].IPs[0].AsSlice()) || r.IP4.Gateway == nil ||
					len(r.IP4.Routes) != 1 || r.IP4.Routes[0].Dst.String() != "0.0.0.0/0" || r.IP4.Routes[0].GW.String() != "10.1.0.1" {
					t.Fatalf("%s result %s, want eth0's address %s and the default route through 10.1.0.1", want, mustJSON(r), pod.Ports[0].IPs[0])
				}
			case *types040.Result:
				if len(r.Interfaces) != 2 || len(r.IPs) != 2 || *r.IPs[1].Interface != 1 || r.Interfaces[1].Mac != pod.Ports[1].MAC.String() {
					t.Fatalf("%s result %s", want, mustJSON(r))
				}
			case *types100.Result:
				if len(r.Interfaces) != 2 || r.Interfaces[1].Name != "net1" || !r.IPs[1].Address.IP.Equal(pod.Ports[1].IPs[0].AsSlice()) {
					t.Fatalf("%s result %s", want, mustJSON(r))
				}
			default:
				t.Fatalf("%s result of type %T", want, parsed)
			}
			// A runtime converts what it got to the version it works in (containerd and CRI-O use
			// 1.0's types): every address survives, with its interface where the version has one.
			current, err := types100.NewResultFromResult(parsed)
			if err != nil {
				t.Fatalf("converting the %s result to 1.0: %v", want, err)
			}
			wantIPs := 2
			if want == "0.1.0" || want == "0.2.0" {
				wantIPs = 1 // ip4 alone: eth0's
			}
			if len(current.IPs) != wantIPs || !current.IPs[0].Address.IP.Equal(pod.Ports[0].IPs[0].AsSlice()) ||
				len(current.Routes) != 1 || current.Routes[0].GW.String() != "10.1.0.1" {
				t.Fatalf("the %s result as 1.0: %s", want, mustJSON(current))
			}
			checkable, _ := cniversion.GreaterThanOrEqualTo(want, "0.4.0")
			err = rt.cni.CheckNetworkList(ctx, rt.list, rtConf(w, id, "web"))
			switch {
			case checkable && err != nil:
				t.Fatalf("CHECK: %v", err)
			case !checkable && (err == nil || !strings.Contains(err.Error(), "does not support the CHECK command")):
				t.Fatalf("CHECK at %s: %v, want libcni's refusal", want, err)
			}
			if n := len(w.DP.Links(w.Netns(id))); n != 2 {
				t.Fatalf("%d links in the pod after ADD, want 2", n)
			}
			// The first DEL comes from a runtime that lost its result cache (a node's runtime
			// reinstalled, a meta-plugin's own cache): no prevResult, at any version. The runtime
			// that added the pod deletes it again after that.
			lost := newRuntime(t, conf)
			if err := lost.cni.DelNetworkList(ctx, lost.list, rtConf(w, id, "web")); err != nil {
				t.Fatalf("DEL without the runtime's cache: %v", err)
			}
			if len(w.DP.Links(w.Netns(id))) != 0 || len(w.Agent.Checkpoints()) != 0 {
				t.Fatal("DEL left links or checkpoints")
			}
			if err := rt.cni.DelNetworkList(ctx, rt.list, rtConf(w, id, "web")); err != nil {
				t.Fatalf("DEL again: %v", err)
			}
		})
	}
}

func TestInvalidConfigAndAnnotations(t *testing.T) {
	w := agenttest.NewWorld(t)
	sock := w.Serve(t)
	w.Pods.Put("acme", "web", "", nil)
	for _, c := range []struct{ extra, field string }{
		{`,"timeout":"forever"`, "timeout"},
		{`,"network":"no-tenant"`, "network"},
	} {
		conf := strings.Replace(confList("1.1.0", sock, ""), `"timeout":"20s"`, `"x":1`, 1)
		rt := newRuntime(t, strings.Replace(conf, `"x":1`, `"x":1`+c.extra, 1))
		_, err := rt.cni.AddNetworkList(ctx, rt.list, rtConf(w, "c1", "web"))
		wantCNIError(t, err, types.ErrInvalidNetworkConfig, c.field)
	}
	w.Pods.Put("acme", "bad", "", map[string]string{netspec.NPWGAnnotation: `[{"name":"vl","interfce":"net1"}]`})
	rt := newRuntime(t, confList("1.1.0", sock, ""))
	_, err := rt.cni.AddNetworkList(ctx, rt.list, rtConf(w, "c2", "bad"))
	wantCNIError(t, err, 100, `annotations["k8s.v1.cni.cncf.io/networks"]`)
	if len(w.Agent.Checkpoints()) != 0 || w.Attached() != 0 {
		t.Fatal("an invalid pod left a checkpoint or links")
	}
	if _, ok := w.Mgr.Pod(t, "acme-bad"); ok {
		t.Fatal("an invalid pod got ports")
	}
}

// TestAgentDownIsRetryable: with the agent's socket absent (an agent stopped cleanly) or left
// behind by a crash with nobody listening, every verb fails with code 11 (STATUS with 50), and no
// message reads as "not found" — Multus takes "no such file or directory" in a DEL's error for
// "already gone" and drops its record of the pod.
func TestAgentDownIsRetryable(t *testing.T) {
	dir := t.TempDir()
	stale := filepath.Join(dir, "stale.sock")
	ln, err := net.Listen("unix", stale)
	if err != nil {
		t.Fatal(err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	_ = ln.Close()
	for _, c := range []struct{ sock, why string }{
		{filepath.Join(dir, "nobody.sock"), "is absent"},
		{stale, "nobody listens"},
	} {
		rt := newRuntime(t, confList("1.1.0", c.sock, ""))
		wantCNIError(t, rt.cni.GetStatusNetworkList(ctx, rt.list), types.ErrPluginNotAvailable, "not reachable", c.sock, c.why)
		_, err := rt.cni.AddNetworkList(ctx, rt.list, rtConf(nil, "c1", "web"))
		wantCNIError(t, err, types.ErrTryAgainLater, "not reachable", c.why)
		for _, err := range []error{
			rt.cni.DelNetworkList(ctx, rt.list, rtConf(nil, "c1", "web")),
			rt.cni.CheckNetworkList(ctx, rt.list, rtConf(nil, "c1", "web")),
			rt.cni.GCNetworkList(ctx, rt.list, &libcni.GCArgs{}),
		} {
			wantCNIError(t, err, types.ErrTryAgainLater, "not reachable", c.sock, c.why, "retry")
			wantNotGone(t, err)
		}
	}
}

func TestStatusBeforeRegistration(t *testing.T) {
	w := agenttest.NewWorld(t)
	w.Mgr.SetDown(true)
	w.Agent = w.NewAgent(t) // restarted, not registered yet
	sock := w.Serve(t)
	rt := newRuntime(t, confList("1.1.0", sock, ""))
	wantCNIError(t, rt.cni.GetStatusNetworkList(ctx, rt.list), types.ErrPluginNotAvailable, "has not registered")
}
