package alloc

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"

	"github.com/knitter-cni/knitter/core/model"
	"github.com/knitter-cni/knitter/core/netspec"
)

// PodRequest asks for all the ports of one pod.
type PodRequest struct {
	Pod model.PodRef `json:"pod"`
	// Tenant is the pod's tenant (its namespace, by default).
	Tenant string `json:"tenant"`
	// Owner makes the pod's ports sticky (e.g. "statefulset/ns/web/0"); empty means not sticky.
	Owner    string                `json:"owner,omitempty"`
	Requests []model.AttachRequest `json:"requests"`
}

// MaxAttachments bounds the ports of one pod.
const MaxAttachments = 32

func (r *PodRequest) validate() error {
	if err := model.ValidateUID("pod.uid", r.Pod.UID); err != nil {
		return err
	}
	if err := model.ValidateName("tenant", r.Tenant); err != nil {
		return err
	}
	if err := validateOwner(r.Owner); err != nil {
		return err
	}
	if len(r.Requests) == 0 {
		return model.Invalid("requests", "is empty; a pod needs at least one network (or its tenant a default network)")
	}
	if len(r.Requests) > MaxAttachments {
		return model.Invalid("requests", "has %d attachments; a pod may have at most %d", len(r.Requests), MaxAttachments)
	}
	names := map[string]int{}
	defaults := -1
	for i, q := range r.Requests {
		f := fmt.Sprintf("requests[%d]", i)
		if err := model.ValidateInterfaceName(f+".interface", q.Interface); err != nil {
			return err
		}
		if j, dup := names[q.Interface]; dup {
			return model.Invalid(f+".interface", "%q is also requests[%d]'s interface; give each attachment its own name", q.Interface, j)
		}
		names[q.Interface] = i
		if q.DefaultRoute {
			if defaults >= 0 {
				return model.Invalid(f+".default_route", "requests[%d] already carries the default route; a pod has one", defaults)
			}
			defaults = i
		}
		if err := model.ValidateName(f+".network", q.Network); err != nil {
			return err
		}
		var v4, v6 int
		for _, ip := range q.IPs {
			if ip.Is4() {
				v4++
			} else {
				v6++
			}
		}
		if v4 > 1 || v6 > 1 {
			return model.Invalid(f+".ips", "has two addresses of one family; give at most one IPv4 and one IPv6 address")
		}
		if len(q.IPs) > 0 && q.IPGroup != "" {
			return model.Invalid(f+".ip_group", "cannot be combined with static ips; give one or the other")
		}
		if !q.MAC.IsZero() && !q.MAC.Unicast() {
			return model.Invalid(f+".mac", "%s is a multicast address; give a unicast MAC", q.MAC)
		}
		if err := validateCNIArgs(q.CNIArgs); err != nil {
			return model.Prefix(f+".cni_args", err)
		}
	}
	return nil
}

// MaxOwnerLen bounds a sticky owner string ("statefulset/<namespace>/<name>/<ordinal>" fits).
const MaxOwnerLen = 512

// validateOwner checks a sticky owner: printable, no spaces, no '|' (it separates the owner from the
// interface in a hold's key).
func validateOwner(owner string) error {
	if len(owner) > MaxOwnerLen {
		return model.Invalid("owner", "is %d characters; use at most %d", len(owner), MaxOwnerLen)
	}
	for i := 0; i < len(owner); i++ {
		if c := owner[i]; c <= ' ' || c >= 0x7f || c == '|' {
			return model.Invalid("owner", `has %q at position %d; use printable characters other than '|' and spaces, such as "statefulset/ns/web/0"`, c, i)
		}
	}
	return nil
}

// validateCNIArgs checks that NPWG cni-args, passed to the agent verbatim, are a JSON object.
func validateCNIArgs(args string) error {
	if args == "" {
		return nil
	}
	if t := strings.TrimLeft(args, " \t\r\n"); !strings.HasPrefix(t, "{") || !json.Valid([]byte(args)) {
		return model.Invalid("", `is not a JSON object; give one such as {"key": "value"} or leave it out`)
	}
	return nil
}

// sameRequest reports whether two pod requests ask for the same thing. It compares canonical forms,
// not decoded values: an empty list or object in a retry (ips, ip_prefixes, gateways, metadata)
// equals the absent one of a stored request (the store's JSON drops them), so a retry after a restart
// is not a conflict. The canonical form of a request is its JSON encoding, which omits empty lists
// and objects and sorts object keys, so a field added to AttachRequest is compared the same way.
func sameRequest(cur *model.Pod, r *PodRequest) bool {
	if cur.Tenant != r.Tenant || cur.Owner != r.Owner || cur.PodRef != r.Pod || len(cur.Requests) != len(r.Requests) {
		return false
	}
	for i := range cur.Requests {
		a, errA := json.Marshal(cur.Requests[i])
		b, errB := json.Marshal(r.Requests[i])
		if errA != nil || errB != nil || !bytes.Equal(a, b) {
			return false
		}
	}
	return true
}

// AllocatePod allocates every port of a pod, all or nothing. It is idempotent by pod UID: the same
// request again returns the same pod and no mutations; a different request for a UID that already has
// ports is a conflict.
func (s *State) AllocatePod(a Actor, r PodRequest) (model.Pod, []Mutation, error) {
	if err := r.validate(); err != nil {
		return model.Pod{}, nil, err
	}
	if err := a.checkPods(r.Tenant); err != nil {
		return model.Pod{}, nil, err
	}
	if cur, ok := s.pods[r.Pod.UID]; ok {
		if sameRequest(cur, &r) {
			return clonePod(cur), nil, nil
		}
		return model.Pod{}, nil, model.Errorf(model.CodeConflict, "pod.uid", "pod %s already has ports for a different request; release it first", r.Pod.UID)
	}
	t, ok := s.tenants[r.Tenant]
	if !ok {
		return model.Pod{}, nil, model.Errorf(model.CodeNotFound, "tenant", "tenant %q does not exist; create it (tenants map to namespaces)", r.Tenant)
	}
	if q := t.Quota.Ports; q > 0 && t.ports+len(r.Requests) > q {
		return model.Pod{}, nil, model.Errorf(model.CodeQuota, "requests", "tenant %q holds %d of its %d ports; %d more do not fit; release pods or raise quota.ports", r.Tenant, t.ports, q, len(r.Requests))
	}
	tx := &podTx{s: s}
	pod := &model.Pod{PodRef: r.Pod, Tenant: r.Tenant, Owner: r.Owner, Requests: r.Requests, Created: s.now}
	for i, q := range r.Requests {
		p, err := tx.port(r, q)
		if err != nil {
			tx.rollback()
			return model.Pod{}, nil, model.Prefix(fmt.Sprintf("requests[%d]", i), err)
		}
		pod.Ports = append(pod.Ports, p)
	}
	s.pods[r.Pod.UID] = pod
	for _, p := range pod.Ports {
		s.networks[p.Network].ports++
	}
	t.ports += len(pod.Ports)
	return clonePod(pod), append(tx.muts, put(podPrefix+r.Pod.UID, pod)), nil
}

// podTx is one AllocatePod in progress: what it took, to give back if a later port fails.
type podTx struct {
	s    *State
	undo []func()
	muts []Mutation
}

func (tx *podTx) rollback() {
	for i := len(tx.undo) - 1; i >= 0; i-- {
		tx.undo[i]()
	}
}

// port allocates one port: static addresses, then an IP group, then a sticky hold, then the pools.
func (tx *podTx) port(r PodRequest, q model.AttachRequest) (model.Port, error) {
	s := tx.s
	nw, err := s.resolve(r.Tenant, q)
	if err != nil {
		return model.Port{}, err
	}
	if err := netspec.CheckNPWG(q, &nw.Network); err != nil {
		return model.Port{}, err
	}
	p := model.Port{
		ID: r.Pod.UID + "/" + q.Interface, Tenant: r.Tenant, Network: nw.Key(), Pod: r.Pod,
		Interface: q.Interface, IPGroup: q.IPGroup, DefaultRoute: q.DefaultRoute, State: model.PortAllocated,
		Function: q.Function, NICType: q.NICType,
	}
	var hold *Hold
	if r.Owner != "" {
		// Only the pod's own tenant's hold is ever looked at: the owner string is the client's word.
		if h, ok := s.holds[holdKey(r.Tenant, r.Owner, q.Interface)]; ok {
			if h.Network == nw.Key() && len(q.IPs) == 0 && q.IPGroup == "" {
				hold = h
			} else {
				// The owner moved this interface to another network, or now asks for explicit
				// addresses: the request wins and the old hold is of no use.
				tx.muts = append(tx.muts, s.dropHold(h)...)
				tx.undo = append(tx.undo, func() { s.restoreHold(h) })
			}
		}
	}
	switch {
	case len(q.IPs) > 0:
		err = tx.static(nw, q, &p)
	case q.IPGroup != "":
		err = tx.fromGroup(nw, q, &p)
	case hold != nil:
		tx.takeHold(nw, hold, &p)
	default:
		err = tx.dynamic(nw, &p)
	}
	if err != nil {
		return model.Port{}, err
	}
	if hold != nil && !q.MAC.IsZero() && q.MAC != hold.MAC {
		// A requested MAC wins over the held one: the held MAC goes back to the pool, and the
		// requested one is claimed below (or the request fails saying why).
		held := hold.MAC
		nw.macs.Release(held)
		tx.undo = append(tx.undo, func() { mustOK(nw.macs.Claim(held)) })
		hold = nil
	}
	if hold == nil {
		if err := tx.mac(nw, q, &p); err != nil {
			return model.Port{}, err
		}
	}
	return p, nil
}

// resolve finds the network a request names and checks the pod's tenant may use it.
func (s *State) resolve(podTenant string, q model.AttachRequest) (*network, error) {
	if q.Tenant != "" && q.Tenant != podTenant {
		// Another tenant's private network answers exactly as a missing one: its existence is not
		// the pod's tenant's to learn.
		nw, ok := s.networks[q.Tenant+"/"+q.Network]
		if !ok || !nw.Public {
			return nil, model.Errorf(model.CodeNotFound, "network", "tenant %q has no public network %q; a pod of tenant %q attaches to its own networks and public ones", q.Tenant, q.Network, podTenant)
		}
		return nw, nil
	}
	if nw, ok := s.networks[podTenant+"/"+q.Network]; ok {
		return nw, nil
	}
	var found *network
	for _, key := range sortedKeys(s.networks) {
		if nw := s.networks[key]; nw.Public && nw.Name == q.Network {
			if found != nil {
				return nil, model.Errorf(model.CodeConflict, "network", "%q names public networks of tenants %q and %q; name the tenant too (\"%s/%s\")", q.Network, found.Tenant, nw.Tenant, nw.Tenant, q.Network)
			}
			found = nw
		}
	}
	if found == nil {
		return nil, model.Errorf(model.CodeNotFound, "network", "network %q does not exist in tenant %q and is not a public network", q.Network, podTenant)
	}
	return found, nil
}

func (tx *podTx) static(nw *network, q model.AttachRequest, p *model.Port) error {
	for j, ip := range q.IPs {
		pool, field := nw.v4, fmt.Sprintf("ips[%d]", j)
		if ip.Is6() {
			pool = nw.v6
		}
		if pool == nil {
			return model.Invalid(field, "%s: network %q has no subnet of that family", ip, nw.Key())
		}
		wasCooling, err := pool.Claim(ip)
		if err != nil {
			return model.Prefix(field, err)
		}
		tx.claimed(nw, ip, wasCooling)
		p.IPs = append(p.IPs, ip)
	}
	// A dual-stack network gives every port both families: allocate the one not given.
	for _, pool := range []struct {
		present bool
		is4     bool
	}{{nw.v4 != nil, true}, {nw.v6 != nil, false}} {
		if !pool.present || hasFamily(q.IPs, pool.is4) {
			continue
		}
		if err := tx.dynamicFamily(nw, pool.is4, p); err != nil {
			return err
		}
	}
	sortIPs(p.IPs)
	return nil
}

func (tx *podTx) dynamic(nw *network, p *model.Port) error {
	for _, is4 := range []bool{true, false} {
		if (is4 && nw.v4 == nil) || (!is4 && nw.v6 == nil) {
			continue
		}
		if err := tx.dynamicFamily(nw, is4, p); err != nil {
			return err
		}
	}
	return nil
}

func (tx *podTx) dynamicFamily(nw *network, is4 bool, p *model.Port) error {
	pool := nw.v6
	if is4 {
		pool = nw.v4
	}
	ip, wasCooling, err := pool.Allocate()
	if err != nil {
		return model.Prefix("network", err)
	}
	tx.claimed(nw, ip, wasCooling)
	p.IPs = append(p.IPs, ip)
	return nil
}

// claimed records a taken address for rollback and ends its persisted cooldown, if it had one.
func (tx *podTx) claimed(nw *network, ip netip.Addr, wasCooling bool) {
	s, pool := tx.s, nw.pool(ip)
	ck := coolKey{network: nw.Key(), addr: ip}
	until, cooled := s.cooling[ck]
	tx.undo = append(tx.undo, func() {
		pool.Release(ip, until)
		if cooled {
			s.cooling[ck] = until
		}
	})
	if wasCooling || cooled {
		delete(s.cooling, ck)
		tx.muts = append(tx.muts, del(cooldownKey(ck)))
	}
}

func (tx *podTx) fromGroup(nw *network, q model.AttachRequest, p *model.Port) error {
	g, ok := tx.s.groups[nw.Tenant+"/"+q.IPGroup]
	if !ok || g.Network != nw.Name {
		return model.Errorf(model.CodeNotFound, "ip_group", "IP group %q does not exist on network %q", q.IPGroup, nw.Key())
	}
	for _, ip := range g.IPs {
		if _, used := g.users[ip]; !used {
			g.users[ip] = p.ID
			tx.undo = append(tx.undo, func() { delete(g.users, ip) })
			p.IPs = []netip.Addr{ip}
			return nil
		}
	}
	return model.Errorf(model.CodeExhausted, "ip_group", "every address of IP group %q is in use (%d); grow the group or release a pod", q.IPGroup, len(g.IPs))
}

func (tx *podTx) takeHold(nw *network, h *Hold, p *model.Port) {
	s := tx.s
	for _, ip := range h.IPs {
		nw.pool(ip).TakeHeld(h.Key)
	}
	delete(s.holds, h.Key)
	nw.holds--
	tx.undo = append(tx.undo, func() {
		for _, ip := range h.IPs {
			// The address was held a moment ago: putting it back cannot fail.
			mustOK(nw.pool(ip).Hold(ip, h.Key, h.Until))
		}
		s.holds[h.Key] = h
		nw.holds++
	})
	tx.muts = append(tx.muts, del(holdPrefix+h.Key))
	p.IPs = append([]netip.Addr(nil), h.IPs...)
	p.MAC = h.MAC
}

func (tx *podTx) mac(nw *network, q model.AttachRequest, p *model.Port) error {
	if !q.MAC.IsZero() {
		if err := nw.macs.Claim(q.MAC); err != nil {
			return model.Prefix("mac", err)
		}
		p.MAC = q.MAC
	} else {
		m, err := nw.macs.Allocate()
		if err != nil {
			return model.Prefix("mac", err)
		}
		p.MAC = m
	}
	mac := p.MAC
	tx.undo = append(tx.undo, func() { nw.macs.Release(mac) })
	return nil
}

// BindPod records the node a pod's ports were built on. Binding again to the same node is a no-op;
// to another node, a conflict (a pod does not move).
func (s *State) BindPod(a Actor, uid, node string) (model.Pod, []Mutation, error) {
	pod, ok := s.pods[uid]
	if !ok {
		return model.Pod{}, nil, model.Errorf(model.CodeNotFound, "pod.uid", "pod %s has no ports; allocate them first", uid)
	}
	if err := a.checkPod(pod); err != nil {
		return model.Pod{}, nil, err
	}
	if _, ok := s.nodes[node]; !ok {
		return model.Pod{}, nil, model.Errorf(model.CodeNotFound, "node", "node %q is not registered; its knitter-agent registers it on start", node)
	}
	if pod.Node == node {
		return clonePod(pod), nil, nil
	}
	if pod.Node != "" {
		return model.Pod{}, nil, model.Errorf(model.CodeConflict, "node", "pod %s is bound to node %q, not %q", uid, pod.Node, node)
	}
	pod.Node = node
	for i := range pod.Ports {
		pod.Ports[i].Node = node
		pod.Ports[i].State = model.PortBound
	}
	return clonePod(pod), []Mutation{put(podPrefix+uid, pod)}, nil
}

// ReleasePod frees a pod's ports: dynamic addresses of a sticky pod go into holds for its owner, the
// rest into cooldown. Releasing an unknown pod is a no-op that reports false.
func (s *State) ReleasePod(a Actor, uid string) (bool, []Mutation, error) {
	pod, ok := s.pods[uid]
	if !ok {
		return false, nil, nil
	}
	if err := a.checkPod(pod); err != nil {
		return false, nil, err
	}
	var muts []Mutation
	for i, p := range pod.Ports {
		muts = append(muts, s.releasePort(pod, pod.Requests[i], p)...)
	}
	delete(s.pods, uid)
	s.tenants[pod.Tenant].ports -= len(pod.Ports)
	return true, append(muts, del(podPrefix+uid)), nil
}

func (s *State) releasePort(pod *model.Pod, q model.AttachRequest, p model.Port) []Mutation {
	nw := s.networks[p.Network]
	nw.ports--
	if p.IPGroup != "" {
		delete(s.groups[nw.Tenant+"/"+p.IPGroup].users, p.IPs[0])
		nw.macs.Release(p.MAC)
		return nil
	}
	if pod.Owner != "" && len(q.IPs) == 0 && s.cfg.StickyTTL > 0 {
		h := &Hold{Key: holdKey(pod.Tenant, pod.Owner, p.Interface), Tenant: pod.Tenant, Network: p.Network, IPs: p.IPs, MAC: p.MAC,
			Until: s.now.Add(s.cfg.StickyTTL), Interface: p.Interface}
		var muts []Mutation
		if old, ok := s.holds[h.Key]; ok {
			// Two pods of one owner released in turn: the newer addresses win.
			muts = s.dropHold(old)
		}
		for _, ip := range p.IPs {
			mustOK(nw.pool(ip).Hold(ip, h.Key, h.Until))
		}
		s.holds[h.Key] = h
		nw.holds++
		return append(muts, put(holdPrefix+h.Key, h))
	}
	nw.macs.Release(p.MAC)
	return s.cool(nw, p.IPs)
}

// cool releases used addresses into cooldown and returns their records.
func (s *State) cool(nw *network, ips []netip.Addr) []Mutation {
	var muts []Mutation
	for _, ip := range ips {
		if s.cfg.Cooldown == 0 {
			nw.pool(ip).Release(ip, 0)
			continue
		}
		until := s.now.Add(s.cfg.Cooldown)
		nw.pool(ip).Release(ip, until)
		ck := coolKey{network: nw.Key(), addr: ip}
		s.cooling[ck] = until
		muts = append(muts, put(cooldownKey(ck), cooldownRecord{Until: until}))
	}
	return muts
}

// dropHold ends a sticky hold early: its addresses go into cooldown, its MAC back to the pool.
func (s *State) dropHold(h *Hold) []Mutation {
	nw := s.networks[h.Network]
	for _, ip := range h.IPs {
		nw.pool(ip).TakeHeld(h.Key)
	}
	nw.macs.Release(h.MAC)
	delete(s.holds, h.Key)
	nw.holds--
	return append(s.cool(nw, h.IPs), del(holdPrefix+h.Key))
}

// restoreHold undoes dropHold inside a failed AllocatePod.
func (s *State) restoreHold(h *Hold) {
	nw := s.networks[h.Network]
	for _, ip := range h.IPs {
		ck := coolKey{network: nw.Key(), addr: ip}
		delete(s.cooling, ck)
		// Cooling (or free, without a cooldown) again since dropHold; later ports of the failed
		// transaction were rolled back first, so nobody else has it.
		_, err := nw.pool(ip).Claim(ip)
		mustOK(err)
		mustOK(nw.pool(ip).Hold(ip, h.Key, h.Until))
	}
	mustOK(nw.macs.Claim(h.MAC))
	s.holds[h.Key] = h
	nw.holds++
}

// Pod returns a copy of a pod's allocation.
func (s *State) Pod(uid string) (model.Pod, bool) {
	p, ok := s.pods[uid]
	if !ok {
		return model.Pod{}, false
	}
	return clonePod(p), true
}

func clonePod(p *model.Pod) model.Pod {
	c := *p
	c.Ports = append([]model.Port(nil), p.Ports...)
	return c
}

func hasFamily(ips []netip.Addr, is4 bool) bool {
	for _, ip := range ips {
		if ip.Is4() == is4 {
			return true
		}
	}
	return false
}

func sortIPs(ips []netip.Addr) {
	if len(ips) == 2 && ips[0].Is6() && ips[1].Is4() {
		ips[0], ips[1] = ips[1], ips[0]
	}
}

// mustOK panics on an error that a broken invariant alone can cause.
func mustOK(err error) {
	if err != nil {
		panic(fmt.Sprintf("alloc: invariant broken: %v", err))
	}
}
