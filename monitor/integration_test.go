//go:build integration

// The integration test runs knitter-monitor (the real binary) against a real kube-apiserver with
// an embedded etcd (hack/kubeapi) and a real knitter-manager behind its REST server. Run it with
// `make test-monitor-integration`; KNITTER_KUBE_BIN names the directory of kube-apiserver
// (hack/kube-build.sh prints it).
package monitor_test

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/knitter-cni/knitter/agent/agenttest"
	"github.com/knitter-cni/knitter/core/alloc"
	"github.com/knitter-cni/knitter/core/model"
	"github.com/knitter-cni/knitter/hack/kubeapi"
)

type cluster struct {
	t      *testing.T
	ctx    context.Context
	api    *kubeapi.Server
	kube   kubernetes.Interface
	mgr    *agenttest.Manager
	bin    string // knitter-monitor
	dir    string
	tokens string
}

func TestIntegration(t *testing.T) {
	binDir := os.Getenv("KNITTER_KUBE_BIN")
	if binDir == "" {
		binDir = "/var/cache/knitter/kube/v1.37.2/bin"
	}
	ctx := context.Background()
	c := &cluster{t: t, ctx: ctx, dir: t.TempDir()}
	var err error
	if c.api, err = kubeapi.Start(ctx, binDir, filepath.Join(c.dir, "api")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.api.Stop)
	rc, err := clientcmd.BuildConfigFromFlags("", c.api.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	rc.QPS, rc.Burst = 1000, 2000
	c.kube = kubernetes.NewForConfigOrDie(rc)
	c.mgr = agenttest.NewManager(t)
	// A network big enough for every pod of the test, as acme's default.
	big := netip.MustParsePrefix("10.16.0.0/20")
	var acme model.Tenant
	if err := c.mgr.M.View(func(s *alloc.State) { acme, _ = s.Tenant("acme") }); err != nil {
		t.Fatal(err)
	}
	acme.DefaultNetwork = "big"
	for _, cmd := range []alloc.Command{
		alloc.CreateNetworkCmd{Network: model.Network{Tenant: "acme", Name: "big", Type: model.Overlay, VNI: 5000, IPv4: &model.Subnet{CIDR: big, Gateway: big.Addr().Next()}}},
		alloc.UpdateTenantCmd{Tenant: acme},
	} {
		if _, err := c.mgr.M.Do(ctx, cmd); err != nil {
			t.Fatal(err)
		}
	}
	c.tokens = filepath.Join(c.dir, "monitor.token")
	if err := os.WriteFile(c.tokens, []byte(c.mgr.Token), 0o600); err != nil {
		t.Fatal(err)
	}
	c.bin = filepath.Join(c.dir, "knitter-monitor")
	if out, err := exec.Command("go", "build", "-o", c.bin, "../cmd/knitter-monitor").CombinedOutput(); err != nil {
		t.Fatalf("building knitter-monitor: %v\n%s", err, out)
	}
	if _, err := c.kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "acme"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	a := c.startMonitor("mon-a")
	// The lag is measured in the steady state: once the monitor leads, has synced its caches and
	// finished its first pass (pods created before that wait for the start, not for the path).
	eventually(t, time.Minute, "mon-a leading and reconciled once", func() bool { return a.reconciles(t) >= 1 })
	t.Run("500 pods allocated, lag at 100/s and at full speed", func(t *testing.T) { c.specCreate(t, a) })
	t.Run("deletes release into the cooldown", func(t *testing.T) { c.specDelete(t) })
	t.Run("force-delete and same-name recreate", func(t *testing.T) { c.specPhoenix(t, a) })
	t.Run("invalid annotation gives a Warning event", func(t *testing.T) { c.specInvalid(t) })
	t.Run("kill -9 and restart mid-stream", func(t *testing.T) { a = c.specKill(t, a) })
	t.Run("leader handover", func(t *testing.T) { c.specHandover(t, a) })
}

// monitorProc is a running knitter-monitor.
type monitorProc struct {
	id  string
	cmd *exec.Cmd
	log string // its log file
}

// reconciles is how many reconcile passes the monitor has finished, from its /metrics.
func (p *monitorProc) reconciles(t *testing.T) int {
	t.Helper()
	m := regexp.MustCompile(`(?m)^knitter_monitor_sync_duration_seconds_count\{handler="reconcile"\} (\d+)$`).FindSubmatch(p.metrics(t))
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(string(m[1]))
	return n
}

// observedLag is the monitor's knitter_monitor_allocation_lag_observed_seconds histogram: the
// cumulative count of each bucket, by upper bound.
func (p *monitorProc) observedLag(t *testing.T) map[float64]int {
	t.Helper()
	out := map[float64]int{}
	for _, m := range regexp.MustCompile(`(?m)^knitter_monitor_allocation_lag_observed_seconds_bucket\{le="([^"]+)"\} (\d+)$`).FindAllSubmatch(p.metrics(t), -1) {
		le, _ := strconv.ParseFloat(string(m[1]), 64)
		n, _ := strconv.Atoi(string(m[2]))
		out[le] = n
	}
	return out
}

// quantileBound is the upper bound of the bucket holding quantile q of the samples that after has
// and before had not.
func quantileBound(before, after map[float64]int, q float64) (bound float64, n int) {
	var les []float64
	for le := range after {
		les = append(les, le)
	}
	slices.Sort(les)
	total := after[math.Inf(1)] - before[math.Inf(1)]
	for _, le := range les {
		if float64(after[le]-before[le]) >= q*float64(total) {
			return le, total
		}
	}
	return math.Inf(1), total
}

// metrics is the monitor's /metrics page (at the address its log names).
func (p *monitorProc) metrics(t *testing.T) []byte {
	t.Helper()
	var addr string
	eventually(t, 30*time.Second, p.id+" serving /metrics", func() bool {
		b, _ := os.ReadFile(p.log)
		// The last start's line: a restarted monitor appends to the same log.
		all := regexp.MustCompile(`msg="serving /metrics[^"]*" listen=(\S+)`).FindAllSubmatch(b, -1)
		if len(all) > 0 {
			addr = string(all[len(all)-1][1])
		}
		return len(all) > 0
	})
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return body
}

func (c *cluster) startMonitor(id string) *monitorProc {
	c.t.Helper()
	log, err := os.OpenFile(filepath.Join(c.dir, id+".log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		c.t.Fatal(err)
	}
	cmd := exec.Command(c.bin, "--kubeconfig", c.api.Kubeconfig, "--manager-url", c.mgr.URL, "--manager-token-file", c.tokens,
		"--listen", "127.0.0.1:0", "--identity", id, "--lease-namespace", "default", "--lease-duration", "4s",
		"--reconcile-period", "3s", "--orphan-grace", "1s", "--workers", "8")
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	p := &monitorProc{id: id, cmd: cmd, log: log.Name()}
	c.t.Cleanup(func() { p.kill(); log.Close() })
	return p
}

// kill ends the monitor with SIGKILL: no lease release, no cleanup.
func (p *monitorProc) kill() {
	if p.cmd.ProcessState == nil {
		_ = p.cmd.Process.Kill()
		_ = p.cmd.Wait()
	}
}

func (c *cluster) pod(name string, annotations map[string]string) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "acme", Name: name, Annotations: annotations},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "localhost/pause:dev"}}}}
}

// create creates pods name-0..n-1, at most rate per second (0: as fast as 16 clients go), and
// returns each pod's UID with the time its create request was sent.
func (c *cluster) create(t *testing.T, prefix string, n int, rate int) map[string]time.Time {
	var mu sync.Mutex
	sent := map[string]time.Time{}
	names := make(chan int)
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for i := range names {
				start := time.Now()
				p, err := c.kube.CoreV1().Pods("acme").Create(c.ctx, c.pod(fmt.Sprintf("%s-%d", prefix, i), nil), metav1.CreateOptions{})
				if err != nil {
					t.Error(err)
					continue
				}
				mu.Lock()
				sent[string(p.UID)] = start
				mu.Unlock()
			}
		})
	}
	var tick *time.Ticker
	if rate > 0 {
		tick = time.NewTicker(time.Second / time.Duration(rate))
		defer tick.Stop()
	}
	for i := range n {
		if tick != nil {
			<-tick.C
		}
		names <- i
	}
	close(names)
	wg.Wait()
	return sent
}

// managerPods returns the manager's allocations by UID.
func (c *cluster) managerPods() map[string]model.Pod {
	out := map[string]model.Pod{}
	if err := c.mgr.M.View(func(s *alloc.State) {
		for _, uid := range s.Pods() {
			p, _ := s.Pod(uid)
			out[uid] = p
		}
	}); err != nil {
		c.t.Fatal(err)
	}
	return out
}

// eventually polls cond until it holds, failing after limit.
func eventually(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %s", limit, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (c *cluster) livePods() map[string]bool {
	list, err := c.kube.CoreV1().Pods("acme").List(c.ctx, metav1.ListOptions{})
	if err != nil {
		c.t.Fatal(err)
	}
	out := map[string]bool{}
	for _, p := range list.Items {
		out[string(p.UID)] = true
	}
	return out
}

// lags reports how long after its create request each pod's ports existed in the manager.
func (c *cluster) lags(t *testing.T, label string, sent map[string]time.Time) {
	eventually(t, 2*time.Minute, "every pod allocated", func() bool {
		mp := c.managerPods()
		for uid := range sent {
			if _, ok := mp[uid]; !ok {
				return false
			}
		}
		return true
	})
	mp := c.managerPods()
	var lags []time.Duration
	first := time.Time{}
	for _, at := range sent {
		if first.IsZero() || at.Before(first) {
			first = at
		}
	}
	type tail struct{ lag, at time.Duration }
	var tails []tail
	for uid, at := range sent {
		created := time.UnixMilli(int64(mp[uid].Created))
		lags = append(lags, created.Sub(at))
		tails = append(tails, tail{created.Sub(at), at.Sub(first)})
	}
	slices.Sort(lags)
	slices.SortFunc(tails, func(a, b tail) int { return int(b.lag - a.lag) })
	worst := tails[0]
	q := func(f float64) time.Duration { return lags[min(len(lags)-1, int(f*float64(len(lags))))] }
	t.Logf("%s: %d pods, allocation lag behind the create request p50 %s, p99 %s, max %s (the pod sent at +%s)", label, len(lags),
		q(0.50).Round(time.Millisecond), q(0.99).Round(time.Millisecond), lags[len(lags)-1].Round(time.Millisecond), worst.at.Round(time.Millisecond))
}

func (c *cluster) specCreate(t *testing.T, mon *monitorProc) {
	// The monitor's own share (informer delivery → allocated), from its histogram: what is left of
	// the lag is the API server's create and watch delivery.
	own := func(label string, before map[float64]int) {
		after := mon.observedLag(t)
		p50, n := quantileBound(before, after, 0.50)
		p99, _ := quantileBound(before, after, 0.99)
		t.Logf("%s: the monitor's own share (informer delivery → allocated) over %d pods: p50 ≤ %gs, p99 ≤ %gs (bucket bounds)", label, n, p50, p99)
	}
	before := mon.observedLag(t)
	start := time.Now()
	paced := c.create(t, "paced", 300, 100)
	t.Logf("paced: 300 pods created in %s", time.Since(start).Round(time.Millisecond))
	c.lags(t, "at 100 pods/s", paced)
	own("at 100 pods/s", before)
	before = mon.observedLag(t)
	start = time.Now()
	burst := c.create(t, "burst", 500, 0)
	t.Logf("burst: 500 pods created in %s (%.0f pods/s)", time.Since(start).Round(time.Millisecond), 500/time.Since(start).Seconds())
	c.lags(t, "at full speed", burst)
	own("at full speed", before)
}

func (c *cluster) specDelete(t *testing.T) {
	before := c.managerPods()
	freed := 0
	for _, p := range before {
		freed += len(p.Ports)
	}
	if err := c.kube.CoreV1().Pods("acme").DeleteCollection(c.ctx, metav1.DeleteOptions{}, metav1.ListOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, time.Minute, "every deleted pod released", func() bool { return len(c.managerPods()) == 0 })
	var cooling uint64
	if err := c.mgr.M.View(func(s *alloc.State) {
		v4, _, _ := s.PoolStats("acme/big")
		cooling = v4.Cooling
	}); err != nil {
		t.Fatal(err)
	}
	// The cooldown is 30s: every address freed above is still out of use.
	if cooling != uint64(freed) {
		t.Fatalf("%d addresses cooling after releasing %d ports", cooling, freed)
	}
	// A new pod gets a fresh address, not one that is cooling down.
	old := map[netip.Addr]bool{}
	for _, p := range before {
		old[p.Ports[0].IPs[0]] = true
	}
	sent := c.create(t, "fresh", 1, 0)
	eventually(t, time.Minute, "the fresh pod allocated", func() bool { return len(c.managerPods()) == 1 })
	for uid := range sent {
		if ip := c.managerPods()[uid].Ports[0].IPs[0]; old[ip] {
			t.Fatalf("the fresh pod got %s, an address still in its cooldown", ip)
		}
	}
}

func (c *cluster) specPhoenix(t *testing.T, leader *monitorProc) {
	p1, err := c.kube.CoreV1().Pods("acme").Create(c.ctx, c.pod("phoenix", nil), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, time.Minute, "phoenix allocated", func() bool { _, ok := c.managerPods()[string(p1.UID)]; return ok })
	zero := int64(0)
	if err := c.kube.CoreV1().Pods("acme").Delete(c.ctx, "phoenix", metav1.DeleteOptions{GracePeriodSeconds: &zero}); err != nil {
		t.Fatal(err)
	}
	p2, err := c.kube.CoreV1().Pods("acme").Create(c.ctx, c.pod("phoenix", nil), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, time.Minute, "old UID freed and the new one allocated", func() bool {
		mp := c.managerPods()
		_, old := mp[string(p1.UID)]
		_, cur := mp[string(p2.UID)]
		return !old && cur
	})
	// And it stays so across a reconcile pass that began after the recreate (the pass under way now
	// may have begun before it): counted, not timed.
	passes := leader.reconciles(t)
	eventually(t, time.Minute, "two more reconcile passes", func() bool { return leader.reconciles(t) >= passes+2 })
	if _, ok := c.managerPods()[string(p2.UID)]; !ok {
		t.Fatal("the recreated pod lost its ports")
	}
}

func (c *cluster) specInvalid(t *testing.T) {
	p, err := c.kube.CoreV1().Pods("acme").Create(c.ctx, c.pod("bad", map[string]string{"k8s.v1.cni.cncf.io/networks": `[{"name": "vl", "interface": "eth0/x"}]`}), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var msg string
	eventually(t, time.Minute, "a Warning event on the pod", func() bool {
		evs, err := c.kube.CoreV1().Events("acme").List(c.ctx, metav1.ListOptions{FieldSelector: fields.OneTermEqualSelector("involvedObject.uid", string(p.UID)).String()})
		if err != nil || len(evs.Items) == 0 {
			return false
		}
		e := evs.Items[0]
		msg = e.Reason + ": " + e.Message
		return e.Type == corev1.EventTypeWarning && e.Reason == "InvalidNetworks"
	})
	t.Logf("event: %s", msg)
	if _, ok := c.managerPods()[string(p.UID)]; ok {
		t.Fatal("an invalid pod got ports")
	}
	if err := c.kube.CoreV1().Pods("acme").Delete(c.ctx, "bad", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
}

func (c *cluster) specKill(t *testing.T, a *monitorProc) *monitorProc {
	done := make(chan map[string]time.Time)
	go func() { done <- c.create(t, "stream", 300, 150) }()
	eventually(t, time.Minute, "100 stream pods allocated", func() bool { return len(c.managerPods()) >= 100 })
	a.kill()
	// While the monitor is dead: delete some pods, allocated or not.
	list, err := c.kube.CoreV1().Pods("acme").List(c.ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range list.Items {
		if i%4 == 0 {
			if err := c.kube.CoreV1().Pods("acme").Delete(c.ctx, p.Name, metav1.DeleteOptions{}); err != nil {
				t.Fatal(err)
			}
		}
	}
	a = c.startMonitor(a.id)
	<-done
	eventually(t, time.Minute, "the manager holds exactly the live pods", func() bool {
		live, mp := c.livePods(), c.managerPods()
		if len(live)-1 != len(mp) { // the invalid pod was deleted; every live pod but none else
			if len(live) != len(mp) {
				return false
			}
		}
		for uid := range mp {
			if !live[uid] {
				return false
			}
		}
		for uid := range live {
			if _, ok := mp[uid]; !ok {
				return false
			}
		}
		return true
	})
	seen := map[netip.Addr]string{}
	for uid, p := range c.managerPods() {
		for _, port := range p.Ports {
			for _, ip := range port.IPs {
				if other, dup := seen[ip]; dup {
					t.Fatalf("%s is both %s's and %s's", ip, other, uid)
				}
				seen[ip] = uid
			}
		}
	}
	t.Logf("after the restart: %d live pods, %d allocations, no duplicate address", len(c.livePods()), len(c.managerPods()))
	return a
}

func (c *cluster) holder() string {
	l, err := c.kube.CoordinationV1().Leases("default").Get(c.ctx, "knitter-monitor", metav1.GetOptions{})
	if err != nil || l.Spec.HolderIdentity == nil {
		return ""
	}
	return *l.Spec.HolderIdentity
}

func (c *cluster) specHandover(t *testing.T, a *monitorProc) {
	b := c.startMonitor("mon-b")
	eventually(t, 30*time.Second, "mon-a leads", func() bool { return c.holder() == "mon-a" })
	a.kill()
	start := time.Now()
	eventually(t, time.Minute, "mon-b takes the lease", func() bool { return c.holder() == "mon-b" })
	t.Logf("mon-b took over %s after mon-a was killed (lease 4s)", time.Since(start).Round(time.Millisecond))
	p, err := c.kube.CoreV1().Pods("acme").Create(c.ctx, c.pod("after-handover", nil), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, time.Minute, "the new leader allocates", func() bool { _, ok := c.managerPods()[string(p.UID)]; return ok })
	_ = b
}
