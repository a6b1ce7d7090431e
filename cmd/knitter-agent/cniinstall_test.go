package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func cniDirs(t *testing.T) CNIConfig {
	t.Helper()
	d := t.TempDir()
	c := CNIConfig{BinDir: filepath.Join(d, "bin"), ConfDir: filepath.Join(d, "net.d"), Plugin: filepath.Join(d, "knitter-plugin"),
		ConfName: defaultConfName, PluginSocket: "/run/knitter/agent.sock"}
	for _, dir := range []string{c.BinDir, c.ConfDir} {
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(c.Plugin, []byte("#!plugin v2"), 0o644); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestInstallCNIWritesPluginAndConfAndLeavesOthers(t *testing.T) {
	c := cniDirs(t)
	other := filepath.Join(c.ConfDir, "05-other.conflist")
	if err := os.WriteFile(other, []byte(`{"name":"other","plugins":[{"type":"bridge"}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	// An older Knitter configuration is Knitter's own: it is replaced.
	if err := os.WriteFile(filepath.Join(c.ConfDir, defaultConfName), []byte(`{"plugins":[{"type":"knitter","agentSocket":"/old"}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := installCNI(c); err != nil {
		t.Fatal(err)
	}
	bin, err := os.Stat(filepath.Join(c.BinDir, pluginName))
	if err != nil || bin.Mode().Perm() != 0o755 {
		t.Fatalf("plugin binary: %v %v", bin, err)
	}
	if b, _ := os.ReadFile(filepath.Join(c.BinDir, pluginName)); string(b) != "#!plugin v2" {
		t.Fatalf("plugin content %q", b)
	}
	raw, err := os.ReadFile(filepath.Join(c.ConfDir, defaultConfName))
	if err != nil {
		t.Fatal(err)
	}
	var conf struct {
		Plugins []map[string]string `json:"plugins"`
	}
	if err := json.Unmarshal(raw, &conf); err != nil || len(conf.Plugins) != 1 || conf.Plugins[0]["type"] != "knitter" || conf.Plugins[0]["agentSocket"] != "/run/knitter/agent.sock" {
		t.Fatalf("conflist %s (%v)", raw, err)
	}
	if b, _ := os.ReadFile(other); !strings.Contains(string(b), "bridge") {
		t.Fatalf("another plugin's configuration changed: %s", b)
	}
	for _, dir := range []string{c.BinDir, c.ConfDir} {
		ents, _ := os.ReadDir(dir)
		for _, e := range ents {
			if strings.Contains(e.Name(), ".tmp-") {
				t.Errorf("temporary file left: %s/%s", dir, e.Name())
			}
		}
	}

	if err := uninstallCNI(c); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{filepath.Join(c.BinDir, pluginName), filepath.Join(c.ConfDir, defaultConfName)} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s still there after uninstall (%v)", p, err)
		}
	}
	if _, err := os.Stat(other); err != nil {
		t.Errorf("uninstall removed another plugin's configuration: %v", err)
	}
	if err := uninstallCNI(c); err != nil {
		t.Errorf("a second uninstall: %v", err)
	}
}

func TestInstallCNIRefusesAForeignFileOfItsName(t *testing.T) {
	c := cniDirs(t)
	foreign := filepath.Join(c.ConfDir, defaultConfName)
	const body = `{"name":"calico","plugins":[{"type":"calico"}]}`
	if err := os.WriteFile(foreign, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	err := installCNI(c)
	if err == nil || !strings.Contains(err.Error(), "not Knitter's") || !strings.Contains(err.Error(), "--cni-conf-name") {
		t.Fatalf("install over a foreign file: %v", err)
	}
	if err := uninstallCNI(c); err == nil {
		t.Fatal("uninstall removed a foreign file")
	}
	if b, _ := os.ReadFile(foreign); string(b) != body {
		t.Fatalf("foreign file changed: %s", b)
	}
	if _, err := os.Stat(filepath.Join(c.BinDir, pluginName)); !os.IsNotExist(err) {
		t.Fatalf("the plugin was installed although the configuration was refused (%v)", err)
	}
}

func TestCNIConfigValidation(t *testing.T) {
	base := Config{NodeName: "n", Manager: ManagerConfig{URL: "https://m:9527"}}
	for name, tc := range map[string]struct {
		cni       CNIConfig
		inCluster bool
		want      string
	}{
		"bin without conf":  {cni: CNIConfig{BinDir: "/b"}, want: "go together"},
		"bad conf name":     {cni: CNIConfig{BinDir: "/b", ConfDir: "/c", ConfName: "x.json"}, want: "ending in .conflist"},
		"bad daemonset ref": {cni: CNIConfig{BinDir: "/b", ConfDir: "/c", UninstallWith: "agent"}, inCluster: true, want: "namespace/name"},
		"ref without api":   {cni: CNIConfig{BinDir: "/b", ConfDir: "/c", UninstallWith: "ns/agent"}, want: "in_cluster"},
	} {
		c := base
		c.CNI, c.InCluster = tc.cni, tc.inCluster
		if err := c.validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error with %q", name, err, tc.want)
		}
	}
	c := base
	c.CNI = CNIConfig{BinDir: "/b", ConfDir: "/c"}
	if err := c.defaults(); err != nil {
		t.Fatal(err)
	}
	if c.CNI.ConfName != defaultConfName || c.CNI.PluginSocket != c.Socket || filepath.Base(c.CNI.Plugin) != "knitter-plugin" {
		t.Fatalf("defaults %+v", c.CNI)
	}
}
