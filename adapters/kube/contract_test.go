package kube_test

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8stypes "k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/knitter-cni/knitter/adapters/kube"
	"github.com/knitter-cni/knitter/agent"
	"github.com/knitter-cni/knitter/agent/porttest"
)

func TestContract(t *testing.T) {
	porttest.PodSource(t, porttest.PodSourceSpec{}, func(t *testing.T, pods []agent.PodInfo) agent.PodSource {
		client := fake.NewClientset()
		for _, p := range pods {
			obj := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: p.Ref.Namespace, Name: p.Ref.Name,
				UID: k8stypes.UID(p.Ref.UID), Annotations: p.Annotations}}
			if err := client.Tracker().Add(obj); err != nil {
				t.Fatal(err)
			}
		}
		return &kube.PodSource{Client: client}
	})
}
