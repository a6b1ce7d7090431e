package main

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/knitter-cni/knitter/core/model"
)

// parseAttach parses one --network of `pod allocate`:
//
//	[TENANT/]NETWORK[@IFACE][,ip=ADDR][,mac=MAC][,ip-group=GROUP][,default-route]
//
// ip may be given once per family. An empty interface is filled in by fillInterfaces.
func parseAttach(s string) (model.AttachRequest, error) {
	var q model.AttachRequest
	head, opts, _ := strings.Cut(strings.TrimSpace(s), ",")
	net, iface, _ := strings.Cut(head, "@")
	if t, n, ok := strings.Cut(net, "/"); ok {
		q.Tenant, net = t, n
	}
	q.Network, q.Interface = net, iface
	if err := model.ValidateName("--network", q.Network); err != nil {
		return q, err
	}
	if q.Tenant != "" {
		if err := model.ValidateName("--network", q.Tenant); err != nil {
			return q, err
		}
	}
	if opts == "" {
		return q, nil
	}
	for opt := range strings.SplitSeq(opts, ",") {
		key, val, _ := strings.Cut(opt, "=")
		switch strings.TrimSpace(key) {
		case "ip":
			ip, err := netip.ParseAddr(val)
			if err != nil {
				return q, usageErr("--network", "%q: ip=%q is not an IP address", s, val)
			}
			q.IPs = append(q.IPs, ip)
		case "mac":
			mac, err := model.ParseMAC(val)
			if err != nil {
				return q, usageErr("--network", "%q: mac=%v", s, err)
			}
			q.MAC = mac
		case "ip-group", "ip_group":
			q.IPGroup = val
		case "default-route", "default_route":
			q.DefaultRoute = val == "" || val == "true"
		default:
			return q, usageErr("--network", "%q: unknown option %q; use ip=, mac=, ip-group= or default-route", s, key)
		}
	}
	return q, nil
}

// fillInterfaces names the interfaces the user left out: eth0 for the first, then net1, net2, …
// skipping names already taken (the names Multus gives).
func fillInterfaces(reqs []model.AttachRequest) {
	taken := map[string]bool{}
	for _, q := range reqs {
		taken[q.Interface] = q.Interface != ""
	}
	next := 1
	for i := range reqs {
		if reqs[i].Interface != "" {
			continue
		}
		if i == 0 && !taken["eth0"] {
			reqs[i].Interface, taken["eth0"] = "eth0", true
			continue
		}
		for taken[fmt.Sprintf("net%d", next)] {
			next++
		}
		reqs[i].Interface = fmt.Sprintf("net%d", next)
		taken[reqs[i].Interface] = true
	}
}
