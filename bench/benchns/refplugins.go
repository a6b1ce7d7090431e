package benchns

import (
	"os"
	"path/filepath"
)

// RefPlugins are the reference plugin binaries the baselines execute.
var RefPlugins = []string{"bridge", "host-local", "macvlan"}

// RefBinDir is where hack/refplugins.sh puts the reference plugins, unless KNITTER_CNI_BIN_DIR (the
// variable hack/containerd uses for the same directory) says otherwise. It is meant for tests of the
// packages one level under bench/: go test runs them in their own directory, two below the root.
func RefBinDir() string {
	if dir := os.Getenv("KNITTER_CNI_BIN_DIR"); dir != "" {
		return dir
	}
	dir, err := filepath.Abs(filepath.Join("..", "..", ".cache", "cni-bin"))
	if err != nil {
		panic(err)
	}
	return dir
}

// MissingRefPlugins lists the reference plugins that dir lacks or cannot execute.
func MissingRefPlugins(dir string) []string {
	var missing []string
	for _, name := range RefPlugins {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0 {
			missing = append(missing, name)
		}
	}
	return missing
}
