package main

import (
	"strings"

	"github.com/knitter-cni/knitter/core/model"
)

// objectName splits the "tenant/name" argument of a tenant's object (network, IP group). A bare
// name belongs to the default tenant (--tenant, KNITTER_TENANT, or the config file's tenant).
func (a *app) objectName(kind, arg string) (tenant, name string, err error) {
	def, err := a.defaultTenant()
	if err != nil {
		return "", "", err
	}
	return splitName(kind, arg, def)
}

// splitName is objectName with the default tenant given.
func splitName(kind, arg, defaultTenant string) (tenant, name string, err error) {
	tenant, name, qualified := strings.Cut(arg, "/")
	if !qualified {
		tenant, name = defaultTenant, arg
		if tenant == "" {
			return "", "", usageErr(kind, "%q names no tenant; write tenant/%s or pass --tenant", arg, arg)
		}
	}
	if err := model.ValidateName(kind+" tenant", tenant); err != nil {
		return "", "", err
	}
	if err := model.ValidateName(kind+" name", name); err != nil {
		return "", "", err
	}
	return tenant, name, nil
}

// oneArg returns the single name argument of a command, or a usage error naming what is missing.
func oneArg(args []string, what string) (string, error) {
	switch len(args) {
	case 1:
		return args[0], nil
	case 0:
		return "", usageErr(what, "is missing; give it as the argument")
	}
	return "", usageErr(what, "give one %s, not %d arguments (%s)", what, len(args), strings.Join(args, " "))
}

// optArg returns the optional name argument of a get command: "" lists.
func optArg(args []string, what string) (string, error) {
	if len(args) == 0 {
		return "", nil
	}
	return oneArg(args, what)
}
