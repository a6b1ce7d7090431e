package vlanbpf

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
)

// linkPin is the pin path of the TCX ingress link of the device ifindex; kind is "port" or "trunk".
func linkPin(dir, kind string, ifindex int) string {
	return filepath.Join(dir, fmt.Sprintf("%s-%d", kind, ifindex))
}

// ensureLink attaches prog to the TCX ingress of ifindex and pins the link, unless a pinned link
// that is still attached there exists. Called in the node namespace.
func ensureLink(pin string, ifindex int, prog *ebpf.Program) error {
	if l, err := link.LoadPinnedLink(pin, nil); err == nil {
		info, ierr := l.Info()
		attached := ierr == nil && info.TCX() != nil && int(info.TCX().Ifindex) == ifindex
		if attached {
			return l.Close()
		}
		// A link of a device that is gone (its ifindex reused) or of an old layout.
		_ = l.Unpin()
		_ = l.Close()
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("loading pinned link %s: %w", pin, err)
	}
	l, err := link.AttachTCX(link.TCXOptions{Interface: ifindex, Program: prog, Attach: ebpf.AttachTCXIngress})
	if err != nil {
		return fmt.Errorf("attaching a TCX ingress program to ifindex %d (TCX needs Linux 6.6+): %w", ifindex, err)
	}
	defer l.Close()
	if err := l.Pin(pin); err != nil {
		return fmt.Errorf("pinning %s: %w", pin, err)
	}
	return nil
}

// removeLink unpins and detaches the pinned link; a missing pin is success.
func removeLink(pin string) error {
	l, err := link.LoadPinnedLink(pin, nil)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		// Not loadable as a link: remove the file so nothing is left.
		if rerr := os.Remove(pin); rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
			return errors.Join(err, rerr)
		}
		return nil
	}
	defer l.Close()
	if err := l.Unpin(); err != nil {
		return fmt.Errorf("unpinning %s: %w", pin, err)
	}
	// Closing the last reference of an unpinned link detaches it anyway; Detach makes it immediate
	// and fails only for a link whose device is already gone.
	_ = l.Detach()
	return nil
}

// attachedID returns the program ID of the pinned link at pin if it is attached to ifindex, 0 if
// there is no such link.
func attachedID(pin string, ifindex int) (ebpf.ProgramID, error) {
	l, err := link.LoadPinnedLink(pin, nil)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("loading pinned link %s: %w", pin, err)
	}
	defer l.Close()
	info, err := l.Info()
	if err != nil {
		return 0, fmt.Errorf("reading link %s: %w", pin, err)
	}
	if info.TCX() == nil || int(info.TCX().Ifindex) != ifindex {
		return 0, nil
	}
	return info.Program, nil
}

// ingressPrograms lists the program IDs on the TCX ingress of ifindex. Called in the node namespace.
func ingressPrograms(ifindex int) ([]ebpf.ProgramID, error) {
	res, err := link.QueryPrograms(link.QueryOptions{Target: ifindex, Attach: ebpf.AttachTCXIngress})
	if err != nil {
		return nil, fmt.Errorf("querying the TCX ingress programs of ifindex %d: %w", ifindex, err)
	}
	ids := make([]ebpf.ProgramID, len(res.Programs))
	for i, p := range res.Programs {
		ids[i] = p.ID
	}
	return ids, nil
}
