// Package podfile is the agent's PodSource on a node without an API server: pod manifests in a
// directory.
package podfile

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"sigs.k8s.io/yaml"

	"github.com/knitter-cni/knitter/agent"
	"github.com/knitter-cni/knitter/core/model"
)

// Source is the PodSource of a node without an API server (the local demo, the simulator's
// runtime): a pod is described by a Kubernetes Pod manifest at Dir/<namespace>/<name>.yaml (or
// .json), of which only metadata.uid and metadata.annotations are read. A pod without a manifest does
// not exist, so that removing the manifest is deleting the pod (the agent reclaims its attachments).
// With no Dir at all, every pod exists, without annotations (it gets its tenant's default network),
// with the UID of CNI_ARGS' K8S_POD_UID.
type Source struct {
	Dir string
}

var _ agent.PodSource = Source{}

// podManifest is the part of a Pod manifest Source reads.
type podManifest struct {
	Metadata struct {
		UID         string            `json:"uid"`
		Annotations map[string]string `json:"annotations"`
	} `json:"metadata"`
}

// Pod implements agent.PodSource.
func (f Source) Pod(_ context.Context, k agent.PodKey) (agent.PodInfo, error) {
	info := agent.PodInfo{Ref: model.PodRef{Namespace: k.Namespace, Name: k.Name, UID: k.UID}}
	file, b, err := f.read(k)
	if err != nil {
		return agent.PodInfo{}, err
	}
	if b == nil && f.Dir != "" {
		return agent.PodInfo{}, model.Errorf(model.CodeNotFound, "pod", "pod %s has no manifest in %s; write %s to create it",
			k, f.Dir, filepath.Join(f.Dir, k.Namespace, k.Name+".yaml"))
	}
	if b != nil {
		var m podManifest
		if err := yaml.Unmarshal(b, &m); err != nil {
			return agent.PodInfo{}, model.Invalid("pod file", "%s is not a Pod manifest: %v", file, err)
		}
		info.Annotations = m.Metadata.Annotations
		switch {
		case m.Metadata.UID == "":
		case k.UID != "" && k.UID != m.Metadata.UID:
			return agent.PodInfo{}, model.Errorf(model.CodeNotFound, "CNI_ARGS", "pod %s has UID %s in %s, but the runtime passes %s; the file describes another pod", k, m.Metadata.UID, file, k.UID)
		default:
			info.Ref.UID = m.Metadata.UID
		}
	}
	if info.Ref.UID == "" {
		return agent.PodInfo{}, model.Invalid("CNI_ARGS", "pod %s has no UID; pass K8S_POD_UID in CNI_ARGS or set metadata.uid in %s",
			k, filepath.Join(f.Dir, k.Namespace, k.Name+".yaml"))
	}
	return info, nil
}

// read returns the first pod file that exists for k, or nil content if none does.
func (f Source) read(k agent.PodKey) (string, []byte, error) {
	if f.Dir == "" {
		return "", nil, nil
	}
	for _, ext := range []string{".yaml", ".yml", ".json"} {
		file := filepath.Join(f.Dir, filepath.Base(k.Namespace), filepath.Base(k.Name)+ext)
		b, err := os.ReadFile(file)
		// A name too long for a file (a pod name of 251-253 characters with ".yaml") has no such file.
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENAMETOOLONG) {
			continue
		}
		if err != nil {
			return "", nil, fmt.Errorf("reading pod file: %w", err)
		}
		return file, b, nil
	}
	return "", nil, nil
}
