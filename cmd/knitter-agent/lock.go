package main

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// lockStateDir takes an exclusive lock on the agent's state directory for the life of the process:
// one node, one agent. A second agent on the same node (started by hand, or a DaemonSet rollout that
// surges) would otherwise reconcile and reclaim the same checkpoints and links as the first before
// it found the socket taken. The lock is a flock(2) on <dir>/agent.lock, held by the open file, so
// it goes with the process however the process ends; the file records the holder's pid for the
// error the next one prints.
func lockStateDir(dir string) (release func(), err error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("state directory: %w", err)
	}
	path := dir + "/agent.lock"
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("state directory lock: %w", err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		holder, _ := os.ReadFile(path)
		_ = f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			who := "another knitter-agent"
			if pid := strings.TrimSpace(string(holder)); pid != "" {
				who += " (pid " + pid + ")"
			}
			return nil, fmt.Errorf("%s holds the state directory %s (%s): only one knitter-agent may run per node; stop it first, or give this one its own --state-dir and --socket", who, dir, path)
		}
		return nil, fmt.Errorf("locking %s: %w", path, err)
	}
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return func() { _ = f.Close() }, nil
}
