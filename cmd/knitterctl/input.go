package main

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"
)

// maxFileBytes bounds a -f file; the largest body (an IP group of 4096 addresses) is far smaller.
const maxFileBytes = 1 << 20

// addFileFlag adds -f to a create command.
func addFileFlag(cmd *cobra.Command, file *string, what string) {
	cmd.Flags().StringVarP(file, "filename", "f", "", "read the "+what+" from this YAML or JSON file ('-' for stdin) instead of flags")
}

// readObject decodes the YAML or JSON file (or stdin for "-") into v strictly: an unknown or
// misspelt field is an error that names it.
func (a *app) readObject(path string, v any) error {
	var r io.Reader = a.in
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return usageErr("-f", "cannot read %s: %v", path, err)
		}
		defer f.Close()
		r = f
	}
	raw, err := io.ReadAll(io.LimitReader(r, maxFileBytes+1))
	if err != nil {
		return usageErr("-f", "reading %s: %v", path, err)
	}
	if len(raw) > maxFileBytes {
		return usageErr("-f", "%s is larger than %d bytes", path, maxFileBytes)
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return usageErr("-f", "%s is empty", path)
	}
	j, err := yaml.YAMLToJSON(raw)
	if err != nil {
		return usageErr("-f", "%s is not YAML or JSON: %v", path, err)
	}
	dec := json.NewDecoder(bytes.NewReader(j))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		msg := strings.TrimPrefix(err.Error(), "json: ")
		if strings.Contains(msg, "cannot unmarshal bool into") {
			// YAML 1.1 reads y, n, yes, no, on and off as booleans.
			msg += `; quote names such as "no" or "on" that YAML reads as booleans`
		}
		return usageErr("-f", "%s: %s", path, msg)
	}
	return nil
}

// fileExcludes refuses -f together with the flags that set the same fields.
func fileExcludes(cmd *cobra.Command, args []string, fields ...string) error {
	if len(args) > 0 {
		return usageErr("-f", "the file names the object; drop the argument %q", args[0])
	}
	for _, f := range fields {
		if cmd.Flags().Changed(f) {
			return usageErr("-f", "cannot be combined with --%s; put the field in the file", f)
		}
	}
	return nil
}
