package local

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/containernetworking/cni/libcni"
)

// agentReadyTimeout bounds the wait for an agent to answer STATUS (it has registered its node).
const agentReadyTimeout = 60 * time.Second

// peerPoll is how often agents poll the node list for VXLAN peers: short, so that a node that joins
// is reachable over the overlays soon after.
const peerPoll = time.Second

// reclaimEvery is how often agents reclaim attachments whose pod or sandbox is gone without a DEL:
// short, so that the specs of the reclaim see it soon.
const reclaimEvery = time.Second

// CNIVersion is the version of the network configurations the local runtime uses.
const CNIVersion = "1.1.0"

// newNodeState lays out node i's files under dir.
func newNodeState(dir string, n names, i int) nodeState {
	d := filepath.Join(dir, fmt.Sprintf("node%d", i))
	return nodeState{
		Name:       fmt.Sprintf("node%d", i),
		Netns:      n.node(i),
		VTEP:       vtepOf(i).String(),
		VTEPDevice: UnderlayNIC,
		Dir:        d,
		Socket:     filepath.Join(d, "run", "agent.sock"),
		StateDir:   filepath.Join(d, "checkpoints"),
		PodDir:     filepath.Join(d, "pods"),
		ConfList:   filepath.Join(d, "knitter.conflist"),
	}
}

// confList is the network configuration list a runtime on the node would have in /etc/cni/net.d.
func confList(n *nodeState) ([]byte, error) {
	return json.MarshalIndent(map[string]any{
		"cniVersion": CNIVersion,
		"name":       "knitter",
		"plugins": []map[string]any{{
			"type":        pluginType,
			"agentSocket": n.Socket,
			"timeout":     "30s",
			"logFile":     filepath.Join(n.Dir, "plugin.log"),
		}},
	}, "", "  ")
}

// startAgent starts node n's knitter-agent in the root namespace with the node's namespace (if any)
// as its host namespace, and waits until it answers STATUS.
func startAgent(ctx context.Context, n *nodeState, bin string, m *managerState, cniBin, cache string, detached bool) error {
	for _, d := range []string{n.Dir, n.StateDir, n.PodDir} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return err
		}
	}
	conf, err := confList(n)
	if err != nil {
		return err
	}
	if err := os.WriteFile(n.ConfList, conf, 0o600); err != nil {
		return err
	}
	args := []string{bin,
		"--node-name", n.Name,
		"--vtep", n.VTEP,
		"--vtep-device", n.VTEPDevice,
		"--manager-url", m.URL,
		"--manager-token-file", m.AgentFile,
		"--manager-ca", m.CAFile,
		"--socket", n.Socket,
		"--state-dir", n.StateDir,
		"--pod-dir", n.PodDir,
		"--peer-poll", peerPoll.String(),
		"--reclaim-interval", reclaimEvery.String(),
		"--heartbeat", "10s",
	}
	if n.Netns != "" {
		args = append(args, "--host-netns", netnsPath(n.Netns))
	}
	p, err := startProc(args, filepath.Join(n.Dir, "agent.log"), detached)
	if err != nil {
		return err
	}
	n.Agent = p
	return waitAgent(ctx, n, cniBin, cache)
}

// waitAgent runs CNI STATUS through libcni until it succeeds.
func waitAgent(ctx context.Context, n *nodeState, cniBin, cache string) error {
	list, err := libcni.ConfListFromFile(n.ConfList)
	if err != nil {
		return err
	}
	cni := libcni.NewCNIConfigWithCacheDir([]string{cniBin}, cache, nil)
	ctx, cancel := context.WithTimeout(ctx, agentReadyTimeout)
	defer cancel()
	for {
		if !n.Agent.alive() {
			return fmt.Errorf("knitter-agent of %s exited while starting (%s); the end of %s:\n%s", n.Name, n.Agent.exitStatus(), n.Agent.Log, n.Agent.logTail(20))
		}
		err := cni.GetStatusNetworkList(ctx, list)
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("knitter-agent of %s did not answer STATUS within %s: %w; the end of %s:\n%s",
				n.Name, agentReadyTimeout, err, n.Agent.Log, n.Agent.logTail(20))
		case <-time.After(100 * time.Millisecond):
		}
	}
}
