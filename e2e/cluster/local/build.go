package local

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
)

// module is the path in go.mod that marks the repository's root.
const module = "github.com/knitter-cni/knitter"

// The binaries a local cluster runs, as `make build` names them in _output/.
const (
	managerBin = "knitter-manager"
	agentBin   = "knitter-agent"
	pluginBin  = "knitter-plugin"
	// pluginType is the name the network configuration's "type" gives the plugin.
	pluginType = "knitter"
)

// RepoRoot finds the repository's root: the nearest directory at or above dir whose go.mod declares
// Knitter's module.
func RepoRoot(dir string) (string, error) {
	d, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for {
		b, err := os.ReadFile(filepath.Join(d, "go.mod"))
		if err == nil && bytes.HasPrefix(bytes.TrimSpace(b), []byte("module "+module+"\n")) {
			return d, nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", fmt.Errorf("no go.mod of %s at or above %s; run from inside the Knitter repository or set the repository root", module, dir)
		}
		d = parent
	}
}

var (
	buildOnce sync.Once
	buildErr  error
)

// build runs `make build` once per process; the binaries land in <root>/_output.
func build(root string, progress io.Writer) error {
	buildOnce.Do(func() {
		fmt.Fprintf(progress, "building the binaries (make build in %s)\n", root)
		cmd := exec.Command("make", "-C", root, "build")
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			buildErr = fmt.Errorf("make build: %w\n%s", err, out.String())
		}
	})
	return buildErr
}

// installBinaries gives the run its own copies of the binaries, so that a later `make build` cannot
// change them under a running cluster, and puts the plugin where libcni finds it by its type.
func installBinaries(root, bin, cniBin string) error {
	for _, d := range []string{bin, cniBin} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	for _, name := range []string{managerBin, agentBin, pluginBin} {
		if err := copyFile(filepath.Join(root, "_output", name), filepath.Join(bin, name)); err != nil {
			return err
		}
	}
	return copyFile(filepath.Join(bin, pluginBin), filepath.Join(cniBin, pluginType))
}

// copyFile hard-links src to dst, or copies it where links cannot be made (another file system).
// `make build` replaces its outputs by rename, so a link keeps the content of the time of the copy.
func copyFile(src, dst string) error {
	if err := os.Link(src, dst); err == nil {
		return nil
	}
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("installing %s: %w", filepath.Base(src), err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o755)
	if err != nil {
		return fmt.Errorf("installing %s: %w", filepath.Base(src), err)
	}
	_, err = io.Copy(out, in)
	return errors.Join(err, out.Close())
}
