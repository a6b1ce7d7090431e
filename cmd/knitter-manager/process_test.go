package main_test

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/knitter-cni/knitter/adapters/etcdstore"
	"github.com/knitter-cni/knitter/adapters/httpapi"
	"github.com/knitter-cni/knitter/adapters/pki"
	"github.com/knitter-cni/knitter/core/alloc"
	"github.com/knitter-cni/knitter/core/model"
)

// These tests run the real knitter-manager binary on 127.0.0.1 with real etcd.

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "knitter-manager-test")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "knitter-manager")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building knitter-manager: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type proc struct {
	t      *testing.T
	cmd    *exec.Cmd
	url    string
	log    *os.File
	exited chan struct{}
}

func startManager(t *testing.T, args ...string) *proc {
	t.Helper()
	return launch(t, exec.Command(binary, append([]string{"--listen", "127.0.0.1:0"}, args...)...))
}

// servingLine is the manager's log line that names the address it listens on.
var servingLine = regexp.MustCompile(`msg="knitter-manager serving" listen=(\S+)`)

// launch starts a knitter-manager command that listens on port 0 and waits until it logs the
// address the kernel gave it (p.url), or until it exits (p.url stays empty; tests of refused starts
// read p.exited). A port picked by the test and handed over would race with every other process
// on the machine binding one, and a client would then talk to somebody else's server.
func launch(t *testing.T, cmd *exec.Cmd) *proc {
	t.Helper()
	logf, err := os.CreateTemp(t.TempDir(), "manager-*.log")
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{t: t, cmd: cmd, log: logf, exited: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() { p.kill() })
	deadline := time.Now().Add(60 * time.Second)
	for {
		if m := servingLine.FindStringSubmatch(p.logs()); m != nil {
			p.url = "https://" + m[1]
			return p
		}
		select {
		case <-p.exited:
			return p
		case <-time.After(5 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("knitter-manager did not log its address within 60s:\n%s", p.logs())
		}
	}
}

func (p *proc) kill() {
	select {
	case <-p.exited:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.exited
}

func (p *proc) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(20 * time.Second):
		p.t.Errorf("knitter-manager did not exit within 20s of SIGTERM:\n%s", p.logs())
		p.kill()
	}
}

func (p *proc) logs() string {
	b, _ := os.ReadFile(p.log.Name())
	return string(b)
}

func client(t *testing.T, url, token, ca string) *httpapi.Client {
	t.Helper()
	c, err := httpapi.NewClient(httpapi.ClientConfig{URL: url, Token: token, CAFile: ca, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// waitLeader waits until one of the clients' managers reports that it leads, and returns its index.
func waitLeader(t *testing.T, within time.Duration, cs ...*httpapi.Client) int {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		for i, c := range cs {
			if st, err := c.Ready(context.Background()); err == nil && st.Leader {
				return i
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no manager became the leader within %s", within)
	return -1
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

func podReq(uid string) alloc.PodRequest {
	return alloc.PodRequest{Pod: model.PodRef{UID: uid, Namespace: "demo", Name: uid}, Tenant: "demo",
		Requests: []model.AttachRequest{{Network: "demo-overlay", Interface: "eth0"}, {Network: "demo-vlan100", Interface: "net1"}}}
}

// TestRestartKeepsState allocates through a real manager with embedded etcd, restarts it gracefully
// and after kill -9, and requires the same pods and ports each time (and the same CA and token).
func TestRestartKeepsState(t *testing.T) {
	dir := t.TempDir()
	args := []string{"--data-dir", dir, "--bootstrap", "../../examples/bootstrap.yaml"}
	p := startManager(t, args...)
	ca, tokFile := filepath.Join(dir, "pki", "ca.crt"), filepath.Join(dir, "admin.token")
	waitFile(t, ca, p)
	c := client(t, p.url, readFile(t, tokFile), ca)
	waitLeader(t, 30*time.Second, c)
	ctx := context.Background()
	want := map[string]string{}
	for i := range 20 {
		pod, created, err := c.AllocatePod(ctx, podReq(fmt.Sprintf("pod-%d", i)))
		if err != nil || !created {
			t.Fatalf("allocate: %v (created %v)", err, created)
		}
		want[pod.UID] = fmt.Sprint(pod.Ports)
	}
	if err := c.ReleasePod(ctx, "pod-3"); err != nil {
		t.Fatal(err)
	}
	delete(want, "pod-3")

	for _, how := range []string{"SIGTERM", "kill -9"} {
		if how == "SIGTERM" {
			p.stop()
		} else {
			p.kill()
		}
		p = startManager(t, args...)
		c = client(t, p.url, readFile(t, tokFile), ca)
		waitLeader(t, 30*time.Second, c)
		ports, err := c.ListPorts(ctx, httpapi.PortQuery{})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string][]model.Port{}
		for _, port := range ports {
			got[port.Pod.UID] = append(got[port.Pod.UID], port)
		}
		if len(got) != len(want) {
			t.Fatalf("after %s restart: %d pods; want %d", how, len(got), len(want))
		}
		for uid, w := range want {
			if fmt.Sprint(got[uid]) != w {
				t.Fatalf("after %s restart, pod %s: %v; want %s", how, uid, got[uid], w)
			}
		}
		// The same request again is answered from the reloaded state, not allocated anew.
		if _, created, err := c.AllocatePod(ctx, podReq("pod-0")); err != nil || created {
			t.Fatalf("after %s restart, retrying pod-0: created=%v err=%v", how, created, err)
		}
	}
}

func waitFile(t *testing.T, path string, p *proc) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := os.Stat(path); err == nil {
			return
		}
		select {
		case <-p.exited:
			t.Fatalf("knitter-manager exited:\n%s", p.logs())
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatalf("%s not created:\n%s", path, p.logs())
}

// TestFailoverLosesAndDuplicatesNothing runs two managers on one etcd, streams allocations through
// both (a standby proxies to the leader), kills the leader with SIGKILL mid-stream, and requires that
// the standby takes over, that every acknowledged pod is still there with the addresses it was given,
// and that no address is on two ports.
func TestFailoverLosesAndDuplicatesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("failover takes a session TTL; run without -short")
	}
	emb, err := etcdstore.StartEmbedded(etcdstore.EmbedConfig{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer emb.Close()
	shared := t.TempDir()
	files, err := pki.Ensure(filepath.Join(shared, "pki"), []string{"127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	tokFile := filepath.Join(shared, "admin.token")
	if err := os.WriteFile(tokFile, []byte("admin.failover-test-token-0123456789\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	common := []string{"--etcd-endpoints", strings.Join(emb.Endpoints(), ","), "--etcd-session-ttl", "5s",
		"--tls-cert", files.Cert, "--tls-key", files.Key, "--tls-ca", files.CA, "--admin-token-file", tokFile,
		"--bootstrap", "../../examples/bootstrap.yaml"}
	procs := []*proc{
		startManager(t, append([]string{"--data-dir", t.TempDir()}, common...)...),
		startManager(t, append([]string{"--data-dir", t.TempDir()}, common...)...),
	}
	token := readFile(t, tokFile)
	cs := []*httpapi.Client{client(t, procs[0].url, token, files.CA), client(t, procs[1].url, token, files.CA)}
	leader := waitLeader(t, 30*time.Second, cs...)

	type acked struct {
		uid string
		ips []netip.Addr
	}
	var (
		mu       sync.Mutex
		acks     []acked
		killedAt time.Time
		firstOK  time.Time // first acknowledgement after the kill
	)
	const workers, perWorker = 4, 60
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range perWorker {
				uid := fmt.Sprintf("w%d-%d", w, i)
				for attempt := 0; ; attempt++ {
					c := cs[(w+attempt)%2]
					pod, _, err := c.AllocatePod(ctx, podReq(uid))
					if err == nil {
						var ips []netip.Addr
						for _, p := range pod.Ports {
							ips = append(ips, p.IPs...)
						}
						mu.Lock()
						acks = append(acks, acked{uid, ips})
						if !killedAt.IsZero() && firstOK.IsZero() {
							firstOK = time.Now()
						}
						mu.Unlock()
						break
					}
					if !errors.Is(err, httpapi.ErrUnavailable) || ctx.Err() != nil {
						t.Errorf("allocating %s: %v", uid, err)
						return
					}
					time.Sleep(50 * time.Millisecond)
				}
			}
		})
	}
	// Kill the leader once the stream is well under way.
	for {
		mu.Lock()
		n := len(acks)
		mu.Unlock()
		if n >= workers*perWorker/4 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	mu.Lock()
	killedAt = time.Now()
	mu.Unlock()
	procs[leader].kill()
	wg.Wait()
	if t.Failed() {
		t.Fatalf("survivor's log:\n%s", procs[1-leader].logs())
	}
	survivor := cs[1-leader]
	if got := waitLeader(t, 10*time.Second, survivor); got != 0 {
		t.Fatal("the survivor is not the leader")
	}
	t.Logf("leader killed after %d acknowledged pods; first acknowledgement after the kill %s later", workers*perWorker/4, firstOK.Sub(killedAt).Round(time.Millisecond))

	ports, err := survivor.ListPorts(context.Background(), httpapi.PortQuery{})
	if err != nil {
		t.Fatal(err)
	}
	have := map[string][]netip.Addr{}
	owner := map[string]string{}
	for _, p := range ports {
		have[p.Pod.UID] = append(have[p.Pod.UID], p.IPs...)
		for _, ip := range p.IPs {
			k := p.Network + " " + ip.String()
			if o, dup := owner[k]; dup {
				t.Errorf("%s is on ports %s and %s", k, o, p.ID)
			}
			owner[k] = p.ID
		}
	}
	if len(acks) != workers*perWorker {
		t.Fatalf("%d pods acknowledged; want %d", len(acks), workers*perWorker)
	}
	for _, a := range acks {
		if fmt.Sprint(have[a.uid]) != fmt.Sprint(a.ips) {
			t.Errorf("pod %s was acknowledged with %v; the survivor has %v", a.uid, a.ips, have[a.uid])
		}
	}
	if len(have) != len(acks) {
		t.Errorf("the survivor has %d pods; %d were acknowledged", len(have), len(acks))
	}
}
