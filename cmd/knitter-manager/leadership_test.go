package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/knitter-cni/knitter/adapters/httpapi"
)

// TestReadyOnlyWhenSomeoneServes: /readyz's status is ready only while this manager serves, or a
// different manager answered as the serving leader — never because the election names this manager
// (a restarted process sees its dead predecessor's key) or a leader that no longer answers.
func TestReadyOnlyWhenSomeoneServes(t *testing.T) {
	const self, other = "https://10.0.0.1:9527", "https://10.0.0.2:9527"
	for _, tc := range []struct {
		name       string
		leading    bool
		serving    bool
		elected    string
		live       bool
		wantReady  bool
		wantLeader string
	}{
		{"restarted, own stale key", false, false, self, true, false, ""},
		{"another live leader", false, false, other, true, true, other},
		{"another leader that does not answer", false, false, other, false, false, ""},
		{"no leader", false, false, "", false, false, ""},
		{"leading and serving", true, true, "", false, true, self},
		{"leading, state not loaded", true, false, "", false, false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := &leadership{self: self}
			l.observe(tc.elected, tc.live)
			if tc.leading {
				l.set(true)
			}
			st := l.status(tc.serving, "not activated yet")
			if st.Ready != tc.wantReady || st.LeaderURL != tc.wantLeader {
				t.Fatalf("status = %+v, want ready=%v leader_url=%q", st, tc.wantReady, tc.wantLeader)
			}
			if !st.Leader && st.LeaderURL == self {
				t.Fatal("a manager that does not serve names itself as the leader")
			}
		})
	}
}

func TestProbeLeader(t *testing.T) {
	var st httpapi.Status
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/readyz" {
			http.NotFound(w, r)
			return
		}
		_ = json.NewEncoder(w).Encode(st)
	}))
	defer srv.Close()
	probe := probeLeader(nil)
	st = httpapi.Status{Ready: true, Leader: true}
	if !probe(context.Background(), srv.URL) {
		t.Fatal("a serving leader was not recognised")
	}
	st = httpapi.Status{Ready: true, LeaderURL: "https://elsewhere"}
	if probe(context.Background(), srv.URL) {
		t.Fatal("a standby was taken for the leader")
	}
	if probe(context.Background(), "http://127.0.0.1:1") {
		t.Fatal("an unreachable manager was taken for the leader")
	}
}
