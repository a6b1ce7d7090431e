// Package fakekube is a Kubernetes API server and its watch, in memory, for driving knitter-monitor
// step by step: client-go's fake clientset is the API server's store, an informer factory that is
// never started holds the monitor's caches, and Pump delivers the watch's events into those caches
// and to the handlers on the caller's goroutine. Faults: a dropped watch loses every event until a
// Relist, which compares the store with the cache and delivers what changed (a pod deleted meanwhile
// arrives as a cache.DeletedFinalStateUnknown tombstone); Conflicts makes the next writes to pods
// fail with a 409, as a stale resourceVersion does.
package fakekube

import (
	"encoding/json"
	"fmt"
	"sort"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/kubernetes/scheme"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/cache"
)

// Handler receives the watch's events (knitter-monitor's informer handlers).
type Handler interface {
	PodAdded(obj any)
	PodUpdated(oldObj, newObj any)
	PodDeleted(obj any)
	NodeChanged(obj any)
}

type event struct {
	kind string // "pod" or "node"
	op   string // "add", "update", "delete"
	obj  runtime.Object
}

// API is the fake API server with one watch feeding one informer factory.
type API struct {
	Client    *fake.Clientset
	Informers informers.SharedInformerFactory
	tracker   k8stesting.ObjectTracker
	handler   Handler
	pending   []event
	dropped   bool
	conflicts int
	// Counters for the trace and the report.
	Delivered, Lost, Relists, Conflicted int
}

var (
	podsGVR  = schema.GroupVersionResource{Version: "v1", Resource: "pods"}
	nodesGVR = schema.GroupVersionResource{Version: "v1", Resource: "nodes"}
)

// New returns an empty API server. Call SetHandler before Pump.
func New() *API {
	// A plain object tracker behind the clientset: fake.NewClientset's field-managed one builds a
	// REST mapper on every write, half of a simulated run's CPU.
	a := &API{Client: &fake.Clientset{}, tracker: k8stesting.NewObjectTracker(scheme.Scheme, scheme.Codecs.UniversalDecoder())}
	a.Client.AddReactor("*", "*", k8stesting.ObjectReaction(a.tracker))
	a.Informers = informers.NewSharedInformerFactory(a.Client, 0)
	// Touch the informers the monitor uses so their caches exist before it is built.
	a.Informers.Core().V1().Pods().Informer()
	a.Informers.Core().V1().Nodes().Informer()
	a.Informers.Core().V1().Namespaces().Informer()
	conflict := func(action k8stesting.Action) (bool, runtime.Object, error) {
		if a.conflicts == 0 {
			return false, nil, nil
		}
		a.conflicts--
		a.Conflicted++
		return true, nil, apierrors.NewConflict(schema.GroupResource{Resource: "pods"}, "", fmt.Errorf("the object has been modified; please apply your changes to the latest version and try again"))
	}
	// As the API server does and the fake clientset does not: a patch of a missing pod is a 404, and
	// a metadata.uid in the patch is a precondition (409 when a namesake replaced the pod), where the
	// fake would overwrite the namesake's UID.
	a.Client.PrependReactor("patch", "pods", func(action k8stesting.Action) (bool, runtime.Object, error) {
		pa := action.(k8stesting.PatchAction)
		cur, err := a.tracker.Get(podsGVR, pa.GetNamespace(), pa.GetName())
		if err != nil {
			return true, nil, err
		}
		var pre struct {
			Metadata struct {
				UID string `json:"uid"`
			} `json:"metadata"`
		}
		if json.Unmarshal(pa.GetPatch(), &pre) == nil && pre.Metadata.UID != "" && pre.Metadata.UID != string(cur.(*corev1.Pod).UID) {
			return true, nil, apierrors.NewConflict(schema.GroupResource{Resource: "pods"}, pa.GetName(),
				fmt.Errorf("precondition failed: UID in precondition: %s, UID in object meta: %s", pre.Metadata.UID, cur.(*corev1.Pod).UID))
		}
		return false, nil, nil
	})
	a.Client.PrependReactor("update", "pods", conflict)
	a.Client.PrependReactor("patch", "pods", conflict)
	return a
}

// SetHandler names who receives the watch's events.
func (a *API) SetHandler(h Handler) { a.handler = h }

// Conflicts makes the next n updates or patches of pods fail with a conflict.
func (a *API) Conflicts(n int) { a.conflicts = n }

// DropWatch breaks the watch: every event until the next Relist is lost.
func (a *API) DropWatch() { a.dropped = true }

// Dropped reports whether the watch is broken.
func (a *API) Dropped() bool { return a.dropped }

func (a *API) emit(e event) {
	if a.dropped {
		a.Lost++
		return
	}
	a.pending = append(a.pending, e)
}

// CreateNamespace creates a namespace and puts it in the cache (namespaces are not faulted).
func (a *API) CreateNamespace(name string) error {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if err := a.tracker.Add(ns); err != nil {
		return fmt.Errorf("creating namespace %s: %w", name, err)
	}
	return a.Informers.Core().V1().Namespaces().Informer().GetIndexer().Add(ns)
}

// CreatePod stores a pod; its watch event waits for Pump.
func (a *API) CreatePod(p *corev1.Pod) error {
	if err := a.tracker.Create(podsGVR, p, p.Namespace); err != nil {
		return fmt.Errorf("creating pod %s/%s: %w", p.Namespace, p.Name, err)
	}
	a.emit(event{"pod", "add", p.DeepCopy()})
	return nil
}

// UpdatePod replaces a stored pod (the kubelet's status writes).
func (a *API) UpdatePod(p *corev1.Pod) error {
	if err := a.tracker.Update(podsGVR, p, p.Namespace); err != nil {
		return fmt.Errorf("updating pod %s/%s: %w", p.Namespace, p.Name, err)
	}
	a.emit(event{"pod", "update", p.DeepCopy()})
	return nil
}

// Pod returns a stored pod.
func (a *API) Pod(ns, name string) (*corev1.Pod, error) {
	o, err := a.tracker.Get(podsGVR, ns, name)
	if err != nil {
		return nil, err
	}
	return o.(*corev1.Pod), nil
}

// DeletePod removes a pod; a pod already gone is not an error.
func (a *API) DeletePod(ns, name string) error {
	o, err := a.tracker.Get(podsGVR, ns, name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := a.tracker.Delete(podsGVR, ns, name); err != nil {
		return fmt.Errorf("deleting pod %s/%s: %w", ns, name, err)
	}
	a.emit(event{"pod", "delete", o.DeepCopyObject()})
	return nil
}

// PutNode creates or replaces a node.
func (a *API) PutNode(n *corev1.Node) error {
	_, err := a.tracker.Get(nodesGVR, "", n.Name)
	op := "update"
	switch {
	case apierrors.IsNotFound(err):
		op, err = "add", a.tracker.Add(n)
	case err == nil:
		err = a.tracker.Update(nodesGVR, n, "")
	}
	if err != nil {
		return fmt.Errorf("storing node %s: %w", n.Name, err)
	}
	a.emit(event{"node", op, n.DeepCopy()})
	return nil
}

// DeleteNode removes a node; a node already gone is not an error.
func (a *API) DeleteNode(name string) error {
	o, err := a.tracker.Get(nodesGVR, "", name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := a.tracker.Delete(nodesGVR, "", name); err != nil {
		return fmt.Errorf("deleting node %s: %w", name, err)
	}
	a.emit(event{"node", "delete", o.DeepCopyObject()})
	return nil
}

func (a *API) indexer(kind string) cache.Indexer {
	if kind == "pod" {
		return a.Informers.Core().V1().Pods().Informer().GetIndexer()
	}
	return a.Informers.Core().V1().Nodes().Informer().GetIndexer()
}

// Pump delivers every pending event, in order, into the cache and to the handler. It returns how
// many it delivered.
func (a *API) Pump() int {
	n := 0
	for len(a.pending) > 0 {
		e := a.pending[0]
		a.pending = a.pending[1:]
		a.deliver(e.kind, e.op, e.obj)
		n++
	}
	a.Delivered += n
	return n
}

func (a *API) deliver(kind, op string, obj runtime.Object) {
	idx := a.indexer(kind)
	old, had, _ := idx.Get(obj)
	switch op {
	case "add", "update":
		_ = idx.Update(obj)
	case "delete":
		_ = idx.Delete(obj)
	}
	if a.handler == nil {
		return
	}
	switch {
	case kind == "node" && op == "delete", kind == "node" && had:
		a.handler.NodeChanged(obj)
	case kind == "node":
	case op == "delete":
		a.handler.PodDeleted(obj)
	case had:
		a.handler.PodUpdated(old, obj)
	default:
		a.handler.PodAdded(obj)
	}
}

// Relist is the informer's recovery after a dropped watch: it lists the store, delivers an add or
// update for every object and a tombstone for every cached object the store no longer has, and
// mends the watch. Events lost before it are never delivered.
func (a *API) Relist() error {
	a.pending = nil
	a.dropped = false
	a.Relists++
	for _, kind := range []string{"node", "pod"} {
		gvr, gvk := nodesGVR, corev1.SchemeGroupVersion.WithKind("Node")
		if kind == "pod" {
			gvr, gvk = podsGVR, corev1.SchemeGroupVersion.WithKind("Pod")
		}
		list, err := a.tracker.List(gvr, gvk, "")
		if err != nil {
			return fmt.Errorf("relisting %ss: %w", kind, err)
		}
		var objs []runtime.Object
		live := map[string]bool{}
		switch l := list.(type) {
		case *corev1.PodList:
			for i := range l.Items {
				objs = append(objs, &l.Items[i])
			}
		case *corev1.NodeList:
			for i := range l.Items {
				objs = append(objs, &l.Items[i])
			}
		}
		idx := a.indexer(kind)
		for _, o := range objs {
			k, _ := cache.MetaNamespaceKeyFunc(o)
			live[k] = true
			cur, had, _ := idx.GetByKey(k)
			if had && equality.Semantic.DeepEqual(cur, o) {
				continue
			}
			a.deliver(kind, "update", o)
		}
		keys := idx.ListKeys()
		sort.Strings(keys)
		for _, k := range keys {
			if live[k] {
				continue
			}
			cur, _, _ := idx.GetByKey(k)
			_ = idx.Delete(cur)
			if a.handler != nil {
				tomb := cache.DeletedFinalStateUnknown{Key: k, Obj: cur}
				if kind == "pod" {
					a.handler.PodDeleted(tomb)
				} else {
					a.handler.NodeChanged(tomb)
				}
			}
		}
	}
	return nil
}
