// Package checkpoint is the agent's CheckpointStore on disk: one JSON file per attachment in a
// directory, written atomically.
package checkpoint

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/knitter-cni/knitter/agent"
	"github.com/knitter-cni/knitter/agent/wire"
)

// Version is the format version of checkpoint files; a file of another version is not read (an
// older agent must not misread a newer file).
const Version = 1

// Files keeps one JSON file per attachment in a directory. Writes are atomic (temp file, fsync,
// rename, fsync of the directory): after a crash a file holds the old content or the new, never a
// mix. It is not safe for concurrent use on the same attachment; the agent serializes per container.
type Files struct {
	dir string
}

// Open creates dir (0700) if needed and removes temp files a crash left behind.
func Open(dir string) (*Files, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("state directory: %w", err)
	}
	tmps, _ := filepath.Glob(filepath.Join(dir, ".tmp-*"))
	for _, t := range tmps {
		_ = os.Remove(t)
	}
	return &Files{dir: dir}, nil
}

// Dir is the directory of the checkpoint files.
func (s *Files) Dir() string { return s.dir }

// path is "<container id>@<ifname>.json": '@' never appears in a container ID (validated), so
// the name is unique per attachment.
func (s *Files) path(a wire.Attachment) string {
	return filepath.Join(s.dir, a.ContainerID+"@"+a.IfName+".json")
}

var _ agent.CheckpointStore = (*Files)(nil)

// Load returns the checkpoint of a; ok is false when there is none.
func (s *Files) Load(a wire.Attachment) (cp agent.Checkpoint, ok bool, err error) {
	b, err := os.ReadFile(s.path(a))
	if errors.Is(err, fs.ErrNotExist) {
		return agent.Checkpoint{}, false, nil
	}
	if err != nil {
		return agent.Checkpoint{}, false, fmt.Errorf("reading checkpoint: %w", err)
	}
	if err := decodeCheckpoint(b, &cp); err != nil {
		return agent.Checkpoint{}, false, fmt.Errorf("checkpoint %s: %w", s.path(a), err)
	}
	return cp, true, nil
}

func decodeCheckpoint(b []byte, cp *agent.Checkpoint) error {
	if err := json.Unmarshal(b, cp); err != nil {
		return fmt.Errorf("corrupt (%w); move it away after removing the pod's links by hand", err)
	}
	if cp.Version != Version {
		return fmt.Errorf("has format version %d; this agent reads version %d", cp.Version, Version)
	}
	return nil
}

// Save implements agent.CheckpointStore: the file is always fsynced before the rename, and durable
// also syncs the directory so that the rename itself survives a crash.
func (s *Files) Save(cp agent.Checkpoint, durable bool) error {
	cp.Version = Version
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
	if !durable {
		return nil
	}
	return s.syncDir()
}

// Remove deletes the checkpoint of a; a missing one is success. The removal is not synced: a crash
// that brings the checkpoint back makes the restart reconcile, GC or a DEL detach it once more, which
// is idempotent.
func (s *Files) Remove(a wire.Attachment) error {
	if err := os.Remove(s.path(a)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("removing checkpoint: %w", err)
	}
	return nil
}

// syncDir makes a rename or removal durable.
func (s *Files) syncDir() error {
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
func (s *Files) List() ([]agent.Checkpoint, error) {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, fmt.Errorf("listing checkpoints: %w", err)
	}
	var out []agent.Checkpoint
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
		var cp agent.Checkpoint
		if err := decodeCheckpoint(b, &cp); err != nil {
			errs = append(errs, fmt.Errorf("checkpoint %s: %w", e.Name(), err))
			continue
		}
		out = append(out, cp)
	}
	agent.SortCheckpoints(out)
	return out, errors.Join(errs...)
}
