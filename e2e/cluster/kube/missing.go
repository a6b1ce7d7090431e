package kube

// What the driver cannot do, and why: the e2e specs skip with these words (cluster.Missing).

const (
	// noLostDEL: the kubelet sends CNI DEL for every sandbox it removes, so nothing this driver can
	// do to a pod loses its DEL the way a meta-plugin dropping it does.
	noLostDEL = "the kube driver cannot lose a DEL: the kubelet removes every sandbox through containerd's " +
		"StopPodSandbox, which makes CNI DEL whether the pod was force-deleted, its sandbox's processes killed " +
		"or its network namespace unpinned (containerd then passes an empty CNI_NETNS), and retries a failed DEL; " +
		"a lost DEL takes a meta-plugin that drops it, and this cluster has none"
	noAgentStop = "the kube driver cannot keep a node's agent down: the agent DaemonSet tolerates every taint, " +
		"its controller recreates a deleted agent pod and the kubelet restarts a killed agent container at once " +
		"(the churn spec kills it with -9 instead)"
	noAddNode = "the kube driver adds a node only on hack/kube-up.sh's cluster (kube-up.sh --add-node), as root " +
		"with KNITTER_KUBE_DIR set (make test-e2e-kube sets it)"
	noNodeDir = "the kube driver reaches into nodes only on hack/kube-up.sh's cluster, as root with " +
		"KNITTER_KUBE_DIR set (make test-e2e-kube sets it)"
)

// Missing says why the driver lacks an ability the e2e specs look for ("" when it has it).
func (c *Cluster) Missing(ability string) string {
	switch ability {
	case "faults":
		return noLostDEL
	case "agent-stop":
		return noAgentStop
	case "add-node":
		return noAddNode
	}
	return noNodeDir
}

// Missing says why the driver lacks an ability the e2e specs look for ("" when it has it).
func (c *NodeCluster) Missing(ability string) string {
	switch ability {
	case "faults", "agent-stop":
		return c.Cluster.Missing(ability)
	case "add-node":
		if c.cfg.KubeUp == "" {
			return noAddNode
		}
	}
	return ""
}
