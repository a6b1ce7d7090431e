package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// testEnv is an environment of the given variables with dir as the user's config directory.
func testEnv(dir string, vars map[string]string) Env {
	return Env{
		Getenv:    func(k string) string { return vars[k] },
		ConfigDir: func() (string, error) { return dir, nil },
	}
}

func writeFile(t *testing.T, path, content string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func flagsOf(f globalFlags) globalFlags {
	if f.timeout == 0 {
		f.timeout = 30 * time.Second
	}
	return f
}

// TestSettingsPrecedence checks flag > environment > config file > default for every setting.
func TestSettingsPrecedence(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "knitter", "config.yaml")
	writeFile(t, filepath.Join(dir, "knitter", "file.token"), "file-id.file-secret\n")
	writeFile(t, cfg, "server: https://file.example:9527\ntoken_file: file.token\nca_file: ca.crt\ntenant: filetenant\n")
	env := map[string]string{}
	resolve := func(f globalFlags) *Settings {
		t.Helper()
		s, err := resolveSettings(flagsOf(f), testEnv(dir, env))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}

	// The file alone; relative paths are the file's directory's.
	s := resolve(globalFlags{})
	want := Settings{ConfigFile: cfg, ConfigStatus: "loaded",
		Server: "https://file.example:9527", ServerSource: "config " + cfg,
		Token: "file-id.file-secret", TokenSource: "config " + cfg + " (token_file): " + filepath.Join(dir, "knitter", "file.token"),
		CAFile: filepath.Join(dir, "knitter", "ca.crt"), CASource: "config " + cfg,
		Tenant: "filetenant", TenantSource: "config " + cfg, Timeout: 30 * time.Second}
	if *s != want {
		t.Fatalf("file only:\n got %+v\nwant %+v", *s, want)
	}

	// The environment beats the file.
	env = map[string]string{envServer: "https://env.example:1", envToken: "env-token", envCAFile: "/env/ca.crt", envTenant: "envtenant"}
	s = resolve(globalFlags{})
	if s.Server != "https://env.example:1" || s.Token != "env-token" || s.TokenSource != "env KNITTER_TOKEN" ||
		s.CAFile != "/env/ca.crt" || s.Tenant != "envtenant" || s.ServerSource != "env KNITTER_SERVER" {
		t.Fatalf("env over file: %+v", *s)
	}

	// Flags beat both; a token file given by flag beats a token in the environment.
	tokFile := writeFile(t, filepath.Join(dir, "flag.token"), "  flag-id.flag-secret \n")
	s = resolve(globalFlags{server: "https://flag.example:2", tokenFile: tokFile, caFile: "/flag/ca.crt", tenant: "flagtenant"})
	if s.Server != "https://flag.example:2" || s.Token != "flag-id.flag-secret" || s.TokenSource != "flag --token-file: "+tokFile ||
		s.CAFile != "/flag/ca.crt" || s.CASource != "flag --ca-file" || s.Tenant != "flagtenant" || s.TenantSource != "flag --tenant" {
		t.Fatalf("flags over env: %+v", *s)
	}

	// --insecure-skip-tls-verify drops a CA from the environment or the file.
	s = resolve(globalFlags{insecure: true})
	if !s.Insecure || s.CAFile != "" {
		t.Fatalf("insecure: %+v", *s)
	}
}

func TestSettingsDefaults(t *testing.T) {
	dir := t.TempDir() // no config file in it
	s, err := resolveSettings(flagsOf(globalFlags{}), testEnv(dir, nil))
	if err != nil {
		t.Fatal(err)
	}
	if s.Server != defaultServer || s.ServerSource != "default" || s.Token != "" || s.ConfigStatus != "not found" ||
		s.ConfigFile != filepath.Join(dir, "knitter", "config.yaml") {
		t.Fatalf("defaults: %+v", *s)
	}
	// A bare host:port means https; a trailing slash is dropped.
	s, err = resolveSettings(flagsOf(globalFlags{server: "10.0.0.2:9527/"}), testEnv(dir, nil))
	if err != nil || s.Server != "https://10.0.0.2:9527" {
		t.Fatalf("bare host: %v %v", s, err)
	}
	// No config directory at all (no $HOME) is no config file, not an error.
	env := Env{Getenv: func(string) string { return "" }, ConfigDir: func() (string, error) { return "", errors.New("no home") }}
	if s, err = resolveSettings(flagsOf(globalFlags{}), env); err != nil || s.ConfigStatus != "none" {
		t.Fatalf("no config dir: %v %v", s, err)
	}
}

func TestSettingsConfigFileChoice(t *testing.T) {
	dir := t.TempDir()
	a := writeFile(t, filepath.Join(dir, "a.yaml"), "server: https://a:1\n")
	b := writeFile(t, filepath.Join(dir, "b.yaml"), "server: https://b:1\n")
	s, err := resolveSettings(flagsOf(globalFlags{config: a}), testEnv(dir, map[string]string{envConfig: b}))
	if err != nil || s.Server != "https://a:1" {
		t.Fatalf("--config over KNITTER_CONFIG: %v %v", s, err)
	}
	s, err = resolveSettings(flagsOf(globalFlags{}), testEnv(dir, map[string]string{envConfig: b}))
	if err != nil || s.Server != "https://b:1" || s.ConfigFile != b {
		t.Fatalf("KNITTER_CONFIG: %v %v", s, err)
	}
}

func TestSettingsErrors(t *testing.T) {
	dir := t.TempDir()
	bad := writeFile(t, filepath.Join(dir, "bad.yaml"), "servr: https://x:1\n")
	notYAML := writeFile(t, filepath.Join(dir, "tabs.yaml"), "server: [\n")
	both := writeFile(t, filepath.Join(dir, "both.yaml"), "token: a.b\ntoken_file: t\n")
	empty := writeFile(t, filepath.Join(dir, "empty.token"), "\n")
	for _, tc := range []struct {
		name        string
		f           globalFlags
		env         map[string]string
		field, want string
	}{
		{"unknown key", globalFlags{config: bad}, nil, "flag --config", `unknown field "servr"`},
		{"not yaml", globalFlags{config: notYAML}, nil, "flag --config", "is not YAML"},
		{"missing explicit file", globalFlags{config: filepath.Join(dir, "nope.yaml")}, nil, "flag --config", "cannot read the config file"},
		{"missing file from env", globalFlags{}, map[string]string{envConfig: filepath.Join(dir, "nope.yaml")}, "env " + envConfig, "cannot read"},
		{"token and token_file in the file", globalFlags{config: both}, nil, "config " + both + " (token)", "not both"},
		{"token and token file flags", globalFlags{token: "x", tokenFile: empty}, nil, "flag --token", "not both"},
		{"token and token file env", globalFlags{}, map[string]string{envToken: "x", envTokenFile: empty}, "env KNITTER_TOKEN", "not both"},
		{"empty token file", globalFlags{tokenFile: empty}, nil, "flag --token-file", "is empty"},
		{"missing token file", globalFlags{tokenFile: filepath.Join(dir, "none")}, nil, "flag --token-file", "cannot read the token file"},
		{"bad server flag", globalFlags{server: "ftp://x"}, nil, "flag --server", "is not a manager URL"},
		{"bad server env", globalFlags{}, map[string]string{envServer: "https://x:1/api"}, "env KNITTER_SERVER", "is not a manager URL"},
		{"bad tenant", globalFlags{tenant: "Acme"}, nil, "flag --tenant", "upper-case"},
		{"insecure with ca", globalFlags{insecure: true, caFile: "ca.crt"}, nil, "--insecure-skip-tls-verify", "--ca-file"},
		{"timeout", globalFlags{timeout: -time.Second}, nil, "--timeout", "not a positive duration"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := resolveSettings(flagsOf(tc.f), testEnv(dir, tc.env))
			checkInvalid(t, err, tc.field, tc.want)
		})
	}
}

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{"": "", "acme-ops.s3cr3t": "acme-ops.<redacted>", "bare-secret": "<redacted>", ".x": "<redacted>"} {
		if got := redact(in); got != want || (in != "" && strings.Contains(got, "s3cr3t")) {
			t.Errorf("redact(%q) = %q, want %q", in, got, want)
		}
	}
}
