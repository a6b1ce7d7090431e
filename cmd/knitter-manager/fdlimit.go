package main

import (
	"fmt"
	"math"
	"syscall"
)

// fdReserve is the file descriptors kept for everything but API connections: the embedded etcd
// (its WAL, snapshots and client socket), the data files, the proxy's connections to the leader.
const fdReserve = 256

// fitConnections returns the most API connections the process's file descriptor limit allows
// beside fdReserve, at most want: with more connections than descriptors, accepting one more
// could make the store fail ("too many open files") instead of refusing a client. Too low a limit
// for any API at all is an error naming the fix.
func fitConnections(want int) (int, uint64, error) {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil || rl.Cur > math.MaxInt32 {
		return want, rl.Cur, nil
	}
	avail := int(rl.Cur) - fdReserve
	switch {
	case avail >= want:
		return want, rl.Cur, nil
	case avail < 64:
		return 0, rl.Cur, fmt.Errorf("the file descriptor limit is %d: knitter-manager keeps %d for its store and needs at least 64 more for API connections; raise it (ulimit -n, systemd LimitNOFILE=)", rl.Cur, fdReserve)
	}
	return avail, rl.Cur, nil
}
