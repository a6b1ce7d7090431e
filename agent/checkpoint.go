package agent

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/knitter-cni/knitter/agent/wire"
	"github.com/knitter-cni/knitter/core/plan"
)

// CheckpointVersion is the format version of checkpoint files; a file of another version is not
// read (an older agent must not misread a newer file).
const CheckpointVersion = 1

// Checkpoint is what the agent remembers of one attachment: enough to return the same ADD result
// again, check the links, and tear them down with nothing else reachable.
type Checkpoint struct {
	Version     int    `json:"version"`
	ContainerID string `json:"container_id"`
	IfName      string `json:"ifname"`
	// Network is the delegate-mode network of the configuration that made it ("" for the pod's
	// whole set); GC calls for one network configuration only consider its own checkpoints.
	Network string `json:"network,omitempty"`
	// Ready is set once the links are built and the ports bound. A checkpoint that is not ready is
	// an ADD in progress, or one a crash cut short: a repeated ADD builds it again.
	Ready  bool        `json:"ready"`
	Plan   plan.Pod    `json:"plan"`
	Result wire.Result `json:"result"`
}

// Key names the checkpoint's attachment.
func (c *Checkpoint) Key() wire.Attachment {
	return wire.Attachment{ContainerID: c.ContainerID, IfName: c.IfName}
}

// Checkpoints keeps one JSON file per attachment in a directory. Writes are atomic (temp file, fsync,
// rename, fsync of the directory): after a crash a file holds the old content or the new, never a
// mix. It is not safe for concurrent use on the same attachment; the agent serializes per container.
type Checkpoints struct {
	dir string
}

// OpenCheckpoints creates dir (0700) if needed and removes temp files a crash left behind.
func OpenCheckpoints(dir string) (*Checkpoints, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("state directory: %w", err)
	}
	tmps, _ := filepath.Glob(filepath.Join(dir, ".tmp-*"))
	for _, t := range tmps {
		_ = os.Remove(t)
	}
	return &Checkpoints{dir: dir}, nil
}

// Dir is the directory of the checkpoint files.
func (s *Checkpoints) Dir() string { return s.dir }

// fileName is "<container id>@<ifname>.json": '@' never appears in a container ID (validated), so
// the name is unique per attachment.
func (s *Checkpoints) path(a wire.Attachment) string {
	return filepath.Join(s.dir, a.ContainerID+"@"+a.IfName+".json")
}

// Load returns the checkpoint of a; ok is false when there is none.
func (s *Checkpoints) Load(a wire.Attachment) (cp Checkpoint, ok bool, err error) {
	b, err := os.ReadFile(s.path(a))
	if errors.Is(err, fs.ErrNotExist) {
		return Checkpoint{}, false, nil
	}
	if err != nil {
		return Checkpoint{}, false, fmt.Errorf("reading checkpoint: %w", err)
	}
	if err := decodeCheckpoint(b, &cp); err != nil {
		return Checkpoint{}, false, fmt.Errorf("checkpoint %s: %w", s.path(a), err)
	}
	return cp, true, nil
}

func decodeCheckpoint(b []byte, cp *Checkpoint) error {
	if err := json.Unmarshal(b, cp); err != nil {
		return fmt.Errorf("corrupt (%w); move it away after removing the pod's links by hand", err)
	}
	if cp.Version != CheckpointVersion {
		return fmt.Errorf("has format version %d; this agent reads version %d", cp.Version, CheckpointVersion)
	}
	return nil
}

// Save writes cp atomically and durably.
func (s *Checkpoints) Save(cp Checkpoint) error { return s.save(cp, true) }

// save writes cp atomically; syncDir also makes the rename durable. Without it a crash may bring
// back the previous content, which is how the ready mark is written: a checkpoint that comes back
// not ready costs a repeated ADD one idempotent rebuild, and saves every ADD a directory sync.
func (s *Checkpoints) save(cp Checkpoint, syncDir bool) error {
	cp.Version = CheckpointVersion
	b, err := json.Marshal(cp)
	if err != nil {
		return fmt.Errorf("encoding checkpoint: %w", err)
	}
	f, err := os.CreateTemp(s.dir, ".tmp-*")
	if err != nil {
		return fmt.Errorf("writing checkpoint: %w", err)
	}
	done := false
	defer func() {
		if !done {
			_ = f.Close()
			_ = os.Remove(f.Name())
		}
	}()
	if _, err := f.Write(b); err != nil {
		return fmt.Errorf("writing checkpoint: %w", err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("syncing checkpoint: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing checkpoint: %w", err)
	}
	if err := os.Rename(f.Name(), s.path(cp.Key())); err != nil {
		return fmt.Errorf("renaming checkpoint: %w", err)
	}
	done = true
	if !syncDir {
		return nil
	}
	return s.syncDir()
}

// Remove deletes the checkpoint of a; a missing one is success. The removal is not synced: a crash
// that brings the checkpoint back makes the restart reconcile, GC or a DEL detach it once more, which
// is idempotent.
func (s *Checkpoints) Remove(a wire.Attachment) error {
	if err := os.Remove(s.path(a)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("removing checkpoint: %w", err)
	}
	return nil
}

// syncDir makes a rename or removal durable.
func (s *Checkpoints) syncDir() error {
	d, err := os.Open(s.dir)
	if err != nil {
		return fmt.Errorf("syncing state directory: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("syncing state directory: %w", err)
	}
	return nil
}

// List returns every readable checkpoint, sorted by container ID and ifname, and an error naming
// each file that could not be read (those are skipped, never deleted: they may be a newer agent's).
func (s *Checkpoints) List() ([]Checkpoint, error) {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, fmt.Errorf("listing checkpoints: %w", err)
	}
	var out []Checkpoint
	var errs []error
	for _, e := range entries {
		if e.IsDir() || strings.HasPrefix(e.Name(), ".") || !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(s.dir, e.Name()))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		var cp Checkpoint
		if err := decodeCheckpoint(b, &cp); err != nil {
			errs = append(errs, fmt.Errorf("checkpoint %s: %w", e.Name(), err))
			continue
		}
		out = append(out, cp)
	}
	sortCheckpoints(out)
	return out, errors.Join(errs...)
}
