package main

import (
	"errors"
	"strings"

	"github.com/spf13/cobra"

	"github.com/knitter-cni/knitter/adapters/httpapi"
	"github.com/knitter-cni/knitter/core/model"
)

// do wraps a command that talks to the manager: it builds the client from the resolved
// connection settings and hands it over.
func (a *app) do(fn func(cmd *cobra.Command, cl *httpapi.Client, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		cl, err := a.client()
		if err != nil {
			return err
		}
		return fn(cmd, cl, args)
	}
}

// flagErr renames the field of a validation error from the model's JSON path to the flag that
// set it ("ipv4.ranges[1]" → "--range"), so the message points at what the user typed. Fields
// without a flag keep their path.
func flagErr(err error, flags map[string]string) error {
	var e *model.Error
	if err == nil || !errors.As(err, &e) {
		return err
	}
	for f := e.Field; f != ""; f = parentField(f) {
		if name, ok := flags[f]; ok {
			c := *e
			c.Field = name
			return &c
		}
	}
	return err
}

// parentField drops the last element of a field path: "a.b[2]" → "a.b" → "a".
func parentField(f string) string {
	if strings.HasSuffix(f, "]") {
		if i := strings.LastIndexByte(f, '['); i >= 0 {
			return f[:i]
		}
	}
	if i := strings.LastIndexByte(f, '.'); i >= 0 {
		return f[:i]
	}
	return ""
}
