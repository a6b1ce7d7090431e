package main

import (
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/knitter-cni/knitter/adapters/httpapi"
)

func newRoot(a *app) *cobra.Command {
	root := &cobra.Command{
		Use:   "knitterctl",
		Short: "Operate Knitter: tenants, networks, IP groups, pods' ports, nodes and tokens",
		Long: `knitterctl talks to knitter-manager's REST API.

Objects of a tenant are named tenant/name (a bare name belongs to --tenant). The connection comes
from flags, then the environment (KNITTER_SERVER, KNITTER_TOKEN, KNITTER_TOKEN_FILE, KNITTER_CA_FILE,
KNITTER_TENANT), then the config file (~/.config/knitter/config.yaml, --config or KNITTER_CONFIG).

Exit codes: 0 success, 1 failure, 2 usage or invalid input, 3 not found, 4 conflict (exists, in
use, exhausted, quota), 5 manager unavailable (retry).`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(*cobra.Command, []string) error {
			a.ran = true
			return checkOutput(a.flags.output)
		},
	}
	root.SetIn(a.in)
	root.SetOut(a.out)
	root.SetErr(a.err)
	root.CompletionOptions.HiddenDefaultCmd = true

	f := &a.flags
	pf := root.PersistentFlags()
	pf.StringVar(&f.server, "server", "", "knitter-manager URL (env "+envServer+"; default "+defaultServer+")")
	pf.StringVar(&f.token, "token", "", "bearer token (env "+envToken+")")
	pf.StringVar(&f.tokenFile, "token-file", "", "file holding the bearer token (env "+envTokenFile+")")
	pf.StringVar(&f.caFile, "ca-file", "", "PEM file of the CA that signed the manager's certificate (env "+envCAFile+")")
	pf.BoolVar(&f.insecure, "insecure-skip-tls-verify", false, "do not verify the manager's certificate (testing only)")
	pf.DurationVar(&f.timeout, "timeout", 30*time.Second, "bound on each request")
	pf.IntVar(&f.pageSize, "page-size", httpapi.MaxPageSize, "items per request when listing; every page is read")
	pf.StringVar(&f.config, "config", "", "config file (env "+envConfig+"; default ~/.config/knitter/config.yaml)")
	pf.StringVarP(&f.tenant, "tenant", "t", "", "tenant of bare names, and the tenant lists are narrowed to (env "+envTenant+")")
	pf.StringVarP(&f.output, "output", "o", outTable, "output format: table, json or yaml")

	root.AddCommand(tenantCmd(a), networkCmd(a), ipgroupCmd(a), podCmd(a), portCmd(a), nodeCmd(a),
		tokenCmd(a), configCmd(a), versionCmd(a))
	return root
}

// group returns a noun command ("network") whose verbs are its subcommands. Run alone it prints
// its help; with an unknown verb it fails as a usage error.
func group(use, short string, aliases ...string) *cobra.Command {
	return &cobra.Command{
		Use:     use,
		Short:   short,
		Aliases: aliases,
		Args:    cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return cmd.Help()
			}
			var verbs []string
			for _, c := range cmd.Commands() {
				if c.IsAvailableCommand() {
					verbs = append(verbs, c.Name())
				}
			}
			return usageErr("command", "%q is not a verb of %s; use one of %s", args[0], cmd.CommandPath(), strings.Join(verbs, ", "))
		},
	}
}
