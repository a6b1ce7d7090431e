package nodebench

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// vmStatus is the memory of a process as /proc/<pid>/status gives it, in KiB.
type vmStatus struct {
	// rss is the resident set now (VmRSS); hwm its high-water mark since the process started
	// (VmHWM), which also catches peaks between two samples.
	rss, hwm uint64
}

// parseVmStatus reads VmRSS and VmHWM from the text of /proc/<pid>/status.
func parseVmStatus(text string) (vmStatus, error) {
	var v vmStatus
	found := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if !ok || (key != "VmRSS" && key != "VmHWM") {
			continue
		}
		fields := strings.Fields(val)
		if len(fields) != 2 || fields[1] != "kB" {
			return v, fmt.Errorf("%s: %q is not a size in kB", key, strings.TrimSpace(val))
		}
		n, err := strconv.ParseUint(fields[0], 10, 64)
		if err != nil {
			return v, fmt.Errorf("%s: %w", key, err)
		}
		if key == "VmRSS" {
			v.rss = n
		} else {
			v.hwm = n
		}
		found[key] = true
	}
	if !found["VmRSS"] || !found["VmHWM"] {
		return v, fmt.Errorf("no VmRSS and VmHWM in the status (a kernel thread, or a process that has exited?)")
	}
	return v, nil
}

func readVmStatus(pid int) (vmStatus, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return vmStatus{}, err
	}
	return parseVmStatus(string(b))
}

// rssSampler samples a process's memory every interval until stopped, keeping the largest RSS seen.
type rssSampler struct {
	pid      int
	stopped  chan struct{}
	done     sync.WaitGroup
	mu       sync.Mutex
	peak     uint64
	count    int
	firstErr error
}

func sampleRSS(pid int, interval time.Duration) *rssSampler {
	s := &rssSampler{pid: pid, stopped: make(chan struct{})}
	s.sample()
	s.done.Go(func() {
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			select {
			case <-s.stopped:
				return
			case <-tick.C:
				s.sample()
			}
		}
	})
	return s
}

func (s *rssSampler) sample() {
	v, err := readVmStatus(s.pid)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		if s.firstErr == nil {
			s.firstErr = err
		}
		return
	}
	s.peak, s.count = max(s.peak, v.rss), s.count+1
}

// stop takes a last sample and returns the peak RSS in KiB and the number of samples.
func (s *rssSampler) stop() (peak uint64, count int, err error) {
	close(s.stopped)
	s.done.Wait()
	s.sample()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.peak, s.count, s.firstErr
}

func mib(kib uint64) float64 { return float64(kib) / 1024 }

// burstPods and burstWorkers shape BenchmarkAgentRSS's burst: 200 pods added by 8 callers at once.
const (
	burstPods    = 200
	burstWorkers = 8
)

// inWorkers runs f for every pod with n callers at once and returns the first error.
func inWorkers(pods []*pod, n int, f func(*pod) error) error {
	next := make(chan *pod)
	errs := make(chan error, len(pods))
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			for p := range next {
				if err := f(p); err != nil {
					errs <- fmt.Errorf("pod %s: %w", p.name, err)
				}
			}
		})
	}
	for _, p := range pods {
		next <- p
	}
	close(next)
	wg.Wait()
	close(errs)
	return <-errs
}

// BenchmarkAgentRSS runs knitter-agent as its own process, as on a node, and drives a burst of
// burstPods pod ADDs (eth0 + 3 extra NICs each, ports allocated beforehand) through the plugin with
// burstWorkers callers at once, all pods staying up, then DELs them all the same way. It samples
// the agent's /proc/<pid>/status every 50 ms and reports the largest RSS seen, the kernel's
// high-water mark (VmHWM, peaks between samples included), the RSS before the burst, and the burst's
// pod ADDs and DELs per second. After the burst every pod is checked for its interfaces; after the
// DELs no pod interface, node veth or checkpoint may be left. ns/op is one burst of ADDs.
func BenchmarkAgentRSS(b *testing.B) {
	needRoot(b)
	w := newWorld(b)
	node := newNode(b)
	a := startAgent(b, w, node)
	idle, err := readVmStatus(a.pid())
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	var peak uint64
	var samples int
	var adds, dels rate
	b.ResetTimer()
	b.StopTimer()
	for i := range b.N {
		pods := make([]*pod, burstPods)
		for j := range pods {
			pods[j] = newPod(b, w, fmt.Sprintf("burst-%d-%d", i, j))
		}
		s := sampleRSS(a.pid(), 50*time.Millisecond)
		b.StartTimer()
		start := time.Now()
		err := inWorkers(pods, burstWorkers, func(p *pod) error { return a.add(ctx, p) })
		adds.add(len(pods), time.Since(start))
		b.StopTimer()
		if err != nil {
			b.Fatalf("ADD: %v\n%s", err, a.logs)
		}
		for _, p := range pods {
			if err := checkLinkCount(p.ns, len(podNICs)); err != nil {
				b.Fatalf("pod %s after the burst: %v", p.name, err)
			}
		}
		start = time.Now()
		err = inWorkers(pods, burstWorkers, func(p *pod) error { return a.del(ctx, p) })
		if err == nil {
			err = a.settle(ctx) // DELs/s counts the links removed, not only the answers
		}
		dels.add(len(pods), time.Since(start))
		p, n, serr := s.stop()
		if err != nil {
			b.Fatalf("DEL: %v\n%s", err, a.logs)
		}
		if serr != nil {
			b.Fatalf("sampling the agent's memory: %v", serr)
		}
		peak, samples = max(peak, p), samples+n
		checkBurstGone(b, a, node, pods)
		for _, p := range pods {
			closePod(b, w, p)
		}
	}
	last, err := readVmStatus(a.pid())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(mib(peak), "peak-RSS-MiB")
	b.ReportMetric(mib(last.hwm), "VmHWM-MiB")
	b.ReportMetric(mib(idle.rss), "idle-RSS-MiB")
	b.ReportMetric(float64(samples), "RSS-samples")
	b.ReportMetric(adds.perSecond(), "pod-ADDs/s")
	b.ReportMetric(dels.perSecond(), "pod-DELs/s")
}

// checkBurstGone fails b if any pod still has an interface, the node a pod's veth, or the agent a
// checkpoint.
func checkBurstGone(b *testing.B, a *agentProc, node *netNS, pods []*pod) {
	b.Helper()
	for _, p := range pods {
		if err := checkPodEmpty(p.ns); err != nil {
			b.Fatalf("pod %s: %v", p.name, err)
		}
	}
	if err := checkNodeClean(node); err != nil {
		b.Fatal(err)
	}
	if cps, err := a.checkpoints(); err != nil || len(cps) > 0 {
		b.Fatalf("%d checkpoints left after every DEL (%v): %v", len(cps), err, cps)
	}
}

func TestParseVmStatus(t *testing.T) {
	good := "Name:\tknitter-agent\nVmPeak:\t 1261304 kB\nVmHWM:\t   31544 kB\nVmRSS:\t   28000 kB\nThreads:\t9\n"
	v, err := parseVmStatus(good)
	if err != nil || v != (vmStatus{rss: 28000, hwm: 31544}) {
		t.Fatalf("parseVmStatus = %+v, %v; want rss 28000 hwm 31544", v, err)
	}
	for name, text := range map[string]string{
		"kernel thread (no Vm lines)": "Name:\tkthreadd\nState:\tS (sleeping)\n",
		"no VmHWM":                    "VmRSS:\t 28000 kB\n",
		"not a number":                "VmHWM:\t x kB\nVmRSS:\t 28000 kB\n",
		"another unit":                "VmHWM:\t 1 MB\nVmRSS:\t 28000 kB\n",
	} {
		if _, err := parseVmStatus(text); err == nil {
			t.Errorf("%s: parsed without error", name)
		}
	}
	// The test's own process is a real one.
	self, err := readVmStatus(os.Getpid())
	if err != nil || self.rss == 0 || self.hwm < self.rss {
		t.Errorf("readVmStatus(self) = %+v, %v; want a non-zero RSS no larger than its high-water mark", self, err)
	}
}
