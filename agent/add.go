package agent

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/knitter-cni/knitter/agent/wire"
	"github.com/knitter-cni/knitter/core/alloc"
	"github.com/knitter-cni/knitter/core/model"
	"github.com/knitter-cni/knitter/core/netspec"
	"github.com/knitter-cni/knitter/core/plan"
	"github.com/knitter-cni/knitter/core/podnet"
)

// rollbackTimeout bounds the undo of a failed ADD, which runs even when the caller has given up.
const rollbackTimeout = 30 * time.Second

// Add attaches the pod of req and returns its CNI result. A repeated ADD of an attachment that is
// built returns the same result without touching the links.
func (a *Agent) Add(ctx context.Context, req wire.Request) (wire.Result, error) {
	key := wire.Attachment{ContainerID: req.ContainerID, IfName: req.IfName}
	if err := checkAttachment(key); err != nil {
		return wire.Result{}, err
	}
	if err := checkFits(key); err != nil {
		return wire.Result{}, err
	}
	if req.Netns == "" {
		return wire.Result{}, coded(wire.CodeInvalidEnv, model.Invalid("CNI_NETNS", "is empty; ADD needs the pod's network namespace"))
	}
	// Before anything is allocated or built: never the node's namespace (its routes would be the
	// pod's), never a namespace of another type or one that cannot be entered (nothing could ever
	// tear it down).
	if err := a.dp.CheckNetns(ctx, req.Netns); err != nil {
		return wire.Result{}, coded(wire.CodeInvalidEnv, err)
	}
	unlock := a.locks.lock(req.ContainerID)
	defer unlock()

	cp, ok, err := a.store.Load(key)
	if err != nil {
		return wire.Result{}, coded(wire.CodeIOFailure, err)
	}
	if ok && cp.Teardown {
		// Deleted, its links not removed yet: remove them before building the attachment again.
		if err := a.finish(ctx, key); err != nil {
			return wire.Result{}, err
		}
		ok = false
	}
	if ok {
		if cp.Plan.Netns != req.Netns {
			return wire.Result{}, coded(wire.CodeInvalidEnv, model.Invalid("CNI_NETNS",
				"is %s, but container %s is attached in %s; DEL it first", clipPath(req.Netns), req.ContainerID, cp.Plan.Netns))
		}
		if cp.Ready {
			return cp.Result, nil
		}
		// An ADD that a crash (or a failed rollback) cut short: build the same plan again (and bind,
		// for a checkpoint of an agent that bound after building), flooding to today's peers where
		// the checkpoint kept none.
		cp.Plan = a.fillPeers(cp.Plan)
		return a.build(ctx, cp, false)
	}
	b, info, err := a.bind(ctx, req)
	if err != nil {
		return wire.Result{}, err
	}
	pod := b.Pod
	ports, err := selectPorts(pod, info, req)
	if err != nil {
		return wire.Result{}, err
	}
	networks, err := a.networks(ctx, ports, b.Networks)
	if err != nil {
		return wire.Result{}, err
	}
	// Before planning: the plan floods to the peers this agent has applied by then.
	a.peerGate(ctx, networks)
	p, err := plan.Plan(a.node, plan.Request{ContainerID: req.ContainerID, Netns: req.Netns, Pod: pod.PodRef,
		Ports: ports, Networks: networks, Peers: a.currentPeers()})
	if err != nil {
		return wire.Result{}, err
	}
	p = a.dropProgrammedPeers(p)
	dns := a.dns
	if req.DNS != nil && !req.DNS.IsZero() {
		dns = *req.DNS
	}
	cp = Checkpoint{ContainerID: req.ContainerID, IfName: req.IfName, Config: req.Name, Network: req.Network, Plan: p, Result: resultOf(p, dns)}
	unlockPod := a.uidLocks.lock(p.Pod.UID)
	defer unlockPod()
	// A deleted attachment whose links are still to be removed in the same namespace, of the same
	// container or pod: removed first, so that this one never meets its links.
	if err := a.finishMeeting(ctx, req.ContainerID, req.Netns, p.Pod.UID); err != nil {
		return wire.Result{}, err
	}
	if err := a.admit(cp); err != nil {
		return wire.Result{}, err
	}
	return a.build(ctx, cp, true)
}

// build checkpoints cp, builds its links and binds its ports to this node (unless bound says they
// are). On failure it undoes what it did, so nothing is left half-built.
func (a *Agent) build(ctx context.Context, cp Checkpoint, bound bool) (res wire.Result, err error) {
	cp.Ready = false
	if err := a.store.Save(cp, true); err != nil {
		return wire.Result{}, coded(wire.CodeIOFailure, err)
	}
	a.remember(cp)
	defer func() {
		if err != nil {
			a.rollback(ctx, cp)
		}
	}()
	if err := a.dp.Attach(ctx, cp.Plan); err != nil {
		return wire.Result{}, coded(wire.CodeDataplane, fmt.Errorf("building the links of container %s: %w", cp.ContainerID, err))
	}
	if !bound {
		if _, err := a.mgr.BindPod(ctx, cp.Plan.Pod.UID, a.node.Name); err != nil {
			return wire.Result{}, fmt.Errorf("binding pod %s's ports to node %s: %w", cp.Plan.Pod.UID, a.node.Name, err)
		}
	}
	cp.Ready = true
	// Built: the checkpoint keeps no flood list. The peers are the node's, programmed by SyncPeers
	// from the node set, not the pod's; kept in every pod's checkpoint they cost O(nodes) a pod.
	// (The not-ready checkpoint above keeps them, for an ADD that a crash cuts short.)
	cp = cp.withoutPeers()
	if err := a.store.Save(cp, false); err != nil {
		return wire.Result{}, coded(wire.CodeIOFailure, err)
	}
	a.remember(cp)
	if a.unsynced(cp.Plan) {
		// A VNI new on this node: program its exact flood list now rather than at the next change
		// of the node set, so that the next pod on it plans without the list (dropProgrammedPeers).
		if err := a.SyncPeers(ctx); err != nil {
			a.log.Warn("programming the peers of a new VNI failed; the next node watch retries", "err", err)
		}
	}
	return cp.Result, nil
}

// rollback removes what a failed ADD built and its checkpoint. If the links cannot be removed the
// checkpoint stays, so that DEL, GC or the restart reconcile can finish the job.
func (a *Agent) rollback(ctx context.Context, cp Checkpoint) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rollbackTimeout)
	defer cancel()
	if err := a.dp.Detach(ctx, cp.Plan); err != nil {
		a.log.Error("rolling back a failed ADD: links not removed; DEL or GC will retry", "container", cp.ContainerID, "err", err)
		return
	}
	if err := a.store.Remove(cp.Key()); err != nil {
		a.log.Error("rolling back a failed ADD: checkpoint not removed", "container", cp.ContainerID, "err", err)
		return
	}
	a.forget(cp.Key())
}

// bind claims the pod of req for this node and returns its ports and their networks: one call to
// the manager when the pod is allocated already (the monitor's usual head start), an allocation
// from the annotations first when nobody has yet. Binding before anything is built makes the claim
// atomic: a pod lives on one node, and ports bound elsewhere are in use there, so building them here
// would put their addresses and MAC on the segment twice. The bind stays when the build fails:
// the pod is scheduled here, and the runtime's retry binds again, changing nothing.
func (a *Agent) bind(ctx context.Context, req wire.Request) (Binding, PodInfo, error) {
	k, err := podKey(req.Args)
	if err != nil {
		return Binding{}, PodInfo{}, err
	}
	info, err := a.pods.Pod(ctx, k)
	if err != nil {
		return Binding{}, PodInfo{}, fmt.Errorf("reading pod %s: %w", k, err)
	}
	if err := model.ValidateUID("pod UID", info.Ref.UID); err != nil {
		return Binding{}, PodInfo{}, coded(wire.CodeInvalidEnv, fmt.Errorf("pod %s: %w", k, err))
	}
	b, err := a.mgr.BindPod(ctx, info.Ref.UID, a.node.Name)
	if podMissing(err) {
		// The allocation's own error, as the monitor gives it (and not read as a bind's conflict).
		if err := a.allocate(ctx, k, info); err != nil {
			return Binding{}, info, err
		}
		b, err = a.mgr.BindPod(ctx, info.Ref.UID, a.node.Name)
	}
	switch {
	case err == nil:
		return b, info, nil
	case model.CodeOf(err) == model.CodeConflict && !transient(err):
		// Bound to another node: name it (one more read, on this rare path only).
		node := "another node"
		if pod, perr := a.mgr.Pod(ctx, info.Ref.UID); perr == nil && pod.Node != "" {
			node = "node " + pod.Node
		}
		return Binding{}, info, model.Errorf(model.CodeConflict, "K8S_POD_UID",
			"pod %s/%s (UID %s) is bound to %s, not this node %s; a pod lives on one node: delete it there first",
			info.Ref.Namespace, info.Ref.Name, info.Ref.UID, node, a.node.Name)
	case isCoded(err):
		return Binding{}, info, err
	}
	return Binding{}, info, fmt.Errorf("binding pod %s's ports to node %s: %w", k, a.node.Name, err)
}

// podMissing reports whether err is the manager's "this pod has no ports" (and not a missing node).
func podMissing(err error) bool {
	var me *model.Error
	return errors.As(err, &me) && me.Code == model.CodeNotFound && me.Field != "node" && !transient(err)
}

// isCoded reports whether err already carries its CNI code (an allocation's failure).
func isCoded(err error) bool {
	var ce *codedError
	return errors.As(err, &ce)
}

// allocate allocates the pod's ports from its annotations, for a pod the monitor has not got to
// yet; it takes an allocation made meanwhile as it is (AllocatePod is idempotent by UID). Reading
// the monitor's allocation rather than making one keeps its resolution of NetworkAttachmentDefinitions.
func (a *Agent) allocate(ctx context.Context, k PodKey, info PodInfo) error {
	res, err := podnet.Resolve(info.Ref, info.Annotations, &lookup{a: a, ctx: ctx})
	if err != nil {
		if transient(err) {
			return err
		}
		return coded(wire.CodeInvalidPodRequest, err)
	}
	if len(res.Requests) == 0 {
		return coded(wire.CodeInvalidPodRequest, model.Invalid("annotations",
			"pod %s asks for no Knitter network (its NetworkAttachmentDefinitions are other plugins'); annotate the pod with a knitter network", k))
	}
	if _, err := a.mgr.AllocatePod(ctx, alloc.PodRequest{Pod: info.Ref, Tenant: res.Tenant, Owner: info.Owner, Requests: res.Requests}); err != nil {
		return fmt.Errorf("allocating pod %s's ports: %w", k, err)
	}
	return nil
}

// selectPorts picks the ports this call builds: all of them, or in delegate mode the one port of
// req.Network, built as req.IfName (netspec.DelegatePort says which).
func selectPorts(pod model.Pod, info PodInfo, req wire.Request) ([]model.Port, error) {
	if req.Network == "" {
		return pod.Ports, nil
	}
	tenant, name, err := checkNetwork(req.Network)
	if err != nil {
		return nil, err
	}
	named, err := netspec.Named(info.Annotations, pod.Namespace)
	if err != nil {
		return nil, coded(wire.CodeInvalidPodRequest, fmt.Errorf("pod %s/%s: %w", pod.Namespace, pod.Name, err))
	}
	p, err := netspec.DelegatePort(pod, named, req.IfName, tenant+"/"+name)
	if err != nil {
		return nil, err
	}
	return []model.Port{p}, nil
}

// networks returns every network the ports are on: from known (the bind's answer), or read from the
// manager when known lacks it.
func (a *Agent) networks(ctx context.Context, ports []model.Port, known map[string]model.Network) (map[string]model.Network, error) {
	out := make(map[string]model.Network, len(ports))
	for _, p := range ports {
		if _, ok := out[p.Network]; ok {
			continue
		}
		if n, ok := known[p.Network]; ok {
			out[p.Network] = n
			continue
		}
		tenant, name, ok := strings.Cut(p.Network, "/")
		if !ok {
			return nil, fmt.Errorf("port %s names network %q, which is not \"tenant/name\"", p.ID, p.Network)
		}
		n, err := a.mgr.Network(ctx, tenant, name)
		if err != nil {
			return nil, fmt.Errorf("reading network %s: %w", p.Network, err)
		}
		out[p.Network] = n
	}
	return out, nil
}

// lookup is podnet.Lookup for the agent's own allocation: namespaces and NADs from the pod source
// when it is a ClusterSource, the default network from the manager (the one read the fallback
// always made).
type lookup struct {
	a   *Agent
	ctx context.Context
}

func (l *lookup) Tenant(ns string) (string, error) {
	cs, ok := l.a.pods.(ClusterSource)
	if !ok {
		return ns, nil
	}
	ann, err := cs.NamespaceAnnotations(l.ctx, ns)
	if err != nil {
		return "", err
	}
	return podnet.NamespaceTenant(ns, ann), nil
}

func (l *lookup) DefaultNetwork(tenant string) (string, error) {
	t, err := l.a.mgr.Tenant(l.ctx, tenant)
	switch {
	case model.CodeOf(err) == model.CodeNotFound && !transient(err):
		return "", nil // the parser says how to fix a pod that then asks for nothing
	case err != nil:
		return "", err
	}
	return t.DefaultNetwork, nil
}

func (l *lookup) NADConfig(ns, name string) (string, bool, error) {
	cs, ok := l.a.pods.(ClusterSource)
	if !ok {
		return "", false, nil
	}
	return cs.NADConfig(l.ctx, ns, name)
}
