package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"net/http"
	"sync"
	"time"

	"github.com/knitter-cni/knitter/adapters/etcdstore"
	"github.com/knitter-cni/knitter/adapters/httpapi"
	"github.com/knitter-cni/knitter/manager"
)

// leadership tracks this manager's role and where a live leader is, for httpapi.Status.
type leadership struct {
	self  string                                     // this manager's advertised URL
	probe func(ctx context.Context, url string) bool // does the manager at url lead and serve?

	mu        sync.Mutex
	leader    bool
	leaderURL string // a live leader other than this manager, or ""
}

type backend struct {
	*manager.Manager
	lead *leadership
}

// Status is ready only when a request would be served: this manager leads with its state loaded,
// or it knows another manager that answered as the serving leader. The election key alone is not
// enough: after a restart it may still name this very manager (the dead process's lease lives for
// the session TTL), and a leader that died keeps its key as long.
func (b backend) Status() httpapi.Status {
	ready, why := b.Ready()
	return b.lead.status(ready, why)
}

func (l *leadership) status(serving bool, why string) httpapi.Status {
	l.mu.Lock()
	defer l.mu.Unlock()
	st := httpapi.Status{Leader: serving && l.leader}
	switch {
	case st.Leader:
		st.LeaderURL = l.self
	case l.leaderURL != l.self:
		st.LeaderURL = l.leaderURL
	}
	st.Ready = st.Leader || st.LeaderURL != ""
	if !st.Leader {
		st.Reason = why
		if st.Reason == "" {
			st.Reason = "standby"
		}
		if st.LeaderURL == "" {
			st.Reason += "; no serving leader is known yet"
		}
	}
	return st
}

// observe records what the election says leads (id, or "" for none or an error) and whether that
// manager answered as the serving leader. This manager's own id never counts as another leader.
func (l *leadership) observe(id string, live bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.leader {
		return
	}
	l.leaderURL = ""
	if id != "" && id != l.self && live {
		l.leaderURL = id
	}
}

func (l *leadership) set(leader bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.leader, l.leaderURL = leader, ""
}

func (l *leadership) leading() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.leader
}

// watchLeader keeps a standby's idea of a live leader fresh for proxying: every second it reads the
// election and asks the manager it names whether it serves.
func (l *leadership) watchLeader(ctx context.Context, store *etcdstore.Store, mgr *manager.Manager) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		if !l.leading() {
			qctx, cancel := context.WithTimeout(ctx, time.Second)
			id, err := store.Leader(qctx)
			live := err == nil && id != l.self && l.probe(qctx, id)
			cancel()
			if err != nil {
				id = ""
			}
			l.observe(id, live)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// probeLeader returns a probe that asks the manager at url for /readyz and wants it to answer as
// the serving leader.
func probeLeader(tc *tls.Config) func(ctx context.Context, url string) bool {
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: tc}}
	return func(ctx context.Context, url string) bool {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"/readyz", nil)
		if err != nil {
			return false
		}
		resp, err := c.Do(req)
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		var st httpapi.Status
		return resp.StatusCode == http.StatusOK && json.NewDecoder(resp.Body).Decode(&st) == nil && st.Leader
	}
}
