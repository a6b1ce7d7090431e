package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLoadConfig(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	if err := os.WriteFile(good, []byte("node_name: n1\nvtep: 10.0.0.1\nuplinks: {physnet1: eth1}\nmanager: {url: https://m:9527}\nheartbeat: 10s\ndns: {nameservers: [10.96.0.10]}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := loadConfig(good)
	if err != nil {
		t.Fatal(err)
	}
	if c.NodeName != "n1" || c.Uplinks["physnet1"] != "eth1" || time.Duration(c.Heartbeat) != 10*time.Second || c.DNS.Nameservers[0] != "10.96.0.10" {
		t.Fatalf("config %+v", c)
	}
	if err := c.defaults(); err != nil || c.Socket != "/run/knitter/agent.sock" || c.StateDir != "/run/knitter/agent" {
		t.Fatalf("defaults: %+v, %v", c, err)
	}
	if err := c.validate(); err != nil {
		t.Fatal(err)
	}
	for body, want := range map[string]string{
		"vtpe: 10.0.0.1\n":  `unknown field "vtpe"`,
		"heartbeat: soon\n": "not a positive duration",
	} {
		f := filepath.Join(dir, "bad.yaml")
		if err := os.WriteFile(f, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := loadConfig(f); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want an error with %q", body, err, want)
		}
	}
	if _, err := loadConfig(filepath.Join(dir, "missing.yaml")); err == nil {
		t.Error("a missing file loaded")
	}
}

func TestValidate(t *testing.T) {
	base := Config{Manager: ManagerConfig{URL: "https://m:9527"}}
	for _, c := range []struct {
		mod  func(*Config)
		want string
	}{
		{func(c *Config) { c.Manager.URL = "" }, "manager.url"},
		{func(c *Config) { c.VTEP = "nope" }, "vtep"},
		{func(c *Config) { c.MTU = 100 }, "mtu"},
		{func(c *Config) { c.Kubeconfig, c.InCluster = "k", true }, "choose one"},
		{func(c *Config) { c.LogLevel = "loud" }, "log_level"},
		{func(c *Config) { c.MaxConcurrent = -1 }, "max_concurrent"},
	} {
		cfg := base
		c.mod(&cfg)
		if err := cfg.validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v, want an error naming %s", err, c.want)
		}
	}
}

func TestUplinkFlag(t *testing.T) {
	cmd := newCommand()
	cmd.SetArgs([]string{"--manager-url", "https://m:9527", "--uplink", "physnet1"})
	if err := cmd.Execute(); err == nil || !strings.Contains(err.Error(), "PHYSICAL_NETWORK=NIC") {
		t.Fatalf("%v, want the --uplink format named", err)
	}
}

func ctx() context.Context { return context.Background() }
