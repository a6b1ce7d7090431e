package httpapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/knitter-cni/knitter/core/model"
)

// statusOf maps an error code to its HTTP status.
func statusOf(c model.Code) int {
	switch c {
	case model.CodeInvalid:
		return http.StatusBadRequest
	case model.CodeUnauthenticated:
		return http.StatusUnauthorized
	case model.CodeForbidden:
		return http.StatusForbidden
	case model.CodeNotFound:
		return http.StatusNotFound
	case CodeMethodNotAllowed:
		return http.StatusMethodNotAllowed
	case model.CodeConflict, model.CodeExhausted, model.CodeQuota:
		return http.StatusConflict
	case CodeTooLarge:
		return http.StatusRequestEntityTooLarge
	case CodeTooManyRequests:
		return http.StatusTooManyRequests
	case model.CodeUnavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// errorBody turns any error into the API's error body. Errors that are neither the core's nor
// "unavailable" are the manager's own failures: their text may carry internals, so the caller gets a
// generic message and the log gets the error.
func errorBody(err error) ErrorBody {
	var e *model.Error
	switch {
	case isUnavailable(err):
		msg := err.Error()
		if errors.As(err, &e) && e.Code == model.CodeUnavailable {
			msg = e.Message
		}
		return ErrorBody{Code: model.CodeUnavailable, Message: msg}
	case errors.As(err, &e) && e.Code != "":
		return ErrorBody{Code: e.Code, Message: e.Message, Field: e.Field}
	}
	return ErrorBody{Code: CodeInternal, Message: "internal error in knitter-manager; its log has the details"}
}

// writeJSON writes v as the answer. 204 has no body.
func writeJSON(w http.ResponseWriter, status int, v any) {
	if status == http.StatusNoContent {
		w.WriteHeader(status)
		return
	}
	b, err := appendJSON(make([]byte, 0, 2048), v)
	if err != nil {
		// Every answer type is plain data; this is a programming error.
		status = http.StatusInternalServerError
		b, _ = json.Marshal(ErrorBody{Code: CodeInternal, Message: "encoding the answer failed: " + err.Error()})
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)+1))
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// writeError writes err in the API's error shape, with Retry-After on 503.
func (s *Server) writeError(w http.ResponseWriter, err error) int {
	body := errorBody(err)
	status := statusOf(body.Code)
	switch status {
	case http.StatusServiceUnavailable, http.StatusTooManyRequests:
		w.Header().Set("Retry-After", strconv.Itoa(s.retryAfter))
	case http.StatusUnauthorized:
		w.Header().Set("WWW-Authenticate", `Bearer realm="knitter-manager"`)
		// A caller without a valid token keeps no connection open (HTTP/2: GOAWAY).
		w.Header().Set("Connection", "close")
	}
	writeJSON(w, status, body)
	return status
}
