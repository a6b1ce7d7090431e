package fakekube_test

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"

	"github.com/knitter-cni/knitter/fakes/fakekube"
)

type rec struct{ got []string }

func name(obj any) string {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		return "tomb:" + t.Key
	}
	return obj.(metav1.Object).GetName()
}
func (r *rec) PodAdded(o any)      { r.got = append(r.got, "add "+name(o)) }
func (r *rec) PodUpdated(_, o any) { r.got = append(r.got, "update "+name(o)) }
func (r *rec) PodDeleted(o any)    { r.got = append(r.got, "delete "+name(o)) }
func (r *rec) NodeChanged(o any)   { r.got = append(r.got, "node "+name(o)) }

func pod(n, uid string) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: n, UID: types.UID(uid)}}
}

func TestPumpDropRelist(t *testing.T) {
	a := fakekube.New()
	r := &rec{}
	a.SetHandler(r)
	if err := a.CreatePod(pod("a", "1")); err != nil {
		t.Fatal(err)
	}
	if err := a.CreatePod(pod("b", "2")); err != nil {
		t.Fatal(err)
	}
	if len(r.got) != 0 {
		t.Fatalf("delivered before Pump: %v", r.got)
	}
	a.Pump()
	a.DropWatch()
	if err := a.DeletePod("ns", "a"); err != nil {
		t.Fatal(err)
	}
	if err := a.CreatePod(pod("c", "3")); err != nil {
		t.Fatal(err)
	}
	a.Pump()
	if want := "[add a add b]"; fmtS(r.got) != want {
		t.Fatalf("after the drop got %v, want %s", r.got, want)
	}
	if _, ok, _ := a.Informers.Core().V1().Pods().Informer().GetIndexer().GetByKey("ns/a"); !ok {
		t.Fatal("the cache lost pod a although its delete was dropped")
	}
	if err := a.Relist(); err != nil {
		t.Fatal(err)
	}
	if want := "[add a add b add c delete tomb:ns/a]"; fmtS(r.got) != want {
		t.Fatalf("after relist got %v, want %s", r.got, want)
	}
	if a.Lost != 2 {
		t.Fatalf("lost %d events, want 2", a.Lost)
	}
}

func TestConflicts(t *testing.T) {
	a := fakekube.New()
	p := pod("a", "1")
	if err := a.CreatePod(p); err != nil {
		t.Fatal(err)
	}
	a.Conflicts(1)
	_, err := a.Client.CoreV1().Pods("ns").Patch(t.Context(), "a", types.MergePatchType, []byte(`{"metadata":{"annotations":{"x":"y"}}}`), metav1.PatchOptions{})
	if !apierrors.IsConflict(err) {
		t.Fatalf("first patch: %v, want a conflict", err)
	}
	if _, err := a.Client.CoreV1().Pods("ns").Patch(t.Context(), "a", types.MergePatchType, []byte(`{"metadata":{"annotations":{"x":"y"}}}`), metav1.PatchOptions{}); err != nil {
		t.Fatalf("second patch: %v", err)
	}
}

func fmtS(s []string) string {
	out := "["
	for i, x := range s {
		if i > 0 {
			out += " "
		}
		out += x
	}
	return out + "]"
}

// TestPatchOfMissingPod: the API server answers 404; the fake clientset alone would create the pod.
func TestPatchOfMissingPod(t *testing.T) {
	a := fakekube.New()
	_, err := a.Client.CoreV1().Pods("ns").Patch(t.Context(), "gone", types.MergePatchType, []byte(`{"metadata":{"annotations":{"x":"y"}}}`), metav1.PatchOptions{})
	if !apierrors.IsNotFound(err) {
		t.Fatalf("patching a missing pod: %v, want not found", err)
	}
	if _, err := a.Pod("ns", "gone"); !apierrors.IsNotFound(err) {
		t.Fatalf("the patch created the pod: %v", err)
	}
}

func TestPatchUIDPrecondition(t *testing.T) {
	a := fakekube.New()
	if err := a.CreatePod(pod("a", "2")); err != nil {
		t.Fatal(err)
	}
	_, err := a.Client.CoreV1().Pods("ns").Patch(t.Context(), "a", types.MergePatchType, []byte(`{"metadata":{"uid":"1","annotations":{"x":"y"}}}`), metav1.PatchOptions{})
	if !apierrors.IsConflict(err) {
		t.Fatalf("patch with another pod's UID: %v, want a conflict", err)
	}
	if p, _ := a.Pod("ns", "a"); p.UID != "2" || p.Annotations["x"] != "" {
		t.Fatalf("the patch changed the namesake: uid %s annotations %v", p.UID, p.Annotations)
	}
}

func TestDeleteNode(t *testing.T) {
	a := fakekube.New()
	r := &rec{}
	a.SetHandler(r)
	if err := a.PutNode(&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1"}}); err != nil {
		t.Fatal(err)
	}
	a.Pump()
	if err := a.DeleteNode("n1"); err != nil {
		t.Fatal(err)
	}
	if err := a.DeleteNode("n1"); err != nil {
		t.Fatalf("deleting a node already gone: %v", err)
	}
	a.Pump()
	if want := "[node n1]"; fmtS(r.got) != want {
		t.Fatalf("got %v, want %s (the delete delivered to NodeChanged)", r.got, want)
	}
	if _, ok, _ := a.Informers.Core().V1().Nodes().Informer().GetIndexer().GetByKey("n1"); ok {
		t.Fatal("the cache still has the deleted node")
	}
	if _, err := a.Client.CoreV1().Nodes().Get(t.Context(), "n1", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("get after delete: %v, want not found", err)
	}
}
