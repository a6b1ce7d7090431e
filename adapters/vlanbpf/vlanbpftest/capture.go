// Package vlanbpftest captures frames on a network interface with their 802.1Q tag, and sends raw
// frames, for tests that check what a trunk carries. It is an AF_PACKET socket with PACKET_AUXDATA: the kernel keeps a
// received or sent frame's tag in the skb's metadata, and the auxiliary data is where a packet
// socket reports it (as tcpdump -e shows it).
package vlanbpftest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"

	"github.com/containernetworking/plugins/pkg/ns"
	"golang.org/x/sys/unix"
)

// Frame is one captured frame.
type Frame struct {
	Src, Dst net.HardwareAddr
	// Tagged says the frame carried an 802.1Q tag; VLAN is its VLAN id.
	Tagged bool
	VLAN   uint16
	// EtherType is the payload's (after the tag).
	EtherType uint16
	// Outgoing is set for frames the interface sent, clear for frames it received.
	Outgoing bool
}

// Capture is an open capture. It queues frames in its socket's buffer until Frames reads them.
type Capture struct {
	fd int
}

// tpStatusVLANValid is TP_STATUS_VLAN_VALID of struct tpacket_auxdata.
const tpStatusVLANValid = 0x10

// Start opens a capture on ifname in the network namespace at netnsPath.
func Start(netnsPath, ifname string) (*Capture, error) {
	var c *Capture
	err := ns.WithNetNSPath(netnsPath, func(ns.NetNS) error {
		iface, err := net.InterfaceByName(ifname)
		if err != nil {
			return err
		}
		fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, int(htons(unix.ETH_P_ALL)))
		if err != nil {
			return fmt.Errorf("opening a packet socket: %w", err)
		}
		if err := unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_AUXDATA, 1); err != nil {
			unix.Close(fd)
			return fmt.Errorf("asking for PACKET_AUXDATA: %w", err)
		}
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, 4<<20); err != nil {
			unix.Close(fd)
			return err
		}
		if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: iface.Index}); err != nil {
			unix.Close(fd)
			return fmt.Errorf("binding to %s: %w", ifname, err)
		}
		c = &Capture{fd: fd}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("capturing on %s in %s: %w", ifname, netnsPath, err)
	}
	return c, nil
}

// Frames returns the frames captured since Start or the last call, without waiting.
func (c *Capture) Frames() ([]Frame, error) {
	var out []Frame
	buf := make([]byte, 65536)
	oob := make([]byte, unix.CmsgSpace(32))
	for {
		n, oobn, _, from, err := unix.Recvmsg(c.fd, buf, oob, unix.MSG_DONTWAIT)
		if errors.Is(err, unix.EAGAIN) {
			return out, nil
		}
		if err != nil {
			return out, fmt.Errorf("reading the capture: %w", err)
		}
		if n < 14 {
			continue
		}
		f := Frame{Dst: clone(buf[0:6]), Src: clone(buf[6:12]), EtherType: binary.BigEndian.Uint16(buf[12:14])}
		if ll, ok := from.(*unix.SockaddrLinklayer); ok {
			f.Outgoing = ll.Pkttype == unix.PACKET_OUTGOING
		}
		if f.EtherType == 0x8100 && n >= 18 { // a tag still in the frame
			f.Tagged, f.VLAN, f.EtherType = true, binary.BigEndian.Uint16(buf[14:16])&0xfff, binary.BigEndian.Uint16(buf[16:18])
		}
		msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
		if err != nil {
			return out, err
		}
		for _, m := range msgs {
			if m.Header.Level != unix.SOL_PACKET || m.Header.Type != unix.PACKET_AUXDATA || len(m.Data) < 20 {
				continue
			}
			status := binary.NativeEndian.Uint32(m.Data[0:4])
			if status&tpStatusVLANValid != 0 {
				f.Tagged, f.VLAN = true, binary.NativeEndian.Uint16(m.Data[16:18])&0xfff
			}
		}
		out = append(out, f)
	}
}

// Send writes frame, a whole Ethernet frame (any 802.1Q tags in it as they go on the wire), out of
// ifname in the network namespace at netnsPath, as a pod's raw packet socket would.
func Send(netnsPath, ifname string, frame []byte) error {
	return ns.WithNetNSPath(netnsPath, func(ns.NetNS) error {
		iface, err := net.InterfaceByName(ifname)
		if err != nil {
			return err
		}
		fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("opening a packet socket: %w", err)
		}
		defer unix.Close(fd)
		if err := unix.Sendto(fd, frame, 0, &unix.SockaddrLinklayer{Ifindex: iface.Index, Halen: 6}); err != nil {
			return fmt.Errorf("sending a frame out of %s: %w", ifname, err)
		}
		return nil
	})
}

// Close ends the capture.
func (c *Capture) Close() error { return unix.Close(c.fd) }

func clone(b []byte) net.HardwareAddr { return append(net.HardwareAddr(nil), b...) }

func htons(v uint16) uint16 { return binary.NativeEndian.Uint16(binary.BigEndian.AppendUint16(nil, v)) }
