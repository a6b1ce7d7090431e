package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
)

// pluginName is knitter-plugin's file name in the node's CNI bin directory; it is the "type" of the
// network configuration, as the CNI specification ties the two.
const pluginName = "knitter"

// defaultConfName sorts before most other configurations, so the runtime picks Knitter's.
const defaultConfName = "10-knitter.conflist"

// CNIConfig says where the agent installs knitter-plugin and its network configuration on the node,
// as a CNI DaemonSet does. With no BinDir nothing is installed (a node provisioned by hand).
type CNIConfig struct {
	// BinDir is the node's CNI bin directory as the agent sees it (e.g. /host/opt/cni/bin).
	BinDir string `json:"bin_dir,omitempty"`
	// ConfDir is the node's CNI configuration directory as the agent sees it (/host/etc/cni/net.d).
	ConfDir string `json:"conf_dir,omitempty"`
	// Plugin is the knitter-plugin binary to copy. Default: knitter-plugin next to the agent.
	Plugin string `json:"plugin,omitempty"`
	// ConfName is the configuration's file name. Default 10-knitter.conflist.
	ConfName string `json:"conf_name,omitempty"`
	// PluginSocket is the agent's socket as the plugin sees it on the node. Default: socket.
	PluginSocket string `json:"plugin_socket,omitempty"`
	// UninstallWith is the agent's DaemonSet as namespace/name: when the agent stops and that
	// DaemonSet is gone or being deleted, the agent removes what it installed. An agent that merely
	// restarts (an upgrade, a crash) leaves the node's CNI in place.
	UninstallWith string `json:"uninstall_with,omitempty"`
}

// confList is the network configuration list the agent installs.
func (c CNIConfig) confList() ([]byte, error) {
	return json.MarshalIndent(map[string]any{
		"cniVersion": "1.0.0",
		"name":       "knitter",
		"plugins": []map[string]any{{
			"type":        pluginName,
			"agentSocket": c.PluginSocket,
			"timeout":     "60s",
		}},
	}, "", "  ")
}

// installCNI copies knitter-plugin into BinDir and writes the configuration into ConfDir, each by
// writing a temporary file and renaming it, so a runtime never sees half a file. It refuses to
// replace a configuration of the same name that is not Knitter's.
func installCNI(c CNIConfig) error {
	conf, err := c.confList()
	if err != nil {
		return err
	}
	confPath := filepath.Join(c.ConfDir, c.ConfName)
	if err := checkOwnConf(confPath); err != nil {
		return err
	}
	src, err := os.Open(c.Plugin)
	if err != nil {
		return fmt.Errorf("cni.plugin (--cni-plugin): %w", err)
	}
	defer src.Close()
	if err := writeAtomic(filepath.Join(c.BinDir, pluginName), 0o755, src); err != nil {
		return fmt.Errorf("cni.bin_dir (--cni-bin-dir): %w", err)
	}
	if err := writeAtomic(confPath, 0o644, bytes.NewReader(conf)); err != nil {
		return fmt.Errorf("cni.conf_dir (--cni-conf-dir): %w", err)
	}
	return nil
}

// uninstallCNI removes the configuration (if it is Knitter's) and then the plugin binary.
func uninstallCNI(c CNIConfig) error {
	confPath := filepath.Join(c.ConfDir, c.ConfName)
	if err := checkOwnConf(confPath); err != nil {
		return err
	}
	var errs []error
	for _, p := range []string{confPath, filepath.Join(c.BinDir, pluginName)} {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// checkOwnConf fails if path holds a configuration whose plugins do not include knitter-plugin.
func checkOwnConf(path string) error {
	raw, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var list struct {
		Type    string `json:"type"`
		Plugins []struct {
			Type string `json:"type"`
		} `json:"plugins"`
	}
	var types []string
	if json.Unmarshal(raw, &list) == nil {
		types = append(types, list.Type)
		for _, p := range list.Plugins {
			types = append(types, p.Type)
		}
	}
	if !slices.Contains(types, pluginName) {
		return fmt.Errorf("cni.conf_name (--cni-conf-name): %s exists and is not Knitter's (plugin types %v); "+
			"Knitter never overwrites another plugin's configuration: remove it or choose another name", path, types)
	}
	return nil
}

// writeAtomic writes r to a hidden temporary file next to path (runtimes load only *.conf,
// *.conflist and *.json, and execute only the plugin name) and renames it over path.
func writeAtomic(path string, mode os.FileMode, r io.Reader) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // fails harmlessly once renamed
	if _, err := io.Copy(tmp, r); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Chmod(mode); err != nil {
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
		return fmt.Errorf("installing %s: %w", path, err)
	}
	return nil
}
