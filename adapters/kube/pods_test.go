package kube_test

import (
	"context"
	"errors"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	k8stypes "k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/knitter-cni/knitter/adapters/kube"
	"github.com/knitter-cni/knitter/agent"
	"github.com/knitter-cni/knitter/core/model"
)

func pod(name, uid string, owners ...metav1.OwnerReference) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "acme", Name: name, UID: k8stypes.UID("u-" + uid),
		Annotations: map[string]string{"k8s.v1.cni.cncf.io/networks": "vl"}, OwnerReferences: owners}}
}

func controller(kind, name string) metav1.OwnerReference {
	yes := true
	return metav1.OwnerReference{Kind: kind, Name: name, Controller: &yes}
}

func TestPodSource(t *testing.T) {
	ctx := context.Background()
	client := fake.NewClientset(pod("web-0", "1", controller("StatefulSet", "web")), pod("api-7f9c", "2", controller("ReplicaSet", "api")))
	src := &kube.PodSource{Client: client}
	info, err := src.Pod(ctx, agent.PodKey{Namespace: "acme", Name: "web-0", UID: "u-1"})
	if err != nil {
		t.Fatal(err)
	}
	if info.Ref != (model.PodRef{UID: "u-1", Namespace: "acme", Name: "web-0"}) || info.Annotations["k8s.v1.cni.cncf.io/networks"] != "vl" || info.Owner != "statefulset/acme/web/0" {
		t.Fatalf("Pod = %+v", info)
	}
	if info, _ := src.Pod(ctx, agent.PodKey{Namespace: "acme", Name: "api-7f9c"}); info.Owner != "" || info.Ref.UID != "u-2" {
		t.Fatalf("a ReplicaSet pod = %+v, want no sticky owner", info)
	}
	if _, err := src.Pod(ctx, agent.PodKey{Namespace: "acme", Name: "web-0", UID: "u-old"}); model.CodeOf(err) != model.CodeNotFound {
		t.Fatalf("a recreated pod gave %v, want not found", err)
	}
	if _, err := src.Pod(ctx, agent.PodKey{Namespace: "acme", Name: "ghost"}); model.CodeOf(err) != model.CodeNotFound || errors.Is(err, agent.ErrUnavailable) {
		t.Fatalf("a missing pod gave %v, want not found", err)
	}
}

func TestPodSourceErrors(t *testing.T) {
	gr := schema.GroupResource{Resource: "pods"}
	for _, c := range []struct {
		err         error
		code        model.Code
		unavailable bool
	}{
		{apierrors.NewForbidden(gr, "web-0", errors.New("rbac")), model.CodeForbidden, false},
		{apierrors.NewUnauthorized("expired"), model.CodeForbidden, false},
		{apierrors.NewServiceUnavailable("apiserver down"), "", true},
		{apierrors.NewTooManyRequests("slow down", 1), "", true},
		{errors.New("dial tcp: connection refused"), "", true},
	} {
		client := fake.NewClientset()
		client.PrependReactor("get", "pods", func(k8stesting.Action) (bool, runtime.Object, error) { return true, nil, c.err })
		_, err := (&kube.PodSource{Client: client}).Pod(context.Background(), agent.PodKey{Namespace: "acme", Name: "web-0"})
		if model.CodeOf(err) != c.code || errors.Is(err, agent.ErrUnavailable) != c.unavailable {
			t.Errorf("%v: got %v (code %q, unavailable %v), want code %q unavailable %v", c.err, err, model.CodeOf(err), errors.Is(err, agent.ErrUnavailable), c.code, c.unavailable)
		}
	}
}

func TestStickyOwner(t *testing.T) {
	notController := metav1.OwnerReference{Kind: "StatefulSet", Name: "web"}
	for _, c := range []struct {
		pod  *corev1.Pod
		want string
	}{
		{pod("web-12", "", controller("StatefulSet", "web")), "statefulset/acme/web/12"},
		{pod("web-x", "", controller("StatefulSet", "web")), ""},
		{pod("other-0", "", controller("StatefulSet", "web")), ""},
		{pod("web-0", "", notController), ""},
		{pod("web-0", ""), ""},
	} {
		if got := kube.StickyOwner(c.pod); got != c.want {
			t.Errorf("StickyOwner(%s) = %q, want %q", c.pod.Name, got, c.want)
		}
	}
}

func TestRestConfigFromKubeconfig(t *testing.T) {
	if _, err := kube.RestConfig("/nonexistent/kubeconfig", 0); err == nil {
		t.Fatal("a missing kubeconfig loaded")
	}
}
