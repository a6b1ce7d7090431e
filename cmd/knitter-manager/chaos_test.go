package main_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/knitter-cni/knitter/adapters/httpapi"
	"github.com/knitter-cni/knitter/core/alloc"
	"github.com/knitter-cni/knitter/core/model"
)

// bigBootstrap is a tenant with two /16 networks, room for thousands of pods.
const bigBootstrap = `tenants:
  - name: load
    physical_networks: [eth1]
networks:
  - {name: a, tenant: load, type: overlay, ipv4: {cidr: 10.64.0.0/16}}
  - {name: b, tenant: load, type: vlan, vlan: 300, physical_network: eth1, ipv4: {cidr: 10.65.0.0/16}}
`

func loadReq(uid string) alloc.PodRequest {
	return alloc.PodRequest{Pod: model.PodRef{UID: uid, Namespace: "load", Name: uid}, Tenant: "load",
		Requests: []model.AttachRequest{{Network: "a", Interface: "eth0"}, {Network: "b", Interface: "net1"}}}
}

// portsKey is a pod's ports as comparable text: ids, addresses and MACs.
func portsKey(ports []model.Port) string {
	var b strings.Builder
	for _, p := range ports {
		fmt.Fprintf(&b, "%s %v %s;", p.ID, p.IPs, p.MAC)
	}
	return b.String()
}

// retriable reports whether an allocation error means "try again" (the manager is down, restarting
// or not yet serving) rather than a wrong answer.
func retriable(err error) bool {
	code := model.CodeOf(err)
	return code == "" || code == model.CodeUnavailable
}

// TestKill9DuringWriters is issue 7's durability check: 4 writers allocate 1,000 pods each through
// the real binary while it is killed with SIGKILL 5 times at random points and restarted on the same
// data directory. Every acknowledged pod must be there with the addresses and MACs it was given, no
// address or MAC may be on two ports, and a retry of every pod is answered with the same ports.
func TestKill9DuringWriters(t *testing.T) {
	if testing.Short() {
		t.Skip("five restarts each wait a session TTL; run without -short")
	}
	dir := t.TempDir()
	boot := filepath.Join(t.TempDir(), "bootstrap.yaml")
	if err := os.WriteFile(boot, []byte(bigBootstrap), 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"--data-dir", dir, "--bootstrap", boot, "--etcd-session-ttl", "3s"}
	p := startManager(t, args...)
	ca, tokFile := filepath.Join(dir, "pki", "ca.crt"), filepath.Join(dir, "admin.token")
	waitFile(t, ca, p)
	token := readFile(t, tokFile)

	// The URL changes with every restart (a fresh port); writers read it under mu.
	var (
		mu   sync.Mutex
		cur  = client(t, p.url, token, ca)
		acks = map[string]string{}
	)
	waitLeader(t, 30*time.Second, cur)
	current := func() *httpapi.Client { mu.Lock(); defer mu.Unlock(); return cur }
	acked := func() int { mu.Lock(); defer mu.Unlock(); return len(acks) }

	const writers, perWriter, rounds = 4, 1000, 5
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range perWriter {
				uid := fmt.Sprintf("w%d-%04d", w, i)
				for {
					pod, _, err := current().AllocatePod(ctx, loadReq(uid))
					if err == nil {
						mu.Lock()
						acks[uid] = portsKey(pod.Ports)
						mu.Unlock()
						break
					}
					if !retriable(err) || ctx.Err() != nil {
						t.Errorf("allocating %s: %v", uid, err)
						return
					}
					time.Sleep(20 * time.Millisecond)
				}
			}
		})
	}
	seed := time.Now().UnixNano()
	rng := rand.New(rand.NewPCG(uint64(seed), 0))
	t.Logf("kill points from seed %d", seed)
	total := writers * perWriter
	for round := range rounds {
		// A random point inside this round's share of the stream.
		at := total*round/(rounds+1) + rng.IntN(total/(rounds+1))
		for acked() < at && ctx.Err() == nil && !t.Failed() {
			time.Sleep(time.Millisecond)
		}
		if t.Failed() {
			break
		}
		p.kill()
		t.Logf("round %d: killed after %d acknowledged pods", round+1, acked())
		p = startManager(t, args...)
		c := client(t, p.url, token, ca)
		mu.Lock()
		cur = c
		mu.Unlock()
		waitLeader(t, 60*time.Second, c)
	}
	wg.Wait()
	if t.Failed() {
		t.Fatalf("manager log:\n%s", p.logs())
	}
	c := current()
	ports, err := c.ListPorts(ctx, httpapi.PortQuery{})
	if err != nil {
		t.Fatal(err)
	}
	have := map[string][]model.Port{}
	owner := map[string]string{}
	for _, port := range ports {
		have[port.Pod.UID] = append(have[port.Pod.UID], port)
		keys := []string{port.Network + " mac " + port.MAC.String()}
		for _, ip := range port.IPs {
			keys = append(keys, port.Network+" "+ip.String())
		}
		for _, k := range keys {
			if o, dup := owner[k]; dup {
				t.Errorf("%s is on ports %s and %s", k, o, port.ID)
			}
			owner[k] = port.ID
		}
	}
	if len(acks) != total || len(have) != total {
		t.Fatalf("%d pods acknowledged, %d present; want %d of each", len(acks), len(have), total)
	}
	for uid, want := range acks {
		if got := portsKey(have[uid]); got != want {
			t.Errorf("pod %s was acknowledged with %s; the manager has %s", uid, want, got)
		}
	}
	for uid, want := range acks {
		pod, created, err := c.AllocatePod(ctx, loadReq(uid))
		if err != nil || created || portsKey(pod.Ports) != want {
			t.Fatalf("retrying %s: created=%v err=%v ports %s; want the acknowledged %s", uid, created, err, portsKey(pod.Ports), want)
		}
	}
}

// TestReadyMeansServing restarts a manager after kill -9 and watches it come up: whenever /readyz
// says 200, an authenticated request right after is served — not answered 503 "not activated" (the
// election still names the dead process for a session TTL, which made /readyz point at itself).
func TestReadyMeansServing(t *testing.T) {
	if testing.Short() {
		t.Skip("waits a session TTL; run without -short")
	}
	dir := t.TempDir()
	args := []string{"--data-dir", dir, "--bootstrap", "../../examples/bootstrap.yaml"}
	p := startManager(t, args...)
	ca, tokFile := filepath.Join(dir, "pki", "ca.crt"), filepath.Join(dir, "admin.token")
	waitFile(t, ca, p)
	waitLeader(t, 30*time.Second, client(t, p.url, readFile(t, tokFile), ca))
	p.kill()
	p = startManager(t, args...)
	c := client(t, p.url, readFile(t, tokFile), ca)
	ctx := context.Background()
	deadline := time.Now().Add(60 * time.Second)
	notReady := 0
	for time.Now().Before(deadline) {
		st, err := c.Ready(ctx)
		if err != nil {
			notReady++
			time.Sleep(20 * time.Millisecond)
			continue
		}
		if !st.Leader && st.LeaderURL == p.url {
			t.Fatalf("/readyz of a manager that does not lead names itself as the leader: %+v", st)
		}
		if _, err := c.ListTenants(ctx); err != nil {
			t.Fatalf("/readyz said ready (%+v) but a request right after failed: %v", st, err)
		}
		if st.Leader {
			t.Logf("/readyz answered 503 %d times before the restarted manager led", notReady)
			return
		}
	}
	t.Fatalf("the restarted manager did not lead within 60s:\n%s", p.logs())
}

// TestEmbeddedEtcdUnreachable: the manager's process listens on TCP only with its API and the
// embedded etcd's peer port, and that port speaks neither plain HTTP nor TLS to a client without a
// certificate; the state is reachable only through the unix socket in the 0700 data directory.
func TestEmbeddedEtcdUnreachable(t *testing.T) {
	dir := t.TempDir()
	p := startManager(t, "--data-dir", dir)
	ca := filepath.Join(dir, "pki", "ca.crt")
	waitFile(t, ca, p)
	waitLeader(t, 30*time.Second, client(t, p.url, readFile(t, filepath.Join(dir, "admin.token")), ca))
	apiPort := p.url[strings.LastIndex(p.url, ":")+1:]
	ports := listeningTCP(t, p.cmd.Process.Pid)
	if len(ports) == 0 {
		t.Fatal("found no listening TCP socket of the manager (not even its API)")
	}
	for _, port := range ports {
		if port == apiPort {
			continue
		}
		addr := "127.0.0.1:" + port
		plain := &http.Client{Timeout: 5 * time.Second}
		for _, path := range []string{"/version", "/health", "/members"} {
			if resp, err := plain.Get("http://" + addr + path); err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					t.Errorf("plain HTTP GET %s%s answered 200: an open etcd port", addr, path)
				}
			}
		}
		noCert := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
		if resp, err := noCert.Get("https://" + addr + "/version"); err == nil {
			resp.Body.Close()
			t.Errorf("TLS without a client certificate to %s answered %s", addr, resp.Status)
		}
	}
	sock := filepath.Join(dir, "etcd", "client.sock")
	if fi, err := os.Stat(sock); err != nil || fi.Mode()&os.ModeSocket == 0 {
		t.Fatalf("no client socket at %s: %v", sock, err)
	}
	if fi, err := os.Stat(filepath.Join(dir, "etcd")); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("the socket's directory is not 0700: %v %v", fi.Mode(), err)
	}
}

// listeningTCP returns the ports of the TCP sockets in LISTEN state that process pid holds.
func listeningTCP(t *testing.T, pid int) []string {
	t.Helper()
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		t.Fatal(err)
	}
	inodes := map[string]bool{}
	for _, fd := range fds {
		link, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name()))
		if err == nil && strings.HasPrefix(link, "socket:[") {
			inodes[strings.TrimSuffix(strings.TrimPrefix(link, "socket:["), "]")] = true
		}
	}
	var ports []string
	for _, table := range []string{"tcp", "tcp6"} {
		raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/net/%s", pid, table))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(raw), "\n")[1:] {
			f := strings.Fields(line)
			if len(f) < 10 || f[3] != "0A" || !inodes[f[9]] {
				continue
			}
			hexPort := f[1][strings.LastIndex(f[1], ":")+1:]
			n, err := strconv.ParseUint(hexPort, 16, 16)
			if err != nil {
				t.Fatal(err)
			}
			ports = append(ports, strconv.FormatUint(n, 10))
		}
	}
	return ports
}
