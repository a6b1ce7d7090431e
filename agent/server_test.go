package agent_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/knitter-cni/knitter/agent"
	"github.com/knitter-cni/knitter/agent/agenttest"
	"github.com/knitter-cni/knitter/agent/wire"
)

// unixClient is an HTTP/1.1 client on the agent's socket, as curl --unix-socket would be.
func unixClient(sock string) *http.Client {
	return &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", sock)
	}}}
}

func post(t *testing.T, c *http.Client, verb, body string) (int, []byte) {
	t.Helper()
	resp, err := c.Post("http://agent"+wire.Path+verb, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

func TestServerSpeaksTheWireProtocol(t *testing.T) {
	w := agenttest.NewWorld(t)
	sock := w.Serve(t)
	c := unixClient(sock)
	w.Pods.Put("acme", "web", "", nil)
	body, _ := json.Marshal(w.AddRequest("c1", "acme", "web"))
	status, b := post(t, c, wire.VerbAdd, string(body))
	var resp wire.Response
	if status != http.StatusOK || json.Unmarshal(b, &resp) != nil || resp.Result == nil || resp.Result.Interfaces[0].Name != "eth0" {
		t.Fatalf("ADD answered %d %s", status, b)
	}
	for _, c2 := range []struct {
		verb, body string
		status     int
		code       uint
	}{
		{wire.VerbAdd, "{", http.StatusBadRequest, wire.CodeDecodingFailure},
		{wire.VerbCheck, `{"container_id":"nope","ifname":"eth0"}`, http.StatusBadRequest, wire.CodeUnknownContainer},
		{wire.VerbAdd, `{"container_id":"c2","ifname":"eth0","netns":"` + w.Netns("c2") + `","args":"K8S_POD_NAMESPACE=acme;K8S_POD_NAME=ghost"}`, http.StatusBadRequest, wire.CodeNotFound},
		{wire.VerbAdd, `{"container_id":"c3","ifname":"eth0","netns":"/x","args":"K8S_POD_NAMESPACE=acme;K8S_POD_NAME=web"}`, http.StatusBadRequest, wire.CodeInvalidEnv},
	} {
		status, b := post(t, c, c2.verb, c2.body)
		var we wire.Error
		if status != c2.status || json.Unmarshal(b, &we) != nil || we.Code != c2.code || we.Msg == "" {
			t.Errorf("%s %s answered %d %s, want %d with code %d", c2.verb, c2.body, status, b, c2.status, c2.code)
		}
	}
	status, b = post(t, c, wire.VerbStatus, "{}")
	var st wire.Response
	if status != http.StatusOK || json.Unmarshal(b, &st) != nil {
		t.Fatalf("STATUS answered %d %s", status, b)
	}
	if len(st.Datapaths) != 1 || st.Datapaths[0].Type != "vlan" || st.Datapaths[0].Datapath != "tc-ebpf" {
		t.Fatalf("STATUS reports datapaths %+v, want the agent's", st.Datapaths)
	}
	resp2, err := c.Get("http://agent" + wire.Path + wire.VerbAdd)
	if err != nil {
		t.Fatal(err)
	}
	resp2.Body.Close()
	if resp2.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("GET answered %d, want 405", resp2.StatusCode)
	}
}

func TestListenRefusesASocketInUseAndReplacesAStaleOne(t *testing.T) {
	w := agenttest.NewWorld(t)
	sock := w.Serve(t)
	if _, err := agent.Listen(sock); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("second Listen: %v, want in use", err)
	}
	dir, err := os.MkdirTemp("", "kn")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	stale := filepath.Join(dir, "sub", "agent.sock")
	if err := os.MkdirAll(filepath.Dir(stale), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(stale, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	ln, err := agent.Listen(stale)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if fi, err := os.Stat(stale); err != nil || fi.Mode()&os.ModeSocket == 0 || fi.Mode().Perm() != 0o600 {
		t.Fatalf("socket %v, %v; want a 0600 socket", fi.Mode(), err)
	}
}
