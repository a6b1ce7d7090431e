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

// PingFrom sends ICMP echoes from inside the network namespace at netnsPath to dst, one every
// pingInterval, until one is answered (nil) or ctx ends. The raw socket is opened inside the
// namespace and stays bound to it, so only its creation switches namespace (on a locked thread).
func PingFrom(ctx context.Context, netnsPath string, dst netip.Addr) error {
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
		return fmt.Errorf("opening an ICMP socket in %s: %w", netnsPath, err)
	}
	defer conn.Close()
	var nonce [10]byte
	if _, err := rand.Read(nonce[:]); err != nil {
		return err
	}
	id := int(binary.BigEndian.Uint16(nonce[:2]))
	payload := append([]byte("knitter-e2e "), nonce[2:]...)
	buf := make([]byte, 1500)
	var lastErr error
	for seq := 1; ; seq++ {
		msg, err := (&icmp.Message{Type: echo, Body: &icmp.Echo{ID: id, Seq: seq, Data: payload}}).Marshal(nil)
		if err != nil {
			return err
		}
		if _, err := conn.WriteTo(msg, &net.IPAddr{IP: dst.AsSlice()}); err != nil {
			lastErr = fmt.Errorf("sending an echo to %s: %w", dst, err)
		}
		deadline := time.Now().Add(pingInterval)
		if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
			deadline = d
		}
		if err := conn.SetReadDeadline(deadline); err != nil {
			return err
		}
		for {
			n, peer, err := conn.ReadFrom(buf)
			if err != nil {
				break // this echo's wait is over
			}
			m, err := icmp.ParseMessage(proto, buf[:n])
			if err != nil || m.Type != reply {
				continue
			}
			e, ok := m.Body.(*icmp.Echo)
			from, isIP := peer.(*net.IPAddr)
			if ok && isIP && e.ID == id && bytes.Equal(e.Data, payload) && from.IP.Equal(dst.AsSlice()) {
				return nil
			}
		}
		if err := ctx.Err(); err != nil {
			return errors.Join(fmt.Errorf("no echo reply from %s after %d echoes", dst, seq), lastErr)
		}
	}
}
