package main

import (
	"crypto/tls"
	"os"
	"time"

	"github.com/knitter-cni/knitter/adapters/httpapi"
	"github.com/knitter-cni/knitter/core/model"
)

// Env is what knitterctl reads from its environment besides flags: variables and the user's
// configuration directory. Tests pass their own.
type Env struct {
	Getenv func(string) string
	// ConfigDir returns the directory that holds knitter/config.yaml ($XDG_CONFIG_HOME or ~/.config).
	ConfigDir func() (string, error)
}

func osEnv() Env { return Env{Getenv: os.Getenv, ConfigDir: os.UserConfigDir} }

// globalFlags are the persistent flags of every command.
type globalFlags struct {
	config    string
	server    string
	token     string
	tokenFile string
	caFile    string
	insecure  bool
	timeout   time.Duration
	pageSize  int
	tenant    string
	output    string
}

// app is one knitterctl invocation: its streams, flags and, once a command needs them, its
// resolved connection settings and API client.
type app struct {
	streams
	env   Env
	flags globalFlags
	// ran is set once a command's own code starts; an error before that is a usage error.
	ran bool

	settings *Settings
	cl       *httpapi.Client
}

// resolve returns the connection settings, reading the environment and the config file once.
func (a *app) resolve() (*Settings, error) {
	if a.settings == nil {
		s, err := resolveSettings(a.flags, a.env)
		if err != nil {
			return nil, err
		}
		a.settings = s
	}
	return a.settings, nil
}

// client returns the API client for the resolved settings.
func (a *app) client() (*httpapi.Client, error) {
	if a.cl != nil {
		return a.cl, nil
	}
	s, err := a.resolve()
	if err != nil {
		return nil, err
	}
	cfg := httpapi.ClientConfig{URL: s.Server, Token: s.Token, CAFile: s.CAFile, Timeout: s.Timeout, PageSize: s.PageSize}
	if s.Insecure {
		// Only for a first look at a manager whose CA is not at hand; the token still travels
		// encrypted, but to whoever answers.
		cfg.TLSConfig = &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS12}
	}
	cl, err := httpapi.NewClient(cfg)
	if err != nil {
		return nil, err
	}
	a.cl = cl
	return cl, nil
}

// defaultTenant is the tenant that bare names belong to (--tenant, KNITTER_TENANT or the config
// file's tenant), or "".
func (a *app) defaultTenant() (string, error) {
	s, err := a.resolve()
	if err != nil {
		return "", err
	}
	return s.Tenant, nil
}

// usageErr returns an invalid-input error about a flag or argument: it exits with code 2.
func usageErr(field, format string, args ...any) error {
	return model.Invalid(field, format, args...)
}
