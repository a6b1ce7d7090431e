package main

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"strings"

	"github.com/vishvananda/netlink"
)

// Link is one interface in `ip -j addr` output, in iproute2's field names.
type Link struct {
	IfName    string     `json:"ifname"`
	Address   string     `json:"address"`
	MTU       int        `json:"mtu"`
	OperState string     `json:"operstate"`
	AddrInfo  []AddrInfo `json:"addr_info"`
}

// AddrInfo is one address of a Link.
type AddrInfo struct {
	Family    string `json:"family"`
	Local     string `json:"local"`
	PrefixLen int    `json:"prefixlen"`
	Scope     string `json:"scope"`
}

func ip(args []string) error {
	family := netlink.FAMILY_ALL
	for len(args) > 0 && strings.HasPrefix(args[0], "-") {
		switch args[0] {
		case "-4":
			family = netlink.FAMILY_V4
		case "-6":
			family = netlink.FAMILY_V6
		case "-j":
		default:
			return fmt.Errorf("unknown option %s", args[0])
		}
		args = args[1:]
	}
	if len(args) > 2 && args[0] == "neigh" && args[1] == "replace" {
		return neighReplace(args[2:])
	}
	switch strings.Join(args, " ") {
	case "addr", "addr show", "a":
		return addrs()
	case "route show default", "route list default":
		return defaultRoutes(family)
	}
	return fmt.Errorf("unsupported: ip %s (use -j addr, [-4|-6] route show default or neigh replace ADDR lladdr MAC dev IFNAME [nud permanent])", strings.Join(args, " "))
}

// neighReplace is `ip neigh replace ADDR lladdr MAC dev IFNAME [nud permanent]`: a static neighbour
// entry, as a pod that knows another pod's MAC might set (it needs CAP_NET_ADMIN in its namespace).
func neighReplace(args []string) error {
	usage := fmt.Errorf("usage: ip neigh replace ADDR lladdr MAC dev IFNAME [nud permanent], not %q", strings.Join(args, " "))
	dst := net.ParseIP(args[0])
	if dst == nil {
		return fmt.Errorf("neigh replace: %q is not an IP address", args[0])
	}
	var mac net.HardwareAddr
	var dev string
	for rest := args[1:]; len(rest) > 0; rest = rest[2:] {
		if len(rest) < 2 {
			return usage
		}
		switch rest[0] {
		case "lladdr":
			var err error
			if mac, err = net.ParseMAC(rest[1]); err != nil {
				return fmt.Errorf("neigh replace: lladdr: %w", err)
			}
		case "dev":
			dev = rest[1]
		case "nud":
			if rest[1] != "permanent" {
				return fmt.Errorf("neigh replace: nud %s: only permanent is supported", rest[1])
			}
		default:
			return usage
		}
	}
	if mac == nil || dev == "" {
		return usage
	}
	link, err := netlink.LinkByName(dev)
	if err != nil {
		return fmt.Errorf("neigh replace: dev %s: %w", dev, err)
	}
	family := netlink.FAMILY_V6
	if dst.To4() != nil {
		family = netlink.FAMILY_V4
	}
	return netlink.NeighSet(&netlink.Neigh{LinkIndex: link.Attrs().Index, Family: family, State: netlink.NUD_PERMANENT, IP: dst, HardwareAddr: mac})
}

func addrs() error {
	links, err := netlink.LinkList()
	if err != nil {
		return err
	}
	out := []Link{}
	for _, l := range links {
		a := l.Attrs()
		li := Link{IfName: a.Name, Address: a.HardwareAddr.String(), MTU: a.MTU, OperState: a.OperState.String(), AddrInfo: []AddrInfo{}}
		as, err := netlink.AddrList(l, netlink.FAMILY_ALL)
		if err != nil {
			return err
		}
		for _, ad := range as {
			fam := "inet"
			if ad.IP.To4() == nil {
				fam = "inet6"
			}
			ones, _ := ad.Mask.Size()
			li.AddrInfo = append(li.AddrInfo, AddrInfo{Family: fam, Local: ad.IP.String(), PrefixLen: ones, Scope: scope(ad.Scope)})
		}
		out = append(out, li)
	}
	return json.NewEncoder(os.Stdout).Encode(out)
}

func scope(s int) string {
	switch netlink.Scope(s) {
	case netlink.SCOPE_UNIVERSE:
		return "global"
	case netlink.SCOPE_LINK:
		return "link"
	case netlink.SCOPE_HOST:
		return "host"
	}
	return fmt.Sprint(s)
}

func defaultRoutes(family int) error {
	routes, err := netlink.RouteList(nil, family)
	if err != nil {
		return err
	}
	for _, r := range routes {
		if r.Dst != nil && !isDefault(r.Dst) {
			continue
		}
		line := "default"
		if r.Gw != nil {
			line += " via " + r.Gw.String()
		}
		if l, err := netlink.LinkByIndex(r.LinkIndex); err == nil {
			line += " dev " + l.Attrs().Name
		}
		fmt.Println(line)
	}
	return nil
}

func isDefault(n *net.IPNet) bool {
	ones, _ := n.Mask.Size()
	return ones == 0
}
