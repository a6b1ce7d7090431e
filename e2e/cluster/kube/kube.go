// Package kube is the e2e Cluster driver for a real Kubernetes cluster with Knitter installed from
// deploy/ (any $KUBECONFIG; hack/kube-up.sh makes one on this machine). Pods are real pods created
// through the API with the suite's annotations, running the test image (e2e/testimage); their
// interfaces are read by exec in the pod, and knitter-manager is stopped by scaling its StatefulSet.
//
// On the local cluster of hack/kube-up.sh the driver also reaches into the nodes (NodeDir): it then
// implements cluster.Runtime (CNI calls for a pod's sandbox with the node's own plugin and
// configuration, as containerd makes them), cluster.RawRuntime (any CNI call, run in the node's
// mount and network namespaces), cluster.Inspector (checkpoints, node links, a sandbox's
// interfaces), cluster.Echoer (one echo from the sandbox's network namespace), kill -9 of a
// component's container, adds a node (hack/kube-up.sh --add-node, cluster.NodeAdder), and lists what
// it leaves behind. It cannot lose a DEL or keep an agent down; Missing says why, in the words the
// specs skip with.
package kube

import (
	"context"
	"fmt"
	"io"
	"net/netip"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/knitter-cni/knitter/adapters/httpapi"
	"github.com/knitter-cni/knitter/e2e/cluster"
)

// Config says which cluster and which Knitter to drive.
type Config struct {
	// Kubeconfig is the cluster admin's kubeconfig. Default $KUBECONFIG.
	Kubeconfig string
	// Namespace is Knitter's namespace. Default knitter-system.
	Namespace string
	// ManagerURL, ManagerCA and AdminTokenFile reach knitter-manager as its admin. Defaults
	// $KNITTER_SERVER, $KNITTER_CA_FILE and $KNITTER_TOKEN_FILE (hack/kube-up.sh's env file).
	ManagerURL, ManagerCA, AdminTokenFile string
	// Bootstrap is a file of tenants, networks and IP groups to create through the manager's API
	// when missing (the format of knitter-manager --bootstrap).
	Bootstrap string
	// Image is the test pod image. Default localhost/knitter-testpod:dev.
	Image string
	// NodeDir, if set, is where hack/kube-up.sh keeps the nodes ($KNITTER_KUBE_DIR/nodes): the
	// driver then implements cluster.Runtime and cluster.Inspector.
	NodeDir string
	// KubeUp, with NodeDir, is hack/kube-up.sh: the driver then implements cluster.NodeAdder
	// (kube-up.sh --add-node).
	KubeUp   string
	Progress io.Writer
}

// Cluster drives a Kubernetes cluster through its API.
type Cluster struct {
	cfg   Config
	rest  *rest.Config
	cs    kubernetes.Interface
	mgr   *httpapi.Client
	nodes []cluster.Node

	mu sync.Mutex
	// madeNS are the namespaces this driver created, deleted by Down.
	madeNS []string
	pods   map[string]*cluster.Pod
}

var _ cluster.Cluster = (*Cluster)(nil)

// Up connects to the cluster, checks that Knitter serves every node, and applies the bootstrap.
// With cfg.NodeDir it returns a *NodeCluster.
func Up(ctx context.Context, cfg Config) (cluster.Cluster, error) {
	c, err := connect(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if cfg.NodeDir != "" {
		return newNodeCluster(c)
	}
	return c, nil
}

func connect(ctx context.Context, cfg Config) (*Cluster, error) {
	def := func(v *string, env, fallback string) {
		if *v == "" {
			*v = os.Getenv(env)
		}
		if *v == "" {
			*v = fallback
		}
	}
	def(&cfg.Kubeconfig, "KUBECONFIG", "")
	def(&cfg.ManagerURL, "KNITTER_SERVER", "")
	def(&cfg.ManagerCA, "KNITTER_CA_FILE", "")
	def(&cfg.AdminTokenFile, "KNITTER_TOKEN_FILE", "")
	def(&cfg.Namespace, "", "knitter-system")
	def(&cfg.Image, "", "localhost/knitter-testpod:dev")
	if cfg.Kubeconfig == "" {
		return nil, fmt.Errorf("kube driver: no kubeconfig; set KUBECONFIG (hack/kube-up.sh writes /var/lib/knitter-kube/env)")
	}
	if cfg.ManagerURL == "" || cfg.AdminTokenFile == "" {
		return nil, fmt.Errorf("kube driver: set KNITTER_SERVER, KNITTER_CA_FILE and KNITTER_TOKEN_FILE to reach knitter-manager as admin")
	}
	if cfg.Progress == nil {
		cfg.Progress = io.Discard
	}
	rc, err := clientcmd.BuildConfigFromFlags("", cfg.Kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("kubeconfig %s: %w", cfg.Kubeconfig, err)
	}
	rc.QPS, rc.Burst = 100, 200
	cs, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return nil, err
	}
	tok, err := os.ReadFile(cfg.AdminTokenFile)
	if err != nil {
		return nil, fmt.Errorf("admin token: %w", err)
	}
	mgr, err := httpapi.NewClient(httpapi.ClientConfig{URL: cfg.ManagerURL, CAFile: cfg.ManagerCA, Token: strings.TrimSpace(string(tok)), Timeout: 15 * time.Second})
	if err != nil {
		return nil, err
	}
	c := &Cluster{cfg: cfg, rest: rc, cs: cs, mgr: mgr, pods: map[string]*cluster.Pod{}}
	if err := c.waitKnitter(ctx); err != nil {
		return nil, err
	}
	if cfg.Bootstrap != "" {
		if err := ApplyBootstrap(ctx, mgr, cfg.Bootstrap); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// waitKnitter waits until every node is Ready with a running agent, and reads the nodes.
func (c *Cluster) waitKnitter(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	for {
		nodes, err := c.cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		if err == nil {
			ready, why := c.readNodes(ctx, nodes.Items)
			if ready {
				return nil
			}
			err = fmt.Errorf("%s", why)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("kube driver: the cluster is not ready: %w", err)
		case <-time.After(time.Second):
		}
	}
}

func (c *Cluster) readNodes(ctx context.Context, items []corev1.Node) (bool, string) {
	if len(items) == 0 {
		return false, "no nodes"
	}
	var out []cluster.Node
	for _, n := range items {
		if !nodeReady(n) {
			return false, "node " + n.Name + " is not Ready"
		}
		var vtep netip.Addr
		for _, a := range n.Status.Addresses {
			if a.Type == corev1.NodeInternalIP {
				vtep, _ = netip.ParseAddr(a.Address)
			}
		}
		out = append(out, cluster.Node{Name: n.Name, VTEP: vtep})
	}
	agents, err := c.cs.CoreV1().Pods(c.cfg.Namespace).List(ctx, metav1.ListOptions{LabelSelector: "app.kubernetes.io/name=knitter-agent"})
	if err != nil {
		return false, err.Error()
	}
	running := 0
	for _, p := range agents.Items {
		if p.Status.Phase == corev1.PodRunning && p.DeletionTimestamp == nil {
			running++
		}
	}
	if running < len(items) {
		return false, fmt.Sprintf("%d of %d knitter-agent pods running", running, len(items))
	}
	slices.SortFunc(out, func(a, b cluster.Node) int { return strings.Compare(a.Name, b.Name) })
	c.nodes = out
	return true, ""
}

func nodeReady(n corev1.Node) bool {
	for _, cond := range n.Status.Conditions {
		if cond.Type == corev1.NodeReady {
			return cond.Status == corev1.ConditionTrue
		}
	}
	return false
}

// Nodes implements cluster.Cluster.
func (c *Cluster) Nodes() []cluster.Node {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.nodes)
}

// ManagerClient implements cluster.Cluster.
func (c *Cluster) ManagerClient() *httpapi.Client { return c.mgr }

// Clientset is the driver's Kubernetes client, for the Kubernetes-only specs.
func (c *Cluster) Clientset() kubernetes.Interface { return c.cs }

// KnitterNamespace is where Knitter's components run.
func (c *Cluster) KnitterNamespace() string { return c.cfg.Namespace }

// Down deletes every pod the driver created and the namespaces it made; Knitter and the cluster stay.
func (c *Cluster) Down(ctx context.Context) error {
	c.mu.Lock()
	pods := make([]*cluster.Pod, 0, len(c.pods))
	for _, p := range c.pods {
		pods = append(pods, p)
	}
	made := slices.Clone(c.madeNS)
	c.madeNS = nil
	c.mu.Unlock()
	for _, p := range pods {
		if err := c.DeletePod(ctx, p); err != nil {
			return err
		}
	}
	for _, ns := range made {
		err := c.cs.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("deleting namespace %s: %w", ns, err)
		}
	}
	// Gone, not just terminating: a namespace being terminated refuses new pods, and the next user
	// of the name (another handle on the same cluster, as the teardown spec's) would meet that.
	for _, ns := range made {
		if err := c.waitNamespaceGone(ctx, ns); err != nil {
			return err
		}
	}
	return nil
}

// namespaceGoneTimeout bounds the wait for a deleted namespace's objects to be removed.
const namespaceGoneTimeout = 3 * time.Minute

// waitNamespaceGone waits until the namespace ns no longer exists.
func (c *Cluster) waitNamespaceGone(ctx context.Context, ns string) error {
	return c.waitFor(ctx, namespaceGoneTimeout, "namespace "+ns+" to be deleted", func() (bool, error) {
		_, err := c.cs.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
		return apierrors.IsNotFound(err), err
	})
}

// EnsureNamespace creates ns if it is missing, remembering that Down should delete it. Specs that
// create objects through the clientset call it first.
//
// A namespace being terminated refuses new pods ("unable to create new content in namespace"):
// EnsureNamespace waits until it is gone and creates it again.
func (c *Cluster) EnsureNamespace(ctx context.Context, ns string) error {
	obj, err := c.cs.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
	if err == nil && obj.Status.Phase != corev1.NamespaceTerminating {
		return nil
	}
	if err == nil {
		fmt.Fprintf(c.cfg.Progress, "kube: namespace %s is being deleted; waiting until it is gone to create it again\n", ns)
		if err := c.waitNamespaceGone(ctx, ns); err != nil {
			return err
		}
	} else if !apierrors.IsNotFound(err) {
		return err
	}
	_, err = c.cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("creating namespace %s: %w", ns, err)
	}
	c.mu.Lock()
	c.madeNS = append(c.madeNS, ns)
	c.mu.Unlock()
	// Pods need the namespace's default service account, which a controller makes.
	for {
		if _, err := c.cs.CoreV1().ServiceAccounts(ns).Get(ctx, "default", metav1.GetOptions{}); err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("namespace %s has no default service account: %w", ns, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}
