package local

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/containernetworking/plugins/pkg/ns"
	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"

	"github.com/knitter-cni/knitter/e2e/cluster"
)

// pingInterval is the time between echoes while no reply has come.
const pingInterval = 250 * time.Millisecond

// Ping implements cluster.Cluster.
func (c *Cluster) Ping(ctx context.Context, from *cluster.Pod, dst netip.Addr) error {
	return PingFrom(ctx, from.Netns, dst)
}

// Echo implements cluster.Echoer.
func (c *Cluster) Echo(ctx context.Context, from *cluster.Pod, dst netip.Addr, timeout time.Duration) error {
	return EchoFrom(ctx, from.Netns, dst, timeout)
}

// PingFrom sends ICMP echoes from inside the network namespace at netnsPath to dst, one every
// pingInterval, until one is answered (nil) or ctx ends. The raw socket is opened inside the
// namespace and stays bound to it, so only its creation switches namespace (on a locked thread).
func PingFrom(ctx context.Context, netnsPath string, dst netip.Addr) error {
	p, err := openPinger(netnsPath, dst)
	if err != nil {
		return err
	}
	defer p.conn.Close()
	var lastErr error
	for seq := 1; ; seq++ {
		deadline := time.Now().Add(pingInterval)
		if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
			deadline = d
		}
		ok, err := p.echo(seq, deadline)
		if ok {
			return nil
		}
		if err != nil {
			lastErr = err
		}
		if err := ctx.Err(); err != nil {
			return errors.Join(fmt.Errorf("no echo reply from %s after %d echoes", dst, seq), lastErr)
		}
	}
}

// EchoFrom sends exactly one ICMP echo from inside the network namespace at netnsPath to dst and
// waits up to timeout for its reply (any reply to that echo counts, never one to another).
func EchoFrom(ctx context.Context, netnsPath string, dst netip.Addr, timeout time.Duration) error {
	p, err := openPinger(netnsPath, dst)
	if err != nil {
		return err
	}
	defer p.conn.Close()
	deadline := time.Now().Add(timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	ok, err := p.echo(1, deadline)
	if ok {
		return nil
	}
	return errors.Join(fmt.Errorf("the single echo to %s was not answered within %s", dst, timeout), err)
}

// pinger is a raw ICMP socket in a namespace, with the identity of its echoes.
type pinger struct {
	conn                *icmp.PacketConn
	dst                 netip.Addr
	proto               int
	echoType, replyType icmp.Type
	id                  int
	payload             []byte
}

func openPinger(netnsPath string, dst netip.Addr) (*pinger, error) {
	network, listen, proto := "ip4:icmp", "0.0.0.0", 1
	var echo, reply icmp.Type = ipv4.ICMPTypeEcho, ipv4.ICMPTypeEchoReply
	if dst.Is6() {
		network, listen, proto = "ip6:ipv6-icmp", "::", 58
		echo, reply = ipv6.ICMPTypeEchoRequest, ipv6.ICMPTypeEchoReply
	}
	var conn *icmp.PacketConn
	err := ns.WithNetNSPath(netnsPath, func(ns.NetNS) error {
		var err error
		conn, err = icmp.ListenPacket(network, listen)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("opening an ICMP socket in %s: %w", netnsPath, err)
	}
	var nonce [10]byte
	if _, err := rand.Read(nonce[:]); err != nil {
		_ = conn.Close()
		return nil, err
	}
	return &pinger{conn: conn, dst: dst, proto: proto, echoType: echo, replyType: reply,
		id: int(binary.BigEndian.Uint16(nonce[:2])), payload: append([]byte("knitter-e2e "), nonce[2:]...)}, nil
}

// echo sends echo seq and reads until deadline; ok says a reply of this pinger's came (to any of its
// echoes so far: a late reply still proves the path).
func (p *pinger) echo(seq int, deadline time.Time) (ok bool, err error) {
	msg, err := (&icmp.Message{Type: p.echoType, Body: &icmp.Echo{ID: p.id, Seq: seq, Data: p.payload}}).Marshal(nil)
	if err != nil {
		return false, err
	}
	var sendErr error
	if _, err := p.conn.WriteTo(msg, &net.IPAddr{IP: p.dst.AsSlice()}); err != nil {
		sendErr = fmt.Errorf("sending an echo to %s: %w", p.dst, err)
	}
	if err := p.conn.SetReadDeadline(deadline); err != nil {
		return false, err
	}
	buf := make([]byte, 1500)
	for {
		n, peer, err := p.conn.ReadFrom(buf)
		if err != nil {
			return false, sendErr // this echo's wait is over
		}
		m, err := icmp.ParseMessage(p.proto, buf[:n])
		if err != nil || m.Type != p.replyType {
			continue
		}
		e, isEcho := m.Body.(*icmp.Echo)
		from, isIP := peer.(*net.IPAddr)
		if isEcho && isIP && e.ID == p.id && bytes.Equal(e.Data, p.payload) && from.IP.Equal(p.dst.AsSlice()) {
			return true, nil
		}
	}
}
