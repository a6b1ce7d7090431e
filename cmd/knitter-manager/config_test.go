package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestEtcdMaxInflight(t *testing.T) {
	load := func(t *testing.T, body string) (Config, error) {
		t.Helper()
		p := filepath.Join(t.TempDir(), "manager.yaml")
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := loadConfig(p)
		if err != nil {
			return c, err
		}
		return c, c.complete()
	}
	c, err := load(t, "etcd:\n  max_inflight: 8\n")
	if err != nil || c.Etcd.MaxInflight != 8 {
		t.Fatalf("max_inflight 8: got %d, %v", c.Etcd.MaxInflight, err)
	}
	_, err = load(t, "etcd:\n  max_inflight: -1\n")
	if err == nil || !strings.Contains(err.Error(), "etcd.max_inflight") || !strings.Contains(err.Error(), "use 1 or more") {
		t.Fatalf("max_inflight -1: error %v, want one naming etcd.max_inflight and the fix", err)
	}
}
