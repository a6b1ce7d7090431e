package agent

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"sigs.k8s.io/yaml"

	"github.com/knitter-cni/knitter/core/model"
)

// FilePods is the PodSource of a node without an API server (the local demo, the simulator's
// runtime): a pod is described by a Kubernetes Pod manifest at Dir/<namespace>/<name>.yaml (or
// .json), of which only metadata.uid and metadata.annotations are read. A pod without a file has no
// annotations (it gets its tenant's default network) and takes its UID from CNI_ARGS' K8S_POD_UID.
type FilePods struct {
	Dir string
}

var _ PodSource = FilePods{}

// podManifest is the part of a Pod manifest FilePods reads.
type podManifest struct {
	Metadata struct {
		UID         string            `json:"uid"`
		Annotations map[string]string `json:"annotations"`
	} `json:"metadata"`
}

// Pod implements PodSource.
func (f FilePods) Pod(_ context.Context, k PodKey) (PodInfo, error) {
	info := PodInfo{Ref: model.PodRef{Namespace: k.Namespace, Name: k.Name, UID: k.UID}}
	file, b, err := f.read(k)
	if err != nil {
		return PodInfo{}, err
	}
	if b != nil {
		var m podManifest
		if err := yaml.Unmarshal(b, &m); err != nil {
			return PodInfo{}, model.Invalid("pod file", "%s is not a Pod manifest: %v", file, err)
		}
		info.Annotations = m.Metadata.Annotations
		switch {
		case m.Metadata.UID == "":
		case k.UID != "" && k.UID != m.Metadata.UID:
			return PodInfo{}, model.Errorf(model.CodeNotFound, "CNI_ARGS", "pod %s has UID %s in %s, but the runtime passes %s; the file describes another pod", k, m.Metadata.UID, file, k.UID)
		default:
			info.Ref.UID = m.Metadata.UID
		}
	}
	if info.Ref.UID == "" {
		return PodInfo{}, model.Invalid("CNI_ARGS", "pod %s has no UID; pass K8S_POD_UID in CNI_ARGS or set metadata.uid in %s",
			k, filepath.Join(f.Dir, k.Namespace, k.Name+".yaml"))
	}
	return info, nil
}

// read returns the first pod file that exists for k, or nil content if none does.
func (f FilePods) read(k PodKey) (string, []byte, error) {
	if f.Dir == "" {
		return "", nil, nil
	}
	for _, ext := range []string{".yaml", ".yml", ".json"} {
		file := filepath.Join(f.Dir, filepath.Base(k.Namespace), filepath.Base(k.Name)+ext)
		b, err := os.ReadFile(file)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return "", nil, fmt.Errorf("reading pod file: %w", err)
		}
		return file, b, nil
	}
	return "", nil, nil
}
