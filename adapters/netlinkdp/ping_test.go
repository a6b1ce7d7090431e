package netlinkdp_test

import (
	"bytes"
	"fmt"
	"net"
	"net/netip"
	"os"
	"time"

	"github.com/containernetworking/plugins/pkg/ns"
	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// ping sends one ICMP echo from inside the namespace at netnsPath to dst and waits up to wait for
// the reply; an error means no reply. The socket is opened inside the namespace and stays bound to
// it, so only its creation needs the namespace switch (which ns.WithNetNSPath does on a locked
// thread). dst is always an address inside the test's own namespaces.
func ping(netnsPath string, dst netip.Addr, wait time.Duration) error {
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
	id := os.Getpid() & 0xffff
	payload := []byte("knitter-ping " + dst.String())
	msg, err := (&icmp.Message{Type: echo, Body: &icmp.Echo{ID: id, Seq: 1, Data: payload}}).Marshal(nil)
	if err != nil {
		return err
	}
	if _, err := conn.WriteTo(msg, &net.IPAddr{IP: dst.AsSlice()}); err != nil {
		return fmt.Errorf("sending an echo to %s: %w", dst, err)
	}
	if err := conn.SetReadDeadline(time.Now().Add(wait)); err != nil {
		return err
	}
	buf := make([]byte, 1500)
	for {
		n, from, err := conn.ReadFrom(buf)
		if err != nil {
			return fmt.Errorf("no echo reply from %s: %w", dst, err)
		}
		m, err := icmp.ParseMessage(proto, buf[:n])
		if err != nil || m.Type != reply {
			continue
		}
		e, ok := m.Body.(*icmp.Echo)
		if ok && bytes.Equal(e.Data, payload) && from.(*net.IPAddr).IP.Equal(dst.AsSlice()) {
			return nil
		}
	}
}
