package httpapi_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/knitter-cni/knitter/adapters/httpapi"
)

// A path segment reaches the server exactly as given: escaped once, not twice.
func TestClientEscapesPathSegmentsOnce(t *testing.T) {
	var got []string
	mux := http.NewServeMux()
	mux.HandleFunc("/api/v1/pods/{uid}", func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.PathValue("uid"))
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{}`))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	c, err := httpapi.NewClient(httpapi.ClientConfig{URL: srv.URL, Token: "x"})
	if err != nil {
		t.Fatal(err)
	}
	uids := []string{"u-1", "a/b", "a%b", "a b", "../x"}
	for _, uid := range uids {
		if _, err := c.GetPod(context.Background(), uid); err != nil {
			t.Fatalf("GetPod(%q): %v", uid, err)
		}
	}
	for i, uid := range uids {
		if i >= len(got) || got[i] != uid {
			t.Fatalf("the server saw %q, want %q", got, uids)
		}
	}
}
