package agent

import (
	"context"
	"errors"
	"fmt"

	"github.com/knitter-cni/knitter/agent/wire"
	"github.com/knitter-cni/knitter/core/model"
)

// Del tears the attachment down from its checkpoint alone: neither the manager nor the API server
// is asked, and a netns that is gone is fine. An attachment without a checkpoint (never added, or
// deleted already) is success, and so is one whose teardown is pending. The ports stay allocated:
// knitter-monitor releases them when the pod object is gone. With Options.DeferTeardown it may
// answer before the links are removed, once they are out of reach (teardown.go).
func (a *Agent) Del(ctx context.Context, req wire.Request) error {
	key := wire.Attachment{ContainerID: req.ContainerID, IfName: req.IfName}
	if err := checkAttachment(key); err != nil {
		return err
	}
	if !fits(key) {
		return nil // never added: ADD refuses a name the node cannot record
	}
	unlock := a.locks.lock(req.ContainerID)
	defer unlock()
	cp, ok, err := a.store.Load(key)
	if err != nil {
		return coded(wire.CodeIOFailure, err)
	}
	if ok && cp.Teardown {
		return nil // deleted already; RunTeardowns removes the links
	}
	if ok {
		if deferred, err := a.deferDetach(ctx, cp); err != nil || deferred {
			return err
		}
	}
	return a.detach(ctx, key)
}

// detach removes the links of key's checkpoint, then the checkpoint. The caller holds the lock.
func (a *Agent) detach(ctx context.Context, key wire.Attachment) error {
	cp, ok, err := a.store.Load(key)
	if err != nil {
		return coded(wire.CodeIOFailure, err)
	}
	if !ok {
		a.forget(key)
		return nil
	}
	if cp.Teardown {
		return a.finish(ctx, key)
	}
	if err := a.dp.Detach(ctx, cp.Plan); err != nil {
		return coded(wire.CodeDataplane, fmt.Errorf("removing the links of container %s: %w", key.ContainerID, err))
	}
	if err := a.store.Remove(key); err != nil {
		return coded(wire.CodeIOFailure, err)
	}
	a.forget(key)
	return nil
}

// Check verifies the attachment's links against its checkpoint.
func (a *Agent) Check(ctx context.Context, req wire.Request) error {
	key := wire.Attachment{ContainerID: req.ContainerID, IfName: req.IfName}
	if err := checkAttachment(key); err != nil {
		return err
	}
	unlock := a.locks.lock(req.ContainerID)
	defer unlock()
	cp, ok := Checkpoint{}, false
	if fits(key) {
		var err error
		if cp, ok, err = a.store.Load(key); err != nil {
			return coded(wire.CodeIOFailure, err)
		}
	}
	if !ok || !cp.Ready || cp.Teardown {
		return coded(wire.CodeUnknownContainer, model.Errorf(model.CodeNotFound, "CNI_CONTAINERID",
			"container %s has no attachment on %s on this node; ADD it first", key.ContainerID, key.IfName))
	}
	if req.Netns != "" && req.Netns != cp.Plan.Netns {
		return coded(wire.CodeInvalidEnv, model.Invalid("CNI_NETNS", "is %s, but container %s is attached in %s", clipPath(req.Netns), key.ContainerID, cp.Plan.Netns))
	}
	if err := a.dp.Check(ctx, cp.Plan); err != nil {
		return coded(wire.CodeDataplane, fmt.Errorf("container %s: %w", key.ContainerID, err))
	}
	return nil
}

// GC removes the attachments made under the network configuration req.Name (and its delegate-mode
// network req.Network) that the runtime no longer lists as valid; attachments of every other
// configuration are not its to judge, even with an empty list. It goes on past failures and
// returns them all.
func (a *Agent) GC(ctx context.Context, req wire.Request) error {
	if req.Name == "" {
		return coded(wire.CodeInvalidConfig, model.Invalid("name", "GC needs the network configuration's name; it only collects that configuration's attachments"))
	}
	valid := make(map[wire.Attachment]bool, len(req.ValidAttachments))
	for _, v := range req.ValidAttachments {
		valid[v] = true
	}
	var errs []error
	for _, cp := range a.Checkpoints() {
		if cp.Config != req.Name || cp.Network != req.Network || valid[cp.Key()] {
			continue
		}
		if err := a.collect(ctx, cp.Key()); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (a *Agent) collect(ctx context.Context, key wire.Attachment) error {
	unlock := a.locks.lock(key.ContainerID)
	defer unlock()
	if err := a.detach(ctx, key); err != nil {
		return err
	}
	a.log.Info("garbage-collected an attachment the runtime no longer lists", "container", key.ContainerID, "ifname", key.IfName)
	return nil
}
