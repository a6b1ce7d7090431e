package sriov

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// record is the allocation record's file format.
type record struct {
	Version int           `json:"version"`
	Held    map[string]VF `json:"held"`
}

const recordVersion = 1

func loadRecord(path string) (map[string]VF, error) {
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]VF{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the VF allocation record: %w", err)
	}
	var r record
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, fmt.Errorf("reading the VF allocation record %s: %w; fix or remove the file (VFs in pods stay protected: they are not in the node's namespace)", path, err)
	}
	if r.Version != recordVersion {
		return nil, fmt.Errorf("VF allocation record %s has version %d, this agent reads %d", path, r.Version, recordVersion)
	}
	if r.Held == nil {
		r.Held = map[string]VF{}
	}
	return r.Held, nil
}

// saveRecord writes the record atomically: a reader (or a crash) sees the old file or the new one.
func saveRecord(path string, held map[string]VF) error {
	raw, err := json.MarshalIndent(record{Version: recordVersion, Held: held}, "", "  ")
	if err != nil {
		return err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	if _, err := tmp.Write(append(raw, '\n')); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
