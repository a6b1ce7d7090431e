package nodebench

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/containernetworking/cni/libcni"

	"github.com/knitter-cni/knitter/adapters/checkpoint"
	"github.com/knitter-cni/knitter/adapters/netlinkdp"
	"github.com/knitter-cni/knitter/adapters/podfile"
	"github.com/knitter-cni/knitter/agent"
	"github.com/knitter-cni/knitter/agent/wire"
	"github.com/knitter-cni/knitter/core/model"
	"github.com/knitter-cni/knitter/core/plan"
)

// agentNode is the node name of an in-process agent.
const agentNode = "bench-node"

// knitterRig is Knitter's whole node path with the agent in the benchmark's process: libcni executes
// the knitter-plugin binary, which calls the agent's handler on a unix socket; the agent builds the
// links with netlinkdp in the rig's node namespace and keeps its checkpoints in a directory. Timers around
// the handler and the dataplane split each call into the plugin's share (process start, libcni,
// the socket), the agent's own and the netlink work.
type knitterRig struct {
	// podDir holds the manifests of the pods the rig attaches (the agent's pod source).
	podDir string
	w      *world
	node   *netNS
	agent  *agent.Agent
	cni    *libcni.CNIConfig
	list   *libcni.NetworkConfigList
	// served times the agent's handler per wire verb (a map written only here, so read freely);
	// attach and detach time the dataplane; mgr adds up the time spent in calls to the manager.
	served         map[string]*samples
	attach, detach *samples
	// quiesce times the dataplane's Quiesce: the part of a deferred DEL's teardown before its answer.
	quiesce *samples
	mgr     *timedManager
}

// newKnitterRig starts the agent of node nodeName with its checkpoints in stateDir (see stateDir)
// and serves it until tb ends.
func newKnitterRig(tb testing.TB, w *world, nodeName, stateDir string) *knitterRig {
	tb.Helper()
	plugin := pluginBinary.build(tb)
	r := &knitterRig{w: w, node: newNode(tb), attach: &samples{}, detach: &samples{}, quiesce: &samples{},
		mgr:    &timedManager{ManagerClient: w.mgr.Port()},
		served: map[string]*samples{wire.VerbAdd: {}, wire.VerbDel: {}, wire.VerbCheck: {}}}
	dp, err := netlinkdp.New(netlinkdp.Options{HostNetns: r.node.Path()})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = dp.Close() })
	store, err := checkpoint.Open(stateDir)
	if err != nil {
		tb.Fatal(err)
	}
	r.podDir = tb.TempDir()
	// As knitter-agent runs it: DEL answers once the pod's links are down, and RunTeardowns removes
	// them after the answer (settle waits for that).
	r.agent, err = agent.New(&timedDataplane{Dataplane: dp, attach: r.attach, detach: r.detach, quiesce: r.quiesce},
		podfile.Source{Dir: r.podDir}, r.mgr, store, agent.Options{
			Node: plan.Node{Name: nodeName, VTEP: vtep(), VTEPDevice: underlayNIC,
				Uplinks: map[string]string{physicalNetwork: parentNIC}, MTU: 1500},
			Logger:        slog.New(slog.DiscardHandler),
			DeferTeardown: true,
		})
	if err != nil {
		tb.Fatal(err)
	}
	runCtx, stop := context.WithCancel(context.Background())
	worker := make(chan struct{})
	go func() {
		defer close(worker)
		r.agent.RunTeardowns(runCtx)
	}()
	tb.Cleanup(func() { stop(); <-worker })
	if err := r.agent.Heartbeat(context.Background()); err != nil {
		tb.Fatal(err)
	}
	r.current(tb)
	sock := r.serve(tb)
	r.cni = libcni.NewCNIConfigWithCacheDir([]string{filepath.Dir(plugin)}, tb.TempDir(), nil)
	if r.list, err = libcni.ConfListFromBytes([]byte(knitterConfList(sock))); err != nil {
		tb.Fatal(err)
	}
	return r
}

// current does what the agent's watch loop does: learn the node set, then report it applied, so
// that the peer gate finds this agent current (the common case) and only a warm-up pod asks it.
func (r *knitterRig) current(tb testing.TB) {
	tb.Helper()
	for range 2 {
		if err := r.agent.PollPeers(context.Background()); err != nil {
			tb.Fatal(err)
		}
	}
}

// resetTimers drops the split timings taken so far (the warm-up pods').
func (r *knitterRig) resetTimers() {
	for _, s := range r.served {
		s.reset()
	}
	r.attach.reset()
	r.detach.reset()
	r.quiesce.reset()
}

// settle returns once the teardowns of the DELs answered so far are done: it finishes what the
// worker has not started and waits for what it is doing.
func (r *knitterRig) settle(ctx context.Context) error { return r.agent.FinishTeardowns(ctx) }

// knitterConfList is the network configuration a node's runtime reads: knitter as the main CNI.
func knitterConfList(sock string) string {
	return fmt.Sprintf(`{"cniVersion":"1.1.0","name":"knitter","plugins":[{"type":"knitter","agentSocket":%q,"timeout":"60s"}]}`, sock)
}

func vtep() netip.Addr { return netip.MustParsePrefix(vtepCIDR).Addr() }

// serve serves the agent's handler, behind the timer, on a unix socket in a short temp directory
// (socket paths are limited to 108 bytes) until tb ends.
func (r *knitterRig) serve(tb testing.TB) string {
	tb.Helper()
	dir, err := os.MkdirTemp("", "kn")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = os.RemoveAll(dir) })
	sock := filepath.Join(dir, "agent.sock")
	ln, err := agent.Listen(sock)
	if err != nil {
		tb.Fatal(err)
	}
	handler := agent.NewServer(r.agent, 16)
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		start := time.Now()
		handler.ServeHTTP(w, req)
		if s, ok := r.served[filepath.Base(req.URL.Path)]; ok {
			s.add(time.Since(start))
		}
	})}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	tb.Cleanup(func() {
		if err := srv.Close(); err != nil {
			tb.Error(err)
		}
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			tb.Errorf("serving the agent: %v", err)
		}
	})
	return sock
}

func (r *knitterRig) add(ctx context.Context, p *pod) error {
	if err := p.writeManifest(r.podDir); err != nil {
		return err
	}
	_, err := r.cni.AddNetworkList(ctx, r.list, p.rtConf("eth0"))
	return err
}

func (r *knitterRig) del(ctx context.Context, p *pod) error {
	return r.cni.DelNetworkList(ctx, r.list, p.rtConf("eth0"))
}

// plan returns the links the agent built for container id, from its checkpoint.
func (r *knitterRig) plan(id string) (plan.Pod, error) {
	for _, cp := range r.agent.Checkpoints() {
		if cp.ContainerID == id {
			return cp.Plan, nil
		}
	}
	return plan.Pod{}, fmt.Errorf("the agent has no checkpoint of container %s", id)
}

// cycle adds pod name, checks its links against the agent's plan and the manager's allocation by
// reading netlink back, runs CHECK, deletes it and checks that nothing of it is left. It returns the
// pod's plan.
func (r *knitterRig) cycle(tb testing.TB, name string) plan.Pod {
	tb.Helper()
	ctx := context.Background()
	p := newPod(tb, r.w, name)
	defer closePod(tb, r.w, p)
	if err := r.add(ctx, p); err != nil {
		tb.Fatalf("ADD: %v", err)
	}
	pl, err := r.plan(p.containerID)
	if err != nil {
		tb.Fatal(err)
	}
	if err := matchesAllocation(tb, r.w, p, pl); err != nil {
		tb.Fatal(err)
	}
	if err := checkLinks(r.node, p.ns, wantFromPlan(pl)); err != nil {
		tb.Fatalf("after ADD: %v", err)
	}
	if err := r.cni.CheckNetworkList(ctx, r.list, p.rtConf("eth0")); err != nil {
		tb.Fatalf("CHECK: %v", err)
	}
	if err := r.del(ctx, p); err != nil {
		tb.Fatalf("DEL: %v", err)
	}
	if err := r.settle(ctx); err != nil {
		tb.Fatalf("finishing the DEL's teardown: %v", err)
	}
	if err := checkPodEmpty(p.ns); err != nil {
		tb.Fatal(err)
	}
	if err := checkNodeClean(r.node); err != nil {
		tb.Fatal(err)
	}
	if _, err := r.plan(p.containerID); err == nil {
		tb.Fatal("DEL left the checkpoint")
	}
	return pl
}

// matchesAllocation checks that the plan has every port the manager allocated to the pod, with its
// MAC and address, so that the readback that follows checks the allocation and not only the plan.
func matchesAllocation(tb testing.TB, w *world, p *pod, pl plan.Pod) error {
	tb.Helper()
	alloc, ok := w.mgr.Pod(tb, p.uid)
	if !ok {
		return fmt.Errorf("the manager has no allocation for pod %s", p.uid)
	}
	if len(pl.Links) != len(podNICs) || len(alloc.Ports) != len(podNICs) {
		return fmt.Errorf("%d links planned and %d ports allocated, want %d of each", len(pl.Links), len(alloc.Ports), len(podNICs))
	}
	for _, port := range alloc.Ports {
		found := false
		for _, l := range pl.Links {
			if l.PodIf == port.Interface {
				found = l.MAC == port.MAC && len(l.Addrs) == 1 && l.Addrs[0].Addr() == port.IPs[0]
			}
		}
		if !found {
			return fmt.Errorf("port %s (%s %s %v) is not planned as allocated: %+v", port.ID, port.Interface, port.MAC, port.IPs, pl.Links)
		}
	}
	return nil
}

// timedManager adds up the time the agent spends in the manager calls of an ADD — binding the pod's
// ports to the node (which answers with the ports and their networks), the peer gate when it is
// asked, any other read — and counts the calls.
type timedManager struct {
	agent.ManagerClient
	total atomic.Int64 // nanoseconds
	gates atomic.Int64 // peer-gate calls
	calls atomic.Int64 // every call, a round trip each
}

// spent returns the time spent in manager calls so far.
func (m *timedManager) spent() time.Duration { return time.Duration(m.total.Load()) }

func (m *timedManager) since(start time.Time) {
	m.total.Add(int64(time.Since(start)))
	m.calls.Add(1)
}

func (m *timedManager) Pod(ctx context.Context, uid string) (model.Pod, error) {
	defer m.since(time.Now())
	return m.ManagerClient.Pod(ctx, uid)
}

func (m *timedManager) Network(ctx context.Context, tenant, name string) (model.Network, error) {
	defer m.since(time.Now())
	return m.ManagerClient.Network(ctx, tenant, name)
}

func (m *timedManager) WaitPeersApplied(ctx context.Context, node string, wait time.Duration) ([]string, error) {
	defer m.since(time.Now())
	m.gates.Add(1)
	return m.ManagerClient.WaitPeersApplied(ctx, node, wait)
}

func (m *timedManager) BindPod(ctx context.Context, uid, node string) (agent.Binding, error) {
	defer m.since(time.Now())
	return m.ManagerClient.BindPod(ctx, uid, node)
}

// timedDataplane times the dataplane's Attach and Detach.
type timedDataplane struct {
	agent.Dataplane
	attach, detach, quiesce *samples
}

// Quiesce makes the timed dataplane a Quiescer when the one it wraps is.
func (d *timedDataplane) Quiesce(ctx context.Context, pod plan.Pod) (bool, error) {
	q, ok := d.Dataplane.(agent.Quiescer)
	if !ok {
		return false, nil
	}
	start := time.Now()
	quiet, err := q.Quiesce(ctx, pod)
	d.quiesce.add(time.Since(start))
	return quiet, err
}

func (d *timedDataplane) Attach(ctx context.Context, pod plan.Pod) error {
	start := time.Now()
	err := d.Dataplane.Attach(ctx, pod)
	d.attach.add(time.Since(start))
	return err
}

func (d *timedDataplane) Detach(ctx context.Context, pod plan.Pod) error {
	start := time.Now()
	err := d.Dataplane.Detach(ctx, pod)
	d.detach.add(time.Since(start))
	return err
}
