package httpapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"

	"github.com/knitter-cni/knitter/core/model"
)

// checkDuplicateKeys refuses a body in which an object gives a key twice: encoding/json would keep
// the last value silently, so {"tenant":"a",...,"tenant":"b"} could mean different things to
// different readers. Keys of a struct's fields count as the same when they differ only in case, as
// encoding/json matches them; keys of maps are compared exactly. The error names the key's path.
// Syntax errors are left to the decoding, which describes them.
func checkDuplicateKeys(body []byte, t reflect.Type) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	return walkKeys(dec, t, "")
}

// walkKeys reads one JSON value from dec; t is its Go type, nil when unknown.
func walkKeys(dec *json.Decoder, t reflect.Type, path string) error {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t != nil {
		pt := reflect.PointerTo(t)
		if pt.Implements(jsonUnmarshaler) || pt.Implements(textUnmarshaler) {
			t = nil // decides for itself; keys are still compared exactly
		}
	}
	tok, err := dec.Token()
	if err != nil {
		return nil
	}
	switch tok {
	case json.Delim('{'):
		seen := map[string]bool{}
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return nil
			}
			key, _ := kt.(string)
			name, child := key, reflect.Type(nil)
			switch {
			case t != nil && t.Kind() == reflect.Struct:
				if f, ok := fieldsOf(t).lookup(key); ok {
					name, child = f.name, f.typ
				} else {
					name = strings.ToLower(key)
				}
			case t != nil && t.Kind() == reflect.Map:
				child = t.Elem()
			}
			p := joinPath(path, key)
			if seen[name] {
				return model.Invalid(p, "is given twice in one object; give each key once")
			}
			seen[name] = true
			if err := walkKeys(dec, child, p); err != nil {
				return err
			}
		}
		_, _ = dec.Token()
	case json.Delim('['):
		var elem reflect.Type
		if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
			elem = t.Elem()
		}
		for i := 0; dec.More(); i++ {
			if err := walkKeys(dec, elem, fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
		_, _ = dec.Token()
	}
	return nil
}
