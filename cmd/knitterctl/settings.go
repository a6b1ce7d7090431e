package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/knitter-cni/knitter/adapters/httpapi"
	"github.com/knitter-cni/knitter/core/model"
)

// defaultServer is where knitter-manager listens unless told otherwise.
const defaultServer = "https://127.0.0.1:9527"

// Environment variables knitterctl reads. A flag overrides its variable, and a variable overrides
// the config file.
const (
	envServer    = "KNITTER_SERVER"
	envToken     = "KNITTER_TOKEN"
	envTokenFile = "KNITTER_TOKEN_FILE"
	envCAFile    = "KNITTER_CA_FILE"
	envTenant    = "KNITTER_TENANT"
	envConfig    = "KNITTER_CONFIG"
)

// fileConfig is the config file, ~/.config/knitter/config.yaml by default. Relative paths in it
// are relative to the file's directory.
type fileConfig struct {
	Server    string `json:"server,omitempty"`
	Token     string `json:"token,omitempty"`
	TokenFile string `json:"token_file,omitempty"`
	CAFile    string `json:"ca_file,omitempty"`
	Tenant    string `json:"tenant,omitempty"`
}

// Settings are the effective connection settings, each with the place it came from ("flag
// --server", "env KNITTER_TOKEN", "config /path", "default"), for `knitterctl config`.
type Settings struct {
	ConfigFile   string
	ConfigStatus string // "loaded", "not found" or "none"
	Server       string
	ServerSource string
	Token        string
	TokenSource  string
	CAFile       string
	CASource     string
	Tenant       string
	TenantSource string
	Insecure     bool
	Timeout      time.Duration
	// PageSize is how many items each request of a list asks for; lists read every page.
	PageSize int
}

// source is one candidate value of a setting and where it came from.
type source struct{ from, value string }

func firstSet(candidates ...source) source {
	for _, c := range candidates {
		if c.value != "" {
			return c
		}
	}
	return source{}
}

// resolveSettings applies the precedence flag > environment > config file > default.
func resolveSettings(f globalFlags, env Env) (*Settings, error) {
	s := &Settings{Insecure: f.insecure, Timeout: f.timeout, PageSize: f.pageSize}
	if f.timeout <= 0 {
		return nil, usageErr("--timeout", "%s is not a positive duration; give one such as 10s", f.timeout)
	}
	if f.pageSize < 0 || f.pageSize > httpapi.MaxPageSize {
		return nil, usageErr("--page-size", "%d is not a page size; give 1 to %d", f.pageSize, httpapi.MaxPageSize)
	}
	file, err := loadFileConfig(f, env, s)
	if err != nil {
		return nil, err
	}
	cfgFrom := "config " + s.ConfigFile

	server := firstSet(source{"flag --server", f.server}, source{"env " + envServer, env.Getenv(envServer)},
		source{cfgFrom, file.Server}, source{"default", defaultServer})
	if s.Server, err = checkServer(server); err != nil {
		return nil, err
	}
	s.ServerSource = server.from

	if s.Token, s.TokenSource, err = resolveToken(f, env, file, cfgFrom); err != nil {
		return nil, err
	}

	ca := firstSet(source{"flag --ca-file", f.caFile}, source{"env " + envCAFile, env.Getenv(envCAFile)},
		source{cfgFrom, file.CAFile})
	switch {
	case f.insecure && f.caFile != "":
		return nil, usageErr("--insecure-skip-tls-verify", "cannot be combined with --ca-file; pass one or the other")
	case f.insecure:
		// The flag overrides a CA from the environment or the file for this one call.
	default:
		s.CAFile, s.CASource = ca.value, ca.from
	}

	tenant := firstSet(source{"flag --tenant", f.tenant}, source{"env " + envTenant, env.Getenv(envTenant)},
		source{cfgFrom, file.Tenant})
	if tenant.value != "" {
		if err := model.ValidateName(tenant.from, tenant.value); err != nil {
			return nil, err
		}
	}
	s.Tenant, s.TenantSource = tenant.value, tenant.from
	return s, nil
}

// loadFileConfig reads the config file: --config, else KNITTER_CONFIG, else the default path,
// which may be missing.
func loadFileConfig(f globalFlags, env Env, s *Settings) (fileConfig, error) {
	var c fileConfig
	path := firstSet(source{"flag --config", f.config}, source{"env " + envConfig, env.Getenv(envConfig)})
	explicit := path.value != ""
	if !explicit {
		dir, err := env.ConfigDir()
		if err != nil || dir == "" {
			s.ConfigStatus = "none"
			return c, nil
		}
		path = source{"config", filepath.Join(dir, "knitter", "config.yaml")}
	}
	s.ConfigFile = path.value
	raw, err := os.ReadFile(path.value)
	switch {
	case errors.Is(err, os.ErrNotExist) && !explicit:
		s.ConfigStatus = "not found"
		return c, nil
	case err != nil:
		return c, usageErr(path.from, "cannot read the config file: %v", err)
	}
	j, err := yaml.YAMLToJSON(raw)
	if err != nil {
		return c, usageErr(path.from, "%s is not YAML: %v", path.value, err)
	}
	dec := json.NewDecoder(bytes.NewReader(j))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return c, usageErr(path.from, "%s: %s; the keys are server, token, token_file, ca_file and tenant",
			path.value, strings.TrimPrefix(err.Error(), "json: "))
	}
	dir := filepath.Dir(path.value)
	for _, p := range []*string{&c.TokenFile, &c.CAFile} {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(dir, *p)
		}
	}
	s.ConfigStatus = "loaded"
	return c, nil
}

// checkServer validates the manager URL; a bare host:port means https.
func checkServer(src source) (string, error) {
	v := strings.TrimSpace(src.value)
	if !strings.Contains(v, "://") {
		v = "https://" + v
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
		return "", usageErr(src.from, "%q is not a manager URL; give one such as %q", src.value, defaultServer)
	}
	return strings.TrimRight(v, "/"), nil
}

// resolveToken picks the token of the first place that gives one: flags, environment, config
// file. Each place may give the token itself or a file holding it, not both.
func resolveToken(f globalFlags, env Env, file fileConfig, cfgFrom string) (token, from string, err error) {
	levels := []struct{ token, file source }{
		{source{"flag --token", f.token}, source{"flag --token-file", f.tokenFile}},
		{source{"env " + envToken, env.Getenv(envToken)}, source{"env " + envTokenFile, env.Getenv(envTokenFile)}},
		{source{cfgFrom + " (token)", file.Token}, source{cfgFrom + " (token_file)", file.TokenFile}},
	}
	for _, l := range levels {
		switch {
		case l.token.value != "" && l.file.value != "":
			return "", "", usageErr(l.token.from, "is given together with %s; give the token or its file, not both", l.file.from)
		case l.token.value != "":
			return strings.TrimSpace(l.token.value), l.token.from, nil
		case l.file.value != "":
			tok, err := readTokenFile(l.file)
			return tok, l.file.from + ": " + l.file.value, err
		}
	}
	return "", "", nil
}

func readTokenFile(src source) (string, error) {
	b, err := os.ReadFile(src.value)
	if err != nil {
		return "", usageErr(src.from, "cannot read the token file: %v", err)
	}
	tok := strings.TrimSpace(string(b))
	if tok == "" {
		return "", usageErr(src.from, "%s is empty; it should hold one bearer token", src.value)
	}
	return tok, nil
}

// redact hides a token's secret: "acme-ops.<redacted>" for "<id>.<secret>" tokens.
func redact(token string) string {
	if token == "" {
		return ""
	}
	if id, _, ok := strings.Cut(token, "."); ok && id != "" {
		return id + ".<redacted>"
	}
	return "<redacted>"
}
