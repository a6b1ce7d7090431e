package netlinkdp

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"runtime"
	"slices"
	"unsafe"

	"github.com/containernetworking/plugins/pkg/ns"
	"github.com/knitter-cni/knitter/core/model"
	"golang.org/x/sys/unix"
)

// The ethtool string set and string length used here (include/uapi/linux/ethtool.h; x/sys/unix has
// the ioctl's commands but not these).
const (
	ethSSFeatures = 4
	ethGStringLen = 32
)

// nicFeature is one of a NIC's netdev features as ethtool -k shows it.
type nicFeature struct {
	// Active says the feature is on; Changeable that it can be turned on or off ("[fixed]" if not).
	Active, Changeable bool
}

// ethtool is an ethtool ioctl socket for one device.
type ethtool struct {
	fd   int
	name string
}

// withEthtool runs f with an ethtool socket for ifname in the namespace at netnsPath (the caller's
// when empty).
func withEthtool(netnsPath, ifname string, f func(*ethtool) error) error {
	run := func() error {
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("opening an ethtool socket: %w", err)
		}
		defer unix.Close(fd)
		return f(&ethtool{fd: fd, name: ifname})
	}
	if netnsPath == "" {
		return run()
	}
	return ns.WithNetNSPath(netnsPath, func(ns.NetNS) error { return run() })
}

// ioctl runs SIOCETHTOOL with buf as the command's structure.
func (e *ethtool) ioctl(buf []byte) error {
	var ifr [unix.IFNAMSIZ + 24]byte
	copy(ifr[:unix.IFNAMSIZ-1], e.name)
	*(*uintptr)(unsafe.Pointer(&ifr[unix.IFNAMSIZ])) = uintptr(unsafe.Pointer(&buf[0]))
	_, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(e.fd), unix.SIOCETHTOOL, uintptr(unsafe.Pointer(&ifr[0])))
	runtime.KeepAlive(buf)
	if errno != 0 {
		return errno
	}
	return nil
}

// names reads the names of the device's netdev features, in bit order.
func (e *ethtool) names() ([]string, error) {
	info := make([]byte, 20) // cmd, reserved, sset_mask (u64), data[1]
	binary.NativeEndian.PutUint32(info[0:], unix.ETHTOOL_GSSET_INFO)
	binary.NativeEndian.PutUint64(info[8:], 1<<ethSSFeatures)
	if err := e.ioctl(info); err != nil {
		return nil, fmt.Errorf("reading %s's feature count (ETHTOOL_GSSET_INFO): %w", e.name, err)
	}
	if binary.NativeEndian.Uint64(info[8:])&(1<<ethSSFeatures) == 0 {
		return nil, fmt.Errorf("%s reports no feature names", e.name)
	}
	n := int(binary.NativeEndian.Uint32(info[16:]))
	strs := make([]byte, 12+n*ethGStringLen)
	binary.NativeEndian.PutUint32(strs[0:], unix.ETHTOOL_GSTRINGS)
	binary.NativeEndian.PutUint32(strs[4:], ethSSFeatures)
	binary.NativeEndian.PutUint32(strs[8:], uint32(n))
	if err := e.ioctl(strs); err != nil {
		return nil, fmt.Errorf("reading %s's feature names (ETHTOOL_GSTRINGS): %w", e.name, err)
	}
	out := make([]string, n)
	for i := range out {
		name := strs[12+i*ethGStringLen : 12+(i+1)*ethGStringLen]
		if j := bytes.IndexByte(name, 0); j >= 0 {
			name = name[:j]
		}
		out[i] = string(name)
	}
	return out, nil
}

// features reads the device's netdev features by name.
func (e *ethtool) features() (map[string]nicFeature, error) {
	names, err := e.names()
	if err != nil {
		return nil, err
	}
	blocks := (len(names) + 31) / 32
	get := make([]byte, 8+blocks*16) // cmd, size, {available, requested, active, never_changed}[size]
	binary.NativeEndian.PutUint32(get[0:], unix.ETHTOOL_GFEATURES)
	binary.NativeEndian.PutUint32(get[4:], uint32(blocks))
	if err := e.ioctl(get); err != nil {
		return nil, fmt.Errorf("reading %s's features (ETHTOOL_GFEATURES): %w", e.name, err)
	}
	out := make(map[string]nicFeature, len(names))
	for i, name := range names {
		block, bit := get[8+(i/32)*16:], uint32(1)<<(i%32)
		available := binary.NativeEndian.Uint32(block[0:])
		active := binary.NativeEndian.Uint32(block[8:])
		never := binary.NativeEndian.Uint32(block[12:])
		out[name] = nicFeature{Active: active&bit != 0, Changeable: available&bit != 0 && never&bit == 0}
	}
	return out, nil
}

// setFeature asks for the named feature on or off.
func (e *ethtool) setFeature(name string, on bool) error {
	names, err := e.names()
	if err != nil {
		return err
	}
	index := slices.Index(names, name)
	if index < 0 {
		return fmt.Errorf("%s has no feature %s", e.name, name)
	}
	blocks := (len(names) + 31) / 32
	set := make([]byte, 8+blocks*8) // cmd, size, {valid, requested}[size]
	binary.NativeEndian.PutUint32(set[0:], unix.ETHTOOL_SFEATURES)
	binary.NativeEndian.PutUint32(set[4:], uint32(blocks))
	block, bit := set[8+(index/32)*8:], uint32(1)<<(index%32)
	binary.NativeEndian.PutUint32(block[0:], bit)
	if on {
		binary.NativeEndian.PutUint32(block[4:], bit)
	}
	if err := e.ioctl(set); err != nil {
		return fmt.Errorf("setting %s %s (ETHTOOL_SFEATURES): %w", e.name, name, err)
	}
	return nil
}

// vlanFilterFeature is the hardware VLAN filter: with it on, a NIC takes tagged frames only for the
// VLAN ids registered with it, which only 802.1Q devices do; the VLAN datapath makes none.
const vlanFilterFeature = "rx-vlan-filter"

// trunkVLANFilterOff turns the trunk NIC's hardware VLAN filter off, so that it takes every VLAN's
// frames; a NIC whose filter cannot be turned off cannot be a trunk of the VLAN datapath. A NIC
// without the feature (veths, most virtual NICs) is left as it is.
func trunkVLANFilterOff(netnsPath, ifname string) error {
	return withEthtool(netnsPath, ifname, func(e *ethtool) error {
		fs, err := e.features()
		if err != nil {
			return err
		}
		f := fs[vlanFilterFeature]
		if !f.Active {
			return nil
		}
		if !f.Changeable {
			return model.Errorf(model.CodeConflict, "uplink",
				"trunk %s filters VLAN ids in hardware (%s on, fixed) and would drop the vlan networks' tagged frames; use a NIC whose filter can be turned off", ifname, vlanFilterFeature)
		}
		if err := e.setFeature(vlanFilterFeature, false); err != nil {
			return fmt.Errorf("turning trunk %s's %s off (ethtool -K %s %s off): %w", ifname, vlanFilterFeature, ifname, vlanFilterFeature, err)
		}
		if fs, err = e.features(); err != nil {
			return err
		}
		if fs[vlanFilterFeature].Active {
			return model.Errorf(model.CodeConflict, "uplink", "trunk %s keeps %s on after it was turned off; its driver refuses it", ifname, vlanFilterFeature)
		}
		return nil
	})
}
