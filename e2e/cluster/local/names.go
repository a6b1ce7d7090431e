package local

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
)

// NetnsPrefix starts the name of every network namespace a local cluster makes; the run ID follows,
// so that clusters running side by side never touch each other's namespaces.
const NetnsPrefix = "kn-"

// netnsDir is where named network namespaces are bind-mounted, as `ip netns` does.
const netnsDir = "/run/netns"

// newRunID returns 6 random hex digits: short enough for link names, enough to tell runs apart.
func newRunID() (string, error) {
	return randomHex(3)
}

func randomHex(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("reading random bytes: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// newUID returns a random RFC 4122 version 4 UUID, the form Kubernetes gives pod UIDs.
func newUID() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("reading random bytes: %w", err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:], nil
}

// names derives every name of one run from its ID.
type names struct{ runID string }

// prefix starts every namespace of the run.
func (n names) prefix() string { return NetnsPrefix + n.runID + "-" }

// hub is the namespace holding the underlay's bridges.
func (n names) hub() string { return n.prefix() + "hub" }

// node is the namespace that is node i (1-based).
func (n names) node(i int) string { return fmt.Sprintf("%snode%d", n.prefix(), i) }

// pod is the sandbox namespace of the seq-th pod.
func (n names) pod(seq int) string { return fmt.Sprintf("%spod%d", n.prefix(), seq) }

// containerID is the sandbox ID of the seq-th pod: it carries the run ID, so the node-side veth
// names derived from it differ between runs.
func (n names) containerID(seq int, random string) string {
	return fmt.Sprintf("%s%04d%s", n.runID, seq, random)
}

// owns reports whether a namespace name belongs to the run.
func (n names) owns(netns string) bool { return strings.HasPrefix(netns, n.prefix()) }
