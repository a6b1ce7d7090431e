package monitor_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8stypes "k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/tools/record"

	"github.com/knitter-cni/knitter/adapters/httpapi"
	"github.com/knitter-cni/knitter/core/alloc"
	"github.com/knitter-cni/knitter/core/model"
	"github.com/knitter-cni/knitter/monitor"
	"github.com/knitter-cni/knitter/monitor/monitortest"
)

// listedManager answers Ports by decoding JSON pages of httpapi.MaxPageSize ports, as the REST
// client does with the manager's answers, so the benchmark counts the monitor's whole CPU of a pass
// except the network.
type listedManager struct {
	monitor.Manager
	pages [][]byte
}

func (l listedManager) Ports(_ context.Context, _ string, page func([]model.Port)) error {
	for _, body := range l.pages {
		var out struct {
			Ports []model.Port `json:"ports"`
		}
		if err := json.Unmarshal(body, &out); err != nil {
			return err
		}
		page(out.Ports)
	}
	return nil
}

func (listedManager) ReleasePod(context.Context, string) error { return nil }

// BenchmarkReconcile150kPorts is one full reconcile pass: 150,000 ports of 50,000 pods from the
// manager against 50,000 pods and 500 nodes in the informer caches (1% of the pods gone).
func BenchmarkReconcile150kPorts(b *testing.B) {
	const pods, nics, nodes = 50000, 3, 500
	factory := informers.NewSharedInformerFactory(fake.NewClientset(), 0)
	podIdx := factory.Core().V1().Pods().Informer().GetIndexer()
	nodeIdx := factory.Core().V1().Nodes().Informer().GetIndexer()
	for i := range nodes {
		_ = nodeIdx.Add(node(fmt.Sprintf("node-%03d", i), true, t0))
	}
	var ports []model.Port
	for i := range pods {
		uid := fmt.Sprintf("%08d-0000-4000-8000-000000000000", i)
		nodeName := fmt.Sprintf("node-%03d", i%nodes)
		if i%100 != 0 {
			_ = podIdx.Add(&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "acme", Name: fmt.Sprintf("p-%d", i), UID: k8stypes.UID(uid)},
				Spec: corev1.PodSpec{NodeName: nodeName}})
		}
		for n := range nics {
			ports = append(ports, model.Port{ID: fmt.Sprintf("%s/eth%d", uid, n), Tenant: "acme", Network: fmt.Sprintf("acme/net%d", n),
				Pod: model.PodRef{UID: uid, Namespace: "acme", Name: fmt.Sprintf("p-%d", i)}, Interface: fmt.Sprintf("eth%d", n),
				IPs: []netip.Addr{netip.AddrFrom4([4]byte{10, byte(n), byte(i >> 8), byte(i)})}, Node: nodeName, State: model.PortBound})
		}
	}
	var pages [][]byte
	for rest := ports; len(rest) > 0; {
		k := min(httpapi.MaxPageSize, len(rest))
		body, err := json.Marshal(map[string]any{"ports": rest[:k]})
		if err != nil {
			b.Fatal(err)
		}
		pages, rest = append(pages, body), rest[k:]
	}
	fakeMgr, err := monitortest.NewManager(alloc.DefaultConfig(), func() time.Time { return t0 })
	if err != nil {
		b.Fatal(err)
	}
	m, err := monitor.New(monitor.Config{}, monitor.Deps{Kube: fake.NewClientset(), Informers: factory,
		Manager: listedManager{Manager: fakeMgr, pages: pages}, Recorder: record.NewFakeRecorder(1), Clock: &clock{t: t0}})
	if err != nil {
		b.Fatal(err)
	}
	defer m.PodQueue.ShutDown()
	ctx := context.Background()
	b.ReportAllocs()
	cpu0 := cpuTime()
	for b.Loop() {
		if err := m.Reconcile(ctx, ""); err != nil {
			b.Fatal(err)
		}
	}
	// CPU rather than wall time: on a shared machine the wall time says more about the neighbours.
	b.ReportMetric((cpuTime()-cpu0).Seconds()/float64(b.N), "cpu-s/op")
	b.ReportMetric(float64(len(ports)), "ports")
}

// cpuTime is the process's user + system CPU time so far (every thread, the GC's included).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
