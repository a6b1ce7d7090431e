package local

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// netnsPath is the path of a named namespace.
func netnsPath(name string) string { return filepath.Join(netnsDir, name) }

// createNetns makes a named network namespace (as `ip netns add` does) with its loopback up.
//
// Creating a namespace switches the calling thread into it, so the work happens on a goroutine
// locked to its own thread. If the thread cannot be switched back it is left locked, and Go ends it
// with the goroutine instead of running other code in the wrong namespace.
func createNetns(name string) error {
	if _, err := os.Stat(netnsPath(name)); err == nil {
		return fmt.Errorf("network namespace %s exists already; remove it with 'ip netns del %s'", name, name)
	}
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			runtime.UnlockOSThread()
			done <- fmt.Errorf("reading this thread's namespace: %w", err)
			return
		}
		defer orig.Close()
		created, err := netns.NewNamed(name)
		if restore := netns.Set(orig); restore != nil {
			done <- errors.Join(err, fmt.Errorf("returning to the original namespace: %w", restore))
			return // the thread stays locked and dies with this goroutine
		}
		runtime.UnlockOSThread()
		if err != nil {
			done <- fmt.Errorf("creating network namespace %s: %w", name, err)
			return
		}
		_ = created.Close()
		done <- nil
	}()
	if err := <-done; err != nil {
		return err
	}
	return withHandle(name, func(h *netlink.Handle) error {
		lo, err := h.LinkByName("lo")
		if err != nil {
			return fmt.Errorf("loopback of %s: %w", name, err)
		}
		return h.LinkSetUp(lo)
	})
}

// deleteNetns removes a named namespace; one that is gone already is no error.
func deleteNetns(name string) error {
	p := netnsPath(name)
	if _, err := os.Stat(p); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err := unix.Unmount(p, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("unmounting network namespace %s: %w", name, err)
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("removing network namespace %s: %w", name, err)
	}
	return nil
}

// netnsExists reports whether the named namespace is there.
func netnsExists(name string) bool {
	_, err := os.Stat(netnsPath(name))
	return err == nil
}

// listNetns returns the named namespaces whose names start with prefix.
func listNetns(prefix string) ([]string, error) {
	entries, err := os.ReadDir(netnsDir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("listing %s: %w", netnsDir, err)
	}
	var out []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), prefix) {
			out = append(out, e.Name())
		}
	}
	return out, nil
}

// withHandle runs fn with a netlink handle whose sockets live in the named namespace; no thread
// switches namespace.
func withHandle(name string, fn func(*netlink.Handle) error) error {
	return withHandleAt(netnsPath(name), fn)
}

// withHandleAt is withHandle for the namespace at path.
func withHandleAt(path string, fn func(*netlink.Handle) error) error {
	ns, err := netns.GetFromPath(path)
	if err != nil {
		return fmt.Errorf("opening network namespace %s: %w", path, err)
	}
	defer ns.Close()
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		return fmt.Errorf("netlink in %s: %w", path, err)
	}
	defer h.Close()
	return fn(h)
}
