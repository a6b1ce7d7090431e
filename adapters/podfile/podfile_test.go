package podfile_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/knitter-cni/knitter/adapters/podfile"
	"github.com/knitter-cni/knitter/agent"
	"github.com/knitter-cni/knitter/agent/porttest"
	"github.com/knitter-cni/knitter/agent/wire"
)

var ctx = context.Background()

func TestContract(t *testing.T) {
	porttest.PodSource(t, porttest.PodSourceSpec{}, func(t *testing.T, pods []agent.PodInfo) agent.PodSource {
		dir := t.TempDir()
		for _, p := range pods {
			m := map[string]any{"apiVersion": "v1", "kind": "Pod", "metadata": map[string]any{
				"name": p.Ref.Name, "namespace": p.Ref.Namespace, "uid": p.Ref.UID, "annotations": p.Annotations}}
			b, err := yaml.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.MkdirAll(filepath.Join(dir, p.Ref.Namespace), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, p.Ref.Namespace, p.Ref.Name+".yaml"), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return podfile.Source{Dir: dir}
	})
}

func wantCode(t *testing.T, err error, code uint, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want code %d", code)
	}
	we := agent.ToWire(err)
	if we.Code != code {
		t.Fatalf("code %d (%v), want %d", we.Code, we, code)
	}
	for _, p := range parts {
		if !strings.Contains(we.Error(), p) {
			t.Fatalf("error %q does not mention %q", we.Error(), p)
		}
	}
}

func TestSource(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "acme"), 0o755); err != nil {
		t.Fatal(err)
	}
	manifest := "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  uid: u-1\n  annotations:\n    k8s.v1.cni.cncf.io/networks: vl\n"
	if err := os.WriteFile(filepath.Join(dir, "acme", "web.yaml"), []byte(manifest), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "acme", "bad.json"), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	src := podfile.Source{Dir: dir}
	info, err := src.Pod(context.Background(), agent.PodKey{Namespace: "acme", Name: "web"})
	if err != nil || info.Ref.UID != "u-1" || info.Annotations["k8s.v1.cni.cncf.io/networks"] != "vl" {
		t.Fatalf("Pod = %+v, %v", info, err)
	}
	if _, err := src.Pod(ctx, agent.PodKey{Namespace: "acme", Name: "web", UID: "u-2"}); err == nil || !strings.Contains(err.Error(), "another pod") {
		t.Fatalf("a UID mismatch gave %v", err)
	}
	// A pod whose manifest is gone is gone: the agent reclaims its attachments.
	_, err = src.Pod(ctx, agent.PodKey{Namespace: "acme", Name: "nofile", UID: "u-3"})
	wantCode(t, err, wire.CodeNotFound, "no manifest", filepath.Join(dir, "acme", "nofile.yaml"))
	if err := os.WriteFile(filepath.Join(dir, "acme", "nouid.yaml"), []byte("metadata:\n  name: nouid\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = src.Pod(ctx, agent.PodKey{Namespace: "acme", Name: "nouid"})
	wantCode(t, err, wire.CodeInvalidPodRequest, "K8S_POD_UID")
	_, err = src.Pod(ctx, agent.PodKey{Namespace: "acme", Name: "bad"})
	wantCode(t, err, wire.CodeInvalidPodRequest, "bad.json", "not a Pod manifest")
	// Kubernetes allows pod names of 253 characters; with an extension some are too long for a file
	// name. The one that fits is read; one that cannot exist is a pod without a manifest, not an error.
	long := strings.Repeat("l", 251)
	if err := os.WriteFile(filepath.Join(dir, "acme", long+".yml"), []byte(manifest), 0o644); err != nil {
		t.Fatal(err)
	}
	if info, err := src.Pod(ctx, agent.PodKey{Namespace: "acme", Name: long}); err != nil || info.Ref.UID != "u-1" {
		t.Fatalf("a 251-character pod name in a .yml file: %+v, %v", info, err)
	}
	_, err = src.Pod(ctx, agent.PodKey{Namespace: "acme", Name: strings.Repeat("l", 253), UID: "u-4"})
	wantCode(t, err, wire.CodeNotFound, "no manifest")
	if info, err := (podfile.Source{}).Pod(ctx, agent.PodKey{Namespace: "a", Name: "b", UID: "u"}); err != nil || info.Ref.UID != "u" || info.Annotations != nil {
		t.Fatalf("Source without a directory = %+v, %v", info, err)
	}
}
