package netspec

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/knitter-cni/knitter/core/model"
)

// member is one key of a JSON object with its raw value.
type member struct {
	key string
	val json.RawMessage
}

// parseJSON checks that value is one JSON value and returns it raw. Syntax errors carry the byte
// offset, which is what a user needs to find a missing comma in a long annotation.
func parseJSON(value string) (json.RawMessage, error) {
	var raw json.RawMessage
	if err := json.Unmarshal([]byte(value), &raw); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, model.Invalid("", "is not valid JSON (%s at byte %d); check the quotes, commas and brackets", se.Error(), se.Offset)
		}
		return nil, model.Invalid("", "is not valid JSON (%v); check the quotes, commas and brackets", err)
	}
	return raw, nil
}

// members splits a JSON object into its members in the order written, so that errors about them are
// reported in a stable order. Duplicate keys are an error: encoding/json would silently keep the
// last one, and a pod that names "interface" twice should not get whichever came last.
func members(raw json.RawMessage, example string) ([]member, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, model.Invalid("", "must be a JSON object such as %s", example)
	}
	var out []member
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, model.Invalid("", "is not valid JSON (%v)", err)
		}
		key, _ := tok.(string) // object keys are always strings once the value is valid JSON
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, model.Invalid(keyField(key), "is not valid JSON (%v)", err)
		}
		if seen[key] {
			return nil, model.Invalid(keyField(key), "is given twice; keep one")
		}
		seen[key] = true
		out = append(out, member{key, v})
	}
	return out, nil
}

// list splits a JSON array into its elements.
func list(raw json.RawMessage, example string) ([]json.RawMessage, error) {
	if isNull(raw) {
		return nil, nil
	}
	var l []json.RawMessage
	if err := json.Unmarshal(raw, &l); err != nil {
		return nil, model.Invalid("", "must be a JSON list such as %s", example)
	}
	return l, nil
}

// isNull reports whether raw is JSON null, which the parsers treat as an absent key.
func isNull(raw json.RawMessage) bool { return string(bytes.TrimSpace(raw)) == "null" }

// str decodes a JSON string; null is "".
func str(field string, raw json.RawMessage, example string) (string, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", model.Invalid(field, "must be a string such as %q", example)
	}
	return s, nil
}

// strList decodes a JSON list of strings; null is an empty list.
func strList(field string, raw json.RawMessage, example string) ([]string, error) {
	elems, err := list(raw, example)
	if err != nil {
		return nil, model.Prefix(field, err)
	}
	out := make([]string, len(elems))
	for i, e := range elems {
		var s string
		if err := json.Unmarshal(e, &s); err != nil || isNull(e) {
			return nil, model.Invalid(fmt.Sprintf("%s[%d]", field, i), "must be a string; write the list as %s", example)
		}
		out[i] = s
	}
	return out, nil
}

// flag decodes Knitter's boolean attributes, which the original Knitter wrote as the strings "true"
// and "false"; JSON booleans are accepted too, and "" or null mean false.
func flag(field string, raw json.RawMessage) (bool, error) {
	var b bool
	if json.Unmarshal(raw, &b) == nil {
		return b, nil
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		switch s {
		case "true":
			return true, nil
		case "false", "":
			return false, nil
		}
	}
	return false, model.Invalid(field, "is %s; use \"true\" or \"false\"", clip(raw))
}

// clip returns raw JSON short enough to quote in an error message.
func clip(raw json.RawMessage) string {
	const limit = 40
	s := string(bytes.TrimSpace(raw))
	if len(s) > limit {
		i := limit
		for i > 0 && !utf8.RuneStart(s[i]) {
			i--
		}
		return s[:i] + "…"
	}
	return s
}

// keyField is the field path of an object key: a plain key as is, anything else quoted, so that a
// path stays readable and unambiguous whatever the user typed.
func keyField(key string) string {
	plain := key != ""
	for i := 0; i < len(key); i++ {
		c := key[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			plain = false
			break
		}
	}
	if plain {
		return key
	}
	return fmt.Sprintf("[%q]", key)
}

// unknownKey is the error for a key the format does not define. It suggests the nearest known key,
// because most unknown keys are typos ("interfce", "nic_nmae").
func unknownKey(key, what string, known []string) error {
	msg := fmt.Sprintf("is not %s", what)
	if s := nearest(key, known); s != "" {
		msg += fmt.Sprintf("; did you mean %q?", s)
	} else {
		msg += fmt.Sprintf("; use one of %s", strings.Join(known, ", "))
	}
	return model.Invalid(keyField(key), "%s", msg)
}

// nearest returns the known key closest to key when it is close enough to be a likely typo.
func nearest(key string, known []string) string {
	if len(key) > 64 {
		return ""
	}
	best, bestD := "", 3 // at most two edits away
	lower := strings.ToLower(key)
	for _, k := range known {
		if d := editDistance(lower, k); d < bestD {
			best, bestD = k, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance of two short strings.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
