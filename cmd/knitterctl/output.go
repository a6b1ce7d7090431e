package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"sigs.k8s.io/yaml"
)

// The output formats of -o.
const (
	outTable = "table"
	outJSON  = "json"
	outYAML  = "yaml"
)

func checkOutput(o string) error {
	switch o {
	case outTable, outJSON, outYAML:
		return nil
	}
	return usageErr("-o", "%q is not an output format; use table, json or yaml", o)
}

// table is rows of text cells under a header, printed as aligned columns.
type table struct {
	header []string
	rows   [][]string
	// none is printed (to stderr) instead of an empty table: "No networks found."
	none string
}

// add appends a row; empty cells print as "-" so that columns stay readable.
func (t *table) add(cells ...string) {
	row := make([]string, len(cells))
	for i, c := range cells {
		if c == "" {
			c = "-"
		}
		row[i] = c
	}
	t.rows = append(t.rows, row)
}

// write prints the table with columns three spaces apart.
func (t *table) write(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 8, 3, ' ', 0)
	fmt.Fprintln(tw, strings.Join(t.header, "\t"))
	for _, r := range t.rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	return tw.Flush()
}

// emit prints v as JSON or YAML, or as the table that tbl builds.
func (a *app) emit(v any, tbl func() *table) error {
	switch a.flags.output {
	case outJSON, outYAML:
		return encode(a.out, a.flags.output, v)
	}
	t := tbl()
	if len(t.rows) == 0 && t.none != "" {
		_, err := fmt.Fprintln(a.err, t.none)
		return err
	}
	return t.write(a.out)
}

// encode writes v as indented JSON or as YAML (the same field names: YAML is made from the JSON).
func encode(w io.Writer, format string, v any) error {
	var b []byte
	var err error
	if format == outYAML {
		b, err = yaml.Marshal(v)
	} else {
		b, err = json.MarshalIndent(v, "", "  ")
		b = append(b, '\n')
	}
	if err != nil {
		return fmt.Errorf("encoding the answer as %s: %w", format, err)
	}
	_, err = w.Write(b)
	return err
}

// done reports a change: "network demo/net1 created" in table output, the object itself (if any)
// in JSON or YAML.
func (a *app) done(v any, format string, args ...any) error {
	if a.flags.output != outTable && v != nil {
		return encode(a.out, a.flags.output, v)
	}
	_, err := fmt.Fprintf(a.out, format+"\n", args...)
	return err
}

// details prints a describe view: "Key:  value" lines, aligned per block, nested by indentation.
type details struct {
	tw *tabwriter.Writer
}

func newDetails(w io.Writer) *details { return &details{tw: tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)} }

// line prints one key and its value at an indentation depth.
func (d *details) line(depth int, key string, value any) {
	s := fmt.Sprint(value)
	if s == "" {
		s = "-"
	}
	fmt.Fprintf(d.tw, "%s%s:\t%s\n", strings.Repeat("  ", depth), key, s)
}

// section starts a nested block.
func (d *details) section(depth int, key string) {
	fmt.Fprintf(d.tw, "%s%s:\n", strings.Repeat("  ", depth), key)
}

// table prints t indented under the current section, or none if it is empty.
func (d *details) table(depth int, t *table, none string) error {
	if len(t.rows) == 0 {
		fmt.Fprintf(d.tw, "%s%s\n", strings.Repeat("  ", depth), none)
		return nil
	}
	var b strings.Builder
	if err := t.write(&b); err != nil {
		return err
	}
	for l := range strings.SplitSeq(strings.TrimSuffix(b.String(), "\n"), "\n") {
		// A line without tabs is one cell: the outer tabwriter passes it through as it is.
		fmt.Fprintf(d.tw, "%s%s\n", strings.Repeat("  ", depth), l)
	}
	return nil
}

func (d *details) flush() error { return d.tw.Flush() }

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
