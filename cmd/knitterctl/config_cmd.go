package main

import (
	"github.com/spf13/cobra"
)

// effective is `knitterctl config`'s output: the settings in use, the token redacted.
type effective struct {
	ConfigFile   string `json:"config_file,omitempty"`
	ConfigStatus string `json:"config_status"`
	Server       string `json:"server"`
	ServerSource string `json:"server_source"`
	Token        string `json:"token,omitempty"`
	TokenSource  string `json:"token_source,omitempty"`
	CAFile       string `json:"ca_file,omitempty"`
	CASource     string `json:"ca_file_source,omitempty"`
	Tenant       string `json:"tenant,omitempty"`
	TenantSource string `json:"tenant_source,omitempty"`
	Insecure     bool   `json:"insecure_skip_tls_verify,omitempty"`
	Timeout      string `json:"timeout"`
}

func effectiveOf(s *Settings) effective {
	return effective{
		ConfigFile: s.ConfigFile, ConfigStatus: s.ConfigStatus,
		Server: s.Server, ServerSource: s.ServerSource,
		Token: redact(s.Token), TokenSource: s.TokenSource,
		CAFile: s.CAFile, CASource: s.CASource,
		Tenant: s.Tenant, TenantSource: s.TenantSource,
		Insecure: s.Insecure, Timeout: s.Timeout.String(),
	}
}

func settingsTable(e effective) *table {
	t := &table{header: []string{"SETTING", "VALUE", "SOURCE"}}
	t.add("config file", e.ConfigFile, e.ConfigStatus)
	t.add("server", e.Server, e.ServerSource)
	if e.Token == "" {
		t.add("token", "(none)", "")
	} else {
		t.add("token", e.Token, e.TokenSource)
	}
	ca := e.CAFile
	switch {
	case e.Insecure:
		ca = "(not verified: --insecure-skip-tls-verify)"
	case ca == "":
		ca = "(system roots)"
	}
	t.add("ca file", ca, e.CASource)
	t.add("tenant", e.Tenant, e.TenantSource)
	t.add("timeout", e.Timeout, "")
	return t
}

func configCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "config",
		Short: "Print the effective connection settings and where each comes from (token redacted)",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			s, err := a.resolve()
			if err != nil {
				return err
			}
			e := effectiveOf(s)
			return a.emit(e, func() *table { return settingsTable(e) })
		},
	}
}
