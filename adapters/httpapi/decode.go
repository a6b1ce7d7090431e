package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"

	"github.com/knitter-cni/knitter/core/model"
)

// readBody reads a request body of at most MaxBodyBytes.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return nil, model.Errorf(CodeTooLarge, "", "the body is larger than %d bytes; send less (split large IP groups)", MaxBodyBytes)
	case err != nil:
		return nil, model.Invalid("", "reading the body failed: %v", err)
	}
	return b, nil
}

// decodeJSON decodes one JSON object into v (a pointer), refusing unknown fields, keys given twice
// and anything after the object. Errors are *model.Error values whose Field is the JSON path of the problem.
func decodeJSON(body []byte, v any) error {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return model.Invalid("", "the body is empty; send a JSON object")
	}
	t := reflect.TypeOf(v).Elem()
	if t.Kind() == reflect.Struct && trimmed[0] != '{' {
		return model.Invalid("", "the body is %s; send a JSON object", jsonKind(trimmed))
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return describeDecodeError(body, t, err)
	}
	if err := checkDuplicateKeys(body, t); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return model.Invalid("", "the body goes on after its JSON object; send exactly one object")
	}
	return nil
}

// describeDecodeError names the field behind a decoding error. encoding/json reports unknown fields
// without their path and text-unmarshalling errors (a bad address) without any field, so the body is
// walked again against v's type to find the first problem and its path.
func describeDecodeError(body []byte, t reflect.Type, err error) error {
	var syn *json.SyntaxError
	switch {
	case errors.As(err, &syn):
		return model.Invalid("", "the body is not valid JSON at byte %d: %s", syn.Offset, trimJSONPrefix(syn.Error()))
	case errors.Is(err, io.ErrUnexpectedEOF):
		return model.Invalid("", "the body's JSON ends early; send a complete object")
	}
	if e := diagnose(body, t, ""); e != nil {
		return e
	}
	var typ *json.UnmarshalTypeError
	if errors.As(err, &typ) {
		return model.Invalid(typ.Field, "expects %s, got a JSON %s", typ.Type, typ.Value)
	}
	return model.Invalid("", "%s", trimJSONPrefix(err.Error()))
}

func trimJSONPrefix(s string) string {
	if len(s) > 6 && s[:6] == "json: " {
		return s[6:]
	}
	return s
}
