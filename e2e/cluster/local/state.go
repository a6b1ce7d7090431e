package local

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// stateVersion is the format of state.json; a file of another version is refused, not misread.
const stateVersion = 1

// stateFile is the name of the state file in a cluster's directory.
const stateFile = "state.json"

// clusterState is everything needed to find and remove a local cluster from another process:
// `localcluster down` reads it, and removes with it what a crashed e2e run left.
type clusterState struct {
	Version int    `json:"version"`
	RunID   string `json:"run_id"`
	Dir     string `json:"dir"`
	// Detached clusters' processes outlive the process that started them.
	Detached bool `json:"detached,omitempty"`
	// Bootstrap is the manager's bootstrap file, given again on every start.
	Bootstrap string `json:"bootstrap"`
	// Bin holds the run's own copies of the binaries; CNIBin is the plugin directory libcni searches.
	Bin    string `json:"bin"`
	CNIBin string `json:"cni_bin"`
	// CNICache is libcni's result cache, as a runtime keeps one.
	CNICache string       `json:"cni_cache"`
	Manager  managerState `json:"manager"`
	// Hub is the namespace holding the underlay bridges.
	Hub   string      `json:"hub"`
	Nodes []nodeState `json:"nodes"`
	// Extra are agents besides the nodes' (RootAgent), stopped by Down like the others.
	Extra []nodeState `json:"extra,omitempty"`
	Pods  []podState  `json:"pods"`
	// NextPod numbers the pods' sandboxes.
	NextPod int `json:"next_pod"`
}

// managerState is the knitter-manager process and how to reach it.
type managerState struct {
	Proc      process `json:"proc"`
	URL       string  `json:"url"`
	DataDir   string  `json:"data_dir"`
	CAFile    string  `json:"ca_file"`
	AdminFile string  `json:"admin_token_file"`
	AgentFile string  `json:"agent_token_file"`
}

// nodeState is one node: its namespace, addresses and agent.
type nodeState struct {
	Name string `json:"name"`
	// Netns is the node's namespace; empty means the root namespace (an extra agent).
	Netns      string  `json:"netns,omitempty"`
	VTEP       string  `json:"vtep"`
	VTEPDevice string  `json:"vtep_device"`
	Dir        string  `json:"dir"`
	Socket     string  `json:"socket"`
	StateDir   string  `json:"state_dir"`
	PodDir     string  `json:"pod_dir"`
	ConfList   string  `json:"conflist"`
	Agent      process `json:"agent"`
}

// podState is one pod sandbox.
type podState struct {
	Namespace   string `json:"namespace"`
	Name        string `json:"name"`
	UID         string `json:"uid"`
	Node        string `json:"node"`
	ContainerID string `json:"container_id"`
	Netns       string `json:"netns"`
	Manifest    string `json:"manifest"`
	// Interfaces are the names ADD gave the pod, for the leftover check of their node-side ends.
	Interfaces []string `json:"interfaces,omitempty"`
}

// save writes the state atomically, so that a crash leaves the old or the new file.
func (s *clusterState) save() error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(s.Dir, "."+stateFile+".tmp")
	if err := os.WriteFile(tmp, append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("writing cluster state: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(s.Dir, stateFile)); err != nil {
		return fmt.Errorf("writing cluster state: %w", err)
	}
	return nil
}

// ErrNoCluster means a directory holds no local cluster's state.
var ErrNoCluster = errors.New("no local cluster")

// loadState reads dir's state file.
func loadState(dir string) (*clusterState, error) {
	b, err := os.ReadFile(filepath.Join(dir, stateFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w in %s (no %s)", ErrNoCluster, dir, stateFile)
	}
	if err != nil {
		return nil, fmt.Errorf("reading cluster state: %w", err)
	}
	var s clusterState
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("%s/%s is not a cluster state file: %w", dir, stateFile, err)
	}
	if s.Version != stateVersion {
		return nil, fmt.Errorf("%s/%s has format version %d, this program reads %d; remove the cluster with the program that made it",
			dir, stateFile, s.Version, stateVersion)
	}
	if s.RunID == "" || s.Dir != dir {
		return nil, fmt.Errorf("%s/%s names run %q in %q; it was copied from elsewhere, so it is not trusted", dir, stateFile, s.RunID, s.Dir)
	}
	return &s, nil
}

// node returns the state of the named node.
func (s *clusterState) node(name string) (*nodeState, bool) {
	for i := range s.Nodes {
		if s.Nodes[i].Name == name {
			return &s.Nodes[i], true
		}
	}
	return nil, false
}

// pod returns the index of the pod with the given sandbox ID, or -1.
func (s *clusterState) pod(containerID string) int {
	for i := range s.Pods {
		if s.Pods[i].ContainerID == containerID {
			return i
		}
	}
	return -1
}
