package local

import (
	"context"
	"maps"
	"testing"

	"github.com/containernetworking/cni/libcni"

	"github.com/knitter-cni/knitter/adapters/podfile"
	"github.com/knitter-cni/knitter/agent"
)

// The manifest the driver writes is the one the agent's podfile.Source reads.
func TestPodManifestIsWhatTheAgentReads(t *testing.T) {
	dir := t.TempDir()
	annotations := map[string]string{"k8s.v1.cni.cncf.io/networks": `[{"name": "green", "interface": "net1"}]`}
	if _, err := WritePodManifest(dir, "e2e", "web", "uid-1", "node1", annotations); err != nil {
		t.Fatal(err)
	}
	info, err := podfile.Source{Dir: dir}.Pod(context.Background(), agent.PodKey{Namespace: "e2e", Name: "web"})
	if err != nil {
		t.Fatal(err)
	}
	if info.Ref.UID != "uid-1" || !maps.Equal(info.Annotations, annotations) {
		t.Fatalf("the agent reads %+v", info)
	}
}

func TestConfListAndRuntimeConf(t *testing.T) {
	n := nodeState{Name: "node1", Dir: "/d", Socket: "/d/run/agent.sock"}
	b, err := confList(&n)
	if err != nil {
		t.Fatal(err)
	}
	list, err := libcni.ConfListFromBytes(b)
	if err != nil {
		t.Fatal(err)
	}
	if list.CNIVersion != CNIVersion || len(list.Plugins) != 1 || list.Plugins[0].Network.Type != pluginType {
		t.Fatalf("conflist %s", b)
	}
	rc := runtimeConf(podState{Namespace: "e2e", Name: "web", UID: "u", ContainerID: "c1", Netns: "kn-x-pod1"})
	args := map[string]string{}
	for _, a := range rc.Args {
		args[a[0]] = a[1]
	}
	want := map[string]string{"IgnoreUnknown": "1", "K8S_POD_NAMESPACE": "e2e", "K8S_POD_NAME": "web", "K8S_POD_UID": "u", "K8S_POD_INFRA_CONTAINER_ID": "c1"}
	if !maps.Equal(args, want) || rc.NetNS != "/run/netns/kn-x-pod1" || rc.IfName != "eth0" {
		t.Fatalf("runtime conf %+v", rc)
	}
}
