package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/knitter-cni/knitter/adapters/httpapi"
	"github.com/knitter-cni/knitter/core/model"
)

func tokenCmd(a *app) *cobra.Command {
	cmd := group("token", "API tokens: admin, system (agents, monitor) and per-tenant (admin token)", "tokens")
	cmd.AddCommand(
		&cobra.Command{
			Use:   "get [ID]",
			Short: "List tokens (never their secrets), or show one",
			RunE: a.do(func(cmd *cobra.Command, cl *httpapi.Client, args []string) error {
				id, err := optArg(args, "ID")
				if err != nil {
					return err
				}
				if id == "" {
					ts, err := cl.ListTokens(cmd.Context())
					if err != nil {
						return err
					}
					return a.emit(httpapi.TokenList{Tokens: ts}, func() *table { return tokenTable(ts) })
				}
				t, err := cl.GetToken(cmd.Context(), id)
				if err != nil {
					return err
				}
				return a.emit(t, func() *table { return tokenTable([]httpapi.TokenInfo{t}) })
			}),
		},
		&cobra.Command{
			Use:   "describe ID",
			Short: "Show one token record",
			RunE: a.do(func(cmd *cobra.Command, cl *httpapi.Client, args []string) error {
				id, err := oneArg(args, "ID")
				if err != nil {
					return err
				}
				t, err := cl.GetToken(cmd.Context(), id)
				if err != nil {
					return err
				}
				if a.flags.output != outTable {
					return encode(a.out, a.flags.output, t)
				}
				return describeToken(a.out, t)
			}),
		},
		tokenCreateCmd(a),
		&cobra.Command{
			Use:     "delete ID",
			Aliases: []string{"revoke"},
			Short:   "Revoke a token",
			RunE: a.do(func(cmd *cobra.Command, cl *httpapi.Client, args []string) error {
				id, err := oneArg(args, "ID")
				if err != nil {
					return err
				}
				if err := cl.DeleteToken(cmd.Context(), id); err != nil {
					return err
				}
				return a.done(nil, "token %s deleted", id)
			}),
		},
	)
	return cmd
}

func tokenCreateCmd(a *app) *cobra.Command {
	var role, file string
	cmd := &cobra.Command{
		Use:   "create ID --role admin|system|tenant [--tenant TENANT] | -f FILE",
		Short: "Create a token and print its secret, which is shown only this once",
		Long: `Create a token and print its bearer string on stdout, alone, so that it can be captured:

  TOKEN=$(knitterctl token create acme-ops --role tenant --tenant acme)

The manager keeps only a hash: the secret cannot be shown again (delete and re-create instead).`,
		RunE: a.do(func(cmd *cobra.Command, cl *httpapi.Client, args []string) error {
			var req httpapi.TokenRequest
			if file != "" {
				if err := fileExcludes(cmd, args, "role"); err != nil {
					return err
				}
				if err := a.readObject(file, &req); err != nil {
					return err
				}
			} else {
				id, err := oneArg(args, "ID")
				if err != nil {
					return err
				}
				if req, err = a.tokenRequest(cmd, id, role); err != nil {
					return err
				}
			}
			out, err := cl.CreateToken(cmd.Context(), req)
			if err != nil {
				return err
			}
			if a.flags.output != outTable {
				return encode(a.out, a.flags.output, out)
			}
			scope := "role " + string(out.Role)
			if out.Tenant != "" {
				scope += ", tenant " + out.Tenant
			}
			fmt.Fprintf(a.err, "token %s created (%s); its secret is shown only now:\n", out.ID, scope)
			_, err = fmt.Fprintln(a.out, out.Token)
			return err
		}),
	}
	cmd.Flags().StringVar(&role, "role", "", "admin, system (knitter-agent, knitter-monitor) or tenant")
	addFileFlag(cmd, &file, "token request")
	return cmd
}

// tokenRequest builds the request of the flags. A tenant token's tenant is --tenant (or the default
// tenant); other roles take a tenant only from an explicit --tenant, which the manager refuses.
func (a *app) tokenRequest(cmd *cobra.Command, id, role string) (httpapi.TokenRequest, error) {
	req := httpapi.TokenRequest{ID: id, Role: model.Role(role)}
	switch req.Role {
	case "":
		return req, usageErr("--role", "is missing; give admin, system or tenant")
	case model.RoleTenant:
		t, err := a.defaultTenant()
		if err != nil {
			return req, err
		}
		if t == "" {
			return req, usageErr("--tenant", "is missing; a tenant token needs its tenant")
		}
		req.Tenant = t
	case model.RoleAdmin, model.RoleSystem:
		if cmd.Flags().Changed("tenant") {
			req.Tenant = a.flags.tenant
		}
	default:
		return req, usageErr("--role", "%q is not a role; use admin, system or tenant", role)
	}
	return req, nil
}
