package model

import (
	"fmt"
	"net"
)

// MAC is an Ethernet address. Its text form is the usual "02:00:00:00:00:01".
type MAC [6]byte

// ParseMAC parses a 48-bit Ethernet address in any form net.ParseMAC accepts.
func ParseMAC(s string) (MAC, error) {
	hw, err := net.ParseMAC(s)
	if err != nil || len(hw) != 6 {
		return MAC{}, fmt.Errorf("%q is not a 48-bit MAC address such as \"02:00:00:00:00:01\"", s)
	}
	return MAC(hw), nil
}

// String formats m as six colon-separated hex bytes.
func (m MAC) String() string { return net.HardwareAddr(m[:]).String() }

// IsZero reports whether m is the zero address (meaning "none").
func (m MAC) IsZero() bool { return m == MAC{} }

// Unicast reports whether m can be a NIC's address: not multicast or broadcast, not zero.
func (m MAC) Unicast() bool { return !m.IsZero() && m[0]&1 == 0 }

// MarshalText implements encoding.TextMarshaler.
func (m MAC) MarshalText() ([]byte, error) {
	if m.IsZero() {
		return []byte{}, nil
	}
	return []byte(m.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler; the empty string is the zero MAC.
func (m *MAC) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*m = MAC{}
		return nil
	}
	v, err := ParseMAC(string(b))
	if err != nil {
		return err
	}
	*m = v
	return nil
}
