package vlanbpf

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

const bpffsMount = "/sys/fs/bpf"

// ensureBPFFS checks that dir is (or will be made) on a bpffs. Under /sys/fs/bpf it mounts one there
// if none is; elsewhere the operator (or test) mounts it.
func ensureBPFFS(dir string) error {
	ok, err := onBPFFS(dir)
	if err != nil || ok {
		return err
	}
	if dir != bpffsMount && !strings.HasPrefix(dir, bpffsMount+"/") {
		return fmt.Errorf("pin directory %s is not on a bpffs; mount one there (mount -t bpf bpf %s) or use %s", dir, dir, DefaultPinDir)
	}
	if err := os.MkdirAll(bpffsMount, 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", bpffsMount, err)
	}
	if err := unix.Mount("bpf", bpffsMount, "bpf", 0, "mode=0700"); err != nil {
		return fmt.Errorf("mounting bpffs at %s (the agent needs CAP_SYS_ADMIN, or mount it on the host: mount -t bpf bpf %s): %w", bpffsMount, bpffsMount, err)
	}
	return nil
}

// onBPFFS reports whether dir, or its nearest existing parent, is on a bpffs.
func onBPFFS(dir string) (bool, error) {
	for p := filepath.Clean(dir); ; p = filepath.Dir(p) {
		var st unix.Statfs_t
		err := unix.Statfs(p, &st)
		if err == nil {
			return st.Type == unix.BPF_FS_MAGIC, nil
		}
		if !errors.Is(err, unix.ENOENT) || p == "/" {
			return false, fmt.Errorf("statfs %s: %w", p, err)
		}
	}
}
