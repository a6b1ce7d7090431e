package nodebench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/containernetworking/plugins/pkg/ns"
	"github.com/knitter-cni/knitter/adapters/netlinkdp"
	"github.com/knitter-cni/knitter/agent/dataplanetest"
	"github.com/knitter-cni/knitter/bench/benchns"
	"github.com/knitter-cni/knitter/core/plan"
	"github.com/vishvananda/netlink"
	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
	"golang.org/x/sys/unix"
)

// vlanNode is a node namespace with the contract's NICs as veths to nowhere (Underlay with the
// VTEP) or to a peer node (Trunk), and a netlink dataplane acting in it.
type vlanNode struct {
	ns *benchns.NetNS
	dp *netlinkdp.Dataplane
}

func newVLANNode(b *testing.B, pins string) *vlanNode {
	b.Helper()
	n, err := benchns.New()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = n.Close() })
	dp, err := netlinkdp.New(netlinkdp.Options{HostNetns: n.Path(), VLANPinDir: pins})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = dp.Close() })
	return &vlanNode{ns: n, dp: dp}
}

// benchBPFFS mounts a private bpffs for the benchmark's VLAN datapaths.
func benchBPFFS(b *testing.B) string {
	b.Helper()
	dir := b.TempDir()
	if err := unix.Mount("bpf", dir, "bpf", 0, "mode=0700"); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = unix.Unmount(dir, unix.MNT_DETACH) })
	return dir
}

// veth makes a <-> b (in namespaces an and bn), both up, with addr on a when valid.
func veth(b *testing.B, an *benchns.NetNS, a string, bn *benchns.NetNS, bname string, addr string) {
	b.Helper()
	attrs := netlink.NewLinkAttrs()
	attrs.Name = a
	fd, err := os.Open(bn.Path())
	if err != nil {
		b.Fatal(err)
	}
	defer fd.Close()
	if err := an.H.LinkAdd(&netlink.Veth{LinkAttrs: attrs, PeerName: bname, PeerNamespace: netlink.NsFd(int(fd.Fd()))}); err != nil {
		b.Fatal(err)
	}
	up(b, an, a, addr)
	up(b, bn, bname, "")
}

func up(b *testing.B, n *benchns.NetNS, name, addr string) {
	b.Helper()
	l, err := n.H.LinkByName(name)
	if err != nil {
		b.Fatal(err)
	}
	if addr != "" {
		a, err := netlink.ParseAddr(addr)
		if err != nil {
			b.Fatal(err)
		}
		if err := n.H.AddrAdd(l, a); err != nil {
			b.Fatal(err)
		}
	}
	if err := n.H.LinkSetUp(l); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkVLANAttach times the dataplane's Attach and Detach of a one-link pod on a vlan network
// (veth + the eBPF VLAN datapath's maps and TCX program) against the same pod on an overlay (veth
// on the VNI's bridge), interleaved in one node. A resident pod of each kind keeps the node's shared
// state (bridge and VXLAN device; loaded programs, pinned maps and the trunk's program) in place,
// as on a node with pods, so every timed pod is not the node's first. ns/op is one vlan Attach +
// Detach; it reports each kind's p50 and p99 in milliseconds.
func BenchmarkVLANAttach(b *testing.B) {
	benchns.NeedRoot(b)
	n := newVLANNode(b, benchBPFFS(b))
	peer, err := benchns.New()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = peer.Close() })
	veth(b, n.ns, dataplanetest.Underlay, peer, "under-p", "192.0.2.1/24")
	veth(b, n.ns, dataplanetest.Trunk, peer, "trunk-p", "")
	kinds := map[string]func(cid string) plan.Link{
		"vlan":    func(cid string) plan.Link { return dataplanetest.VLAN(cid, "net1", 100, "10.3.0.5/24") },
		"overlay": func(cid string) plan.Link { return dataplanetest.Overlay(cid, "net1", 101, "10.1.0.5/24") },
	}
	order := []string{"vlan", "overlay"}
	ctx := context.Background()
	for _, k := range order {
		res, err := benchns.New()
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = res.Close() })
		if err := n.dp.Attach(ctx, dataplanetest.Pod("resident-"+k, res.Path(), kinds[k]("resident-"+k))); err != nil {
			b.Fatal(err)
		}
	}
	lat := map[string][]time.Duration{}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for j := range order {
			k := order[(i+j)%len(order)] // take turns at going first
			b.StopTimer()
			p, err := benchns.New()
			if err != nil {
				b.Fatal(err)
			}
			cid := fmt.Sprintf("%s-%d", k, i)
			pod := dataplanetest.Pod(cid, p.Path(), kinds[k](cid))
			if k == "vlan" {
				b.StartTimer()
			}
			start := time.Now()
			if err := n.dp.Attach(ctx, pod); err != nil {
				b.Fatal(err)
			}
			mid := time.Now()
			if err := n.dp.Detach(ctx, pod); err != nil {
				b.Fatal(err)
			}
			end := time.Now()
			b.StopTimer()
			lat[k+"-attach"] = append(lat[k+"-attach"], mid.Sub(start))
			lat[k+"-detach"] = append(lat[k+"-detach"], end.Sub(mid))
			if err := p.Close(); err != nil {
				b.Fatal(err)
			}
		}
	}
	for name, d := range lat {
		slices.Sort(d)
		b.ReportMetric(msOf(d[len(d)/2]), name+"-p50-ms")
		b.ReportMetric(msOf(d[min(len(d)-1, len(d)*99/100)]), name+"-p99-ms")
	}
}

func msOf(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// BenchmarkVLANThroughput measures TCP throughput (iperf3, one stream, a bounded run each) and
// idle ICMP round-trip time between two pods on three paths, side by side in one run:
//
//	vlan-ebpf  pods on VLAN 100 of two nodes: pod veth -> port program (tag, redirect) -> trunk
//	           veth -> trunk program on the other node (pop, redirect into the pod)
//	veth       the two pods' namespaces joined by one veth pair: the floor
//	bridge     both pods' veths on one Linux bridge (no VLANs)
//
// It needs iperf3 (apt-get install iperf3; hack/install-tools.sh installs it). b.N is ignored
// beyond one round: each path gets one iperf3 run of $KNITTER_IPERF_SECONDS (default 3) seconds and
// 200 echoes. Metrics: <path>-gbps, <path>-rtt-p50-us, <path>-tcp-rtt-us (iperf3's mean TCP RTT
// under load).
func BenchmarkVLANThroughput(b *testing.B) {
	benchns.NeedRoot(b)
	if _, err := exec.LookPath("iperf3"); err != nil {
		b.Skip("needs iperf3 (apt-get install iperf3)")
	}
	secs := os.Getenv("KNITTER_IPERF_SECONDS")
	if secs == "" {
		secs = "3"
	}
	paths := []struct {
		name  string
		build func(b *testing.B) (client, server *benchns.NetNS, dst string)
	}{
		{"vlan-ebpf", vlanPath},
		{"veth", vethPath},
		{"bridge", bridgePath},
	}
	for range b.N {
		for _, p := range paths {
			client, server, dst := p.build(b)
			rtt := echoRTT(b, client.Path(), dst, 200)
			gbps, tcpRTT := iperf(b, client, server, dst, secs)
			b.ReportMetric(gbps, p.name+"-gbps")
			b.ReportMetric(float64(rtt.Microseconds()), p.name+"-rtt-p50-us")
			b.ReportMetric(tcpRTT, p.name+"-tcp-rtt-us")
		}
	}
}

func podNS(b *testing.B) *benchns.NetNS {
	b.Helper()
	n, err := benchns.New()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = n.Close() })
	return n
}

func vlanPath(b *testing.B) (*benchns.NetNS, *benchns.NetNS, string) {
	pins := benchBPFFS(b)
	n1, n2 := newVLANNode(b, pins), newVLANNode(b, pins)
	veth(b, n1.ns, dataplanetest.Trunk, n2.ns, dataplanetest.Trunk, "")
	a, c := podNS(b), podNS(b)
	ctx := context.Background()
	if err := n1.dp.Attach(ctx, dataplanetest.Pod("a", a.Path(), dataplanetest.VLAN("a", "net1", 100, "10.3.0.5/24"))); err != nil {
		b.Fatal(err)
	}
	if err := n2.dp.Attach(ctx, dataplanetest.Pod("c", c.Path(), dataplanetest.VLAN("c", "net1", 100, "10.3.0.6/24"))); err != nil {
		b.Fatal(err)
	}
	return a, c, "10.3.0.6"
}

func vethPath(b *testing.B) (*benchns.NetNS, *benchns.NetNS, string) {
	a, c := podNS(b), podNS(b)
	veth(b, a, "net1", c, "net1", "10.3.0.5/24")
	up(b, c, "net1", "10.3.0.6/24")
	return a, c, "10.3.0.6"
}

func bridgePath(b *testing.B) (*benchns.NetNS, *benchns.NetNS, string) {
	node, a, c := podNS(b), podNS(b), podNS(b)
	attrs := netlink.NewLinkAttrs()
	attrs.Name = "br0"
	if err := node.H.LinkAdd(&netlink.Bridge{LinkAttrs: attrs}); err != nil {
		b.Fatal(err)
	}
	up(b, node, "br0", "")
	br, err := node.H.LinkByName("br0")
	if err != nil {
		b.Fatal(err)
	}
	for i, pod := range []*benchns.NetNS{a, c} {
		host := fmt.Sprintf("vh%d", i)
		veth(b, node, host, pod, "net1", "")
		h, err := node.H.LinkByName(host)
		if err != nil {
			b.Fatal(err)
		}
		if err := node.H.LinkSetMaster(h, br); err != nil {
			b.Fatal(err)
		}
		l, _ := pod.H.LinkByName("net1")
		addr, _ := netlink.ParseAddr(fmt.Sprintf("10.3.0.%d/24", 5+i))
		if err := pod.H.AddrAdd(l, addr); err != nil {
			b.Fatal(err)
		}
	}
	return a, c, "10.3.0.6"
}

// echoRTT sends n ICMP echoes one after another from the namespace at path to dst and returns the
// median round trip (the first, which resolves the neighbour, is not counted).
func echoRTT(b *testing.B, path, dst string, n int) time.Duration {
	b.Helper()
	var conn *icmp.PacketConn
	if err := ns.WithNetNSPath(path, func(ns.NetNS) error {
		var err error
		conn, err = icmp.ListenPacket("ip4:icmp", "0.0.0.0")
		return err
	}); err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	to := &net.IPAddr{IP: net.ParseIP(dst)}
	buf := make([]byte, 1500)
	var rtts []time.Duration
	for seq := 0; seq <= n; seq++ {
		msg, _ := (&icmp.Message{Type: ipv4.ICMPTypeEcho, Body: &icmp.Echo{ID: os.Getpid() & 0xffff, Seq: seq, Data: []byte("knitter-rtt")}}).Marshal(nil)
		start := time.Now()
		if _, err := conn.WriteTo(msg, to); err != nil {
			b.Fatal(err)
		}
		_ = conn.SetReadDeadline(time.Now().Add(3 * time.Second)) // bounds a lost reply only
		for {
			k, _, err := conn.ReadFrom(buf)
			if err != nil {
				b.Fatalf("echo %d to %s: %v", seq, dst, err)
			}
			m, err := icmp.ParseMessage(1, buf[:k])
			if e, ok := m.Body.(*icmp.Echo); err == nil && m.Type == ipv4.ICMPTypeEchoReply && ok && e.Seq == seq {
				break
			}
		}
		if seq > 0 {
			rtts = append(rtts, time.Since(start))
		}
	}
	slices.Sort(rtts)
	return rtts[len(rtts)/2]
}

// iperf runs an iperf3 server in server's namespace (waiting for it to say it listens) and a client
// in client's for secs seconds, and returns the received Gbit/s and the sender's mean TCP RTT (µs).
func iperf(b *testing.B, client, server *benchns.NetNS, dst, secs string) (float64, float64) {
	b.Helper()
	srv := exec.Command("nsenter", "--net="+server.Path(), "--", "iperf3", "-s", "-1", "--forceflush", "-B", dst)
	out, err := srv.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() { _ = srv.Wait() }()
	r := bufio.NewReader(out)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			_ = srv.Process.Kill()
			b.Fatalf("iperf3 server: %v", err)
		}
		if strings.Contains(line, "listening") {
			break
		}
	}
	go func() { _, _ = r.WriteTo(discard{}) }() // drain the server's report so it never blocks
	cmd := exec.Command("nsenter", "--net="+client.Path(), "--", "iperf3", "-c", dst, "-t", secs, "-J")
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	if err := cmd.Run(); err != nil {
		_ = srv.Process.Kill()
		b.Fatalf("iperf3 client: %v: %s", err, stdout.String())
	}
	var rep struct {
		End struct {
			SumReceived struct {
				BitsPerSecond float64 `json:"bits_per_second"`
			} `json:"sum_received"`
			Streams []struct {
				Sender struct {
					MeanRTT float64 `json:"mean_rtt"`
				} `json:"sender"`
			} `json:"streams"`
		} `json:"end"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil || len(rep.End.Streams) == 0 {
		b.Fatalf("iperf3 report: %v: %s", err, stdout.String())
	}
	return rep.End.SumReceived.BitsPerSecond / 1e9, rep.End.Streams[0].Sender.MeanRTT
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
