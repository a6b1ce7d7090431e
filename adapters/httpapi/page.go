package httpapi

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/knitter-cni/knitter/core/model"
)

// Paging. Every list takes ?limit=N (default DefaultPageSize, at most MaxPageSize) and answers at
// most that many items, sorted by key, with "continue" set when more may follow: the caller sends it
// back as ?continue= for the next page. A page is read from one state under one read lock; the
// continuation is the key of the last item returned (for ports: the pod UID and the port's place in
// the pod), not an offset, so an item that exists for the whole listing is listed exactly once
// however many items are created or deleted between the pages. Items created or deleted during a
// listing may or may not appear: the pages together are not one snapshot.
const (
	// DefaultPageSize is the page size of a list that gives no limit.
	DefaultPageSize = 500
	// MaxPageSize is the largest limit a list accepts.
	MaxPageSize = 5000
)

// pageParams are the query parameters every list takes.
var pageParams = []string{"limit", "continue"}

// page is a list request's window: at most limit items after the key after ("" for the first page).
type page struct {
	limit int
	after cursor
}

// cursor is the position a continue token encodes: the key of the last item listed, and for ports
// the index of the next port in the pod Key names.
type cursor struct {
	Key   string `json:"k"`
	Index int    `json:"i,omitempty"`
}

// continueToken encodes a cursor as an opaque URL-safe string.
func continueToken(c cursor) string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

// pageOf reads ?limit and ?continue.
func pageOf(r *http.Request) (page, error) {
	q := r.URL.Query()
	p := page{limit: DefaultPageSize}
	if raw, ok := q["limit"]; ok {
		n, err := strconv.Atoi(strings.TrimSpace(raw[0]))
		if err != nil || n < 1 || n > MaxPageSize {
			return p, model.Invalid("limit", "%q is not a page size; give 1 to %d (default %d)", raw[0], MaxPageSize, DefaultPageSize)
		}
		p.limit = n
	}
	if raw := q.Get("continue"); raw != "" {
		b, err := base64.RawURLEncoding.DecodeString(raw)
		if err == nil {
			err = json.Unmarshal(b, &p.after)
		}
		if err != nil || p.after.Key == "" || p.after.Index < 0 {
			return p, model.Invalid("continue", "is not a continue token of this API; send back the \"continue\" of the previous page unchanged, or leave it out to start at the beginning")
		}
	}
	return p, nil
}

// paginate returns the page of items (sorted by key) after p.after, and the continue token of the
// next page ("" when this page is the last).
func paginate[T any](items []T, key func(T) string, p page) ([]T, string) {
	start := 0
	if p.after.Key != "" {
		start, _ = slices.BinarySearchFunc(items, p.after.Key, func(it T, k string) int { return strings.Compare(key(it), k) })
		if start < len(items) && key(items[start]) == p.after.Key {
			start++
		}
	}
	items = items[start:]
	if len(items) <= p.limit {
		return items, ""
	}
	items = items[:p.limit]
	return items, continueToken(cursor{Key: key(items[len(items)-1])})
}
