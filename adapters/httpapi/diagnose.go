package httpapi

import (
	"encoding"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"sync"

	"github.com/knitter-cni/knitter/core/model"
)

var (
	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// diagnose walks raw against type t and returns the first problem found, with its JSON path, or nil.
// It mirrors encoding/json's rules: field names match case-insensitively, null is always accepted,
// and types with their own (text) unmarshalling decide for themselves.
func diagnose(raw []byte, t reflect.Type, path string) *model.Error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if string(trimSpace(raw)) == "null" {
		return nil
	}
	pt := reflect.PointerTo(t)
	switch {
	case pt.Implements(jsonUnmarshaler):
		if err := json.Unmarshal(raw, reflect.New(t).Interface()); err != nil {
			return model.Invalid(path, "%s", trimJSONPrefix(err.Error()))
		}
		return nil
	case pt.Implements(textUnmarshaler):
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return typeError(path, "a string", raw)
		}
		if err := reflect.New(t).Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(s)); err != nil {
			return model.Invalid(path, "%q is not a valid %s: %v", s, textKind(t), err)
		}
		return nil
	}
	switch t.Kind() {
	case reflect.Struct:
		return diagnoseObject(raw, t, path)
	case reflect.Map:
		var obj map[string]json.RawMessage
		if json.Unmarshal(raw, &obj) != nil {
			return typeError(path, "an object", raw)
		}
		for _, k := range sortedKeys(obj) {
			if e := diagnose(obj[k], t.Elem(), joinPath(path, k)); e != nil {
				return e
			}
		}
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return leaf(raw, t, path, "base64 text")
		}
		var arr []json.RawMessage
		if json.Unmarshal(raw, &arr) != nil {
			return typeError(path, "an array", raw)
		}
		for i, el := range arr {
			if e := diagnose(el, t.Elem(), fmt.Sprintf("%s[%d]", path, i)); e != nil {
				return e
			}
		}
	case reflect.String:
		return leaf(raw, t, path, "a string")
	case reflect.Bool:
		return leaf(raw, t, path, "true or false")
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		bits := t.Bits()
		return leaf(raw, t, path, fmt.Sprintf("an integer from %d to %d", int64(-1)<<(bits-1), int64(math.MaxInt64>>(64-bits))))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return leaf(raw, t, path, fmt.Sprintf("an integer from 0 to %d", uint64(math.MaxUint64>>(64-t.Bits()))))
	case reflect.Float32, reflect.Float64:
		return leaf(raw, t, path, "a number")
	}
	return nil
}

// leaf checks a scalar by decoding it; want describes the expected value in the error.
func leaf(raw []byte, t reflect.Type, path, want string) *model.Error {
	if json.Unmarshal(raw, reflect.New(t).Interface()) != nil {
		return typeError(path, want, raw)
	}
	return nil
}

func diagnoseObject(raw []byte, t reflect.Type, path string) *model.Error {
	var obj map[string]json.RawMessage
	if json.Unmarshal(raw, &obj) != nil {
		return typeError(path, "an object", raw)
	}
	fields := fieldsOf(t)
	for _, k := range sortedKeys(obj) {
		f, ok := fields.lookup(k)
		if !ok {
			return unknownField(joinPath(path, k), k, fields.names)
		}
		if e := diagnose(obj[k], f.typ, joinPath(path, f.name)); e != nil {
			return e
		}
	}
	return nil
}

func unknownField(path, key string, known []string) *model.Error {
	if s := suggest(key, known); s != "" {
		return model.Invalid(path, "unknown field; did you mean %q?", s)
	}
	return model.Invalid(path, "unknown field; the fields here are %s", strings.Join(known, ", "))
}

func typeError(path, want string, raw []byte) *model.Error {
	got := jsonKind(trimSpace(raw))
	if v := trimSpace(raw); len(v) <= 40 {
		got += " " + string(v)
	}
	return model.Invalid(path, "expects %s, got %s", want, got)
}

// jsonKind names the kind of a JSON value by its first byte.
func jsonKind(v []byte) string {
	if len(v) == 0 {
		return "nothing"
	}
	switch v[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

// textKind names what a text-unmarshalled type holds, for error messages.
func textKind(t reflect.Type) string {
	switch t.String() {
	case "netip.Addr":
		return "IP address (such as \"10.1.0.5\" or \"fd00::5\")"
	case "netip.Prefix":
		return "prefix (such as \"10.1.0.0/16\" or \"fd00:10::/64\")"
	case "model.MAC":
		return "MAC address (such as \"02:00:00:00:00:01\")"
	}
	return t.Name()
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func trimSpace(b []byte) []byte {
	return []byte(strings.TrimSpace(string(b)))
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// jsonField is one JSON field of a struct type.
type jsonField struct {
	name string
	typ  reflect.Type
}

// structFields are the JSON fields of a struct type, embedded structs flattened.
type structFields struct {
	byName map[string]jsonField
	names  []string // sorted, for messages
}

// lookup finds a field as encoding/json does: exact name first, then case-insensitively.
func (f *structFields) lookup(key string) (jsonField, bool) {
	if fl, ok := f.byName[key]; ok {
		return fl, true
	}
	for _, n := range f.names {
		if strings.EqualFold(n, key) {
			return f.byName[n], true
		}
	}
	return jsonField{}, false
}

var fieldCache sync.Map // reflect.Type -> *structFields

func fieldsOf(t reflect.Type) *structFields {
	if f, ok := fieldCache.Load(t); ok {
		return f.(*structFields)
	}
	f := &structFields{byName: map[string]jsonField{}}
	collectFields(t, f)
	slices.Sort(f.names)
	fieldCache.Store(t, f)
	return f
}

func collectFields(t reflect.Type, out *structFields) {
	for i := range t.NumField() {
		sf := t.Field(i)
		tag := sf.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		ft := sf.Type
		if sf.Anonymous && name == "" {
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				collectFields(ft, out)
				continue
			}
		}
		if !sf.IsExported() {
			continue
		}
		if name == "" {
			name = sf.Name
		}
		if _, dup := out.byName[name]; dup {
			continue // the shallower field wins, as in encoding/json
		}
		out.byName[name] = jsonField{name: name, typ: ft}
		out.names = append(out.names, name)
	}
}
