package httpapi_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/netip"
	"net/url"
	"testing"
	"time"

	"github.com/knitter-cni/knitter/adapters/httpapi"
	"github.com/knitter-cni/knitter/agent"
	"github.com/knitter-cni/knitter/agent/agenttest"
	"github.com/knitter-cni/knitter/agent/porttest"
	"github.com/knitter-cni/knitter/core/model"
)

func TestAgentClientContract(t *testing.T) {
	porttest.ManagerClient(t, func(_ *testing.T, m *agenttest.Manager) (agent.ManagerClient, func(bool)) {
		return httpapi.AgentClient{C: m.Client, Wait: time.Millisecond}, m.SetDown
	})
}

// Against a manager older than bind's ?include=networks (it refuses the parameter with 400
// include) the agent's client binds plainly and answers without networks, so that the agent reads
// them itself.
func TestAgentClientBindsOnAnOlderManager(t *testing.T) {
	ctx := context.Background()
	m := agenttest.NewManager(t)
	target, err := url.Parse(m.URL)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	var refused int
	old := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Has("include") {
			refused++
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"code":"invalid","field":"include","message":"unknown query parameter; this route takes none"}`))
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(old.Close)
	c, err := httpapi.NewClient(httpapi.ClientConfig{URL: old.URL, Token: m.Token, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ac := httpapi.AgentClient{C: c, Wait: time.Millisecond}
	if err := ac.RegisterNode(ctx, model.Node{Name: "node-1", VTEP: netip.MustParseAddr("192.168.0.1")}); err != nil {
		t.Fatal(err)
	}
	ref := model.PodRef{UID: "u-1", Namespace: agenttest.Tenant, Name: "web"}
	m.Allocate(t, ref, model.AttachRequest{Network: agenttest.Overlay, Interface: "eth0"})
	b, err := ac.BindPod(ctx, ref.UID, "node-1")
	if err != nil || b.Pod.Node != "node-1" || b.Networks != nil || refused != 1 {
		t.Fatalf("BindPod = %+v, %v after %d refusals; want the bound pod, no networks, one refusal", b, err, refused)
	}
	if pod, _ := m.Pod(t, ref.UID); pod.Node != "node-1" {
		t.Fatalf("the manager has the pod on %q", pod.Node)
	}
}
