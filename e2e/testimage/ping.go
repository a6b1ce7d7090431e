package main

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"os"
	"time"

	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// ping sends an ICMP echo every 200 ms until one is answered or the wait (-W) ends.
func ping(args []string) error {
	fs := flag.NewFlagSet("ping", flag.ContinueOnError)
	wait := fs.Float64("W", 3, "seconds to wait for a reply")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("usage: ping [-W SECONDS] ADDR")
	}
	dst, err := netip.ParseAddr(fs.Arg(0))
	if err != nil {
		return err
	}
	network, listen, proto := "ip4:icmp", "0.0.0.0", 1
	var echo, reply icmp.Type = ipv4.ICMPTypeEcho, ipv4.ICMPTypeEchoReply
	if dst.Is6() {
		network, listen, proto = "ip6:ipv6-icmp", "::", 58
		echo, reply = ipv6.ICMPTypeEchoRequest, ipv6.ICMPTypeEchoReply
	}
	conn, err := icmp.ListenPacket(network, listen)
	if err != nil {
		return err
	}
	defer conn.Close()
	deadline := time.Now().Add(time.Duration(*wait * float64(time.Second)))
	id := os.Getpid() & 0xffff
	buf := make([]byte, 1500)
	for seq := 1; time.Now().Before(deadline); seq++ {
		msg, err := (&icmp.Message{Type: echo, Body: &icmp.Echo{ID: id, Seq: seq, Data: []byte("knitter-e2e")}}).Marshal(nil)
		if err != nil {
			return err
		}
		if _, err := conn.WriteTo(msg, &net.IPAddr{IP: dst.AsSlice()}); err != nil {
			return err
		}
		next := time.Now().Add(200 * time.Millisecond)
		_ = conn.SetReadDeadline(next)
		for {
			n, from, err := conn.ReadFrom(buf)
			if err != nil {
				break // deadline: send the next echo
			}
			m, err := icmp.ParseMessage(proto, buf[:n])
			if err != nil || m.Type != reply {
				continue
			}
			if e, ok := m.Body.(*icmp.Echo); ok && e.ID == id && from.String() == dst.String() {
				fmt.Printf("reply from %s seq %d\n", dst, e.Seq)
				return nil
			}
		}
	}
	return fmt.Errorf("no reply from %s within %gs", dst, *wait)
}
