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
	switch strings.Join(args, " ") {
	case "addr", "addr show", "a":
		return addrs()
	case "route show default", "route list default":
		return defaultRoutes(family)
	}
	return fmt.Errorf("unsupported: ip %s (use -j addr or [-4|-6] route show default)", strings.Join(args, " "))
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
