package plugin_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/containernetworking/cni/pkg/types"

	"github.com/knitter-cni/knitter/agent/agenttest"
	"github.com/knitter-cni/knitter/agent/wire"
)

// A configuration that can never work (a 1 or 10 MB name or socket path, 10 MB of anything) is 7
// with a short message naming the field, not 11 (retry) or a message that echoes megabytes; a pod
// name longer than Kubernetes allows is 4, not 999.
func TestOversizedInputsAreRefusedClearly(t *testing.T) {
	w := agenttest.NewWorld(t)
	sock := w.Serve(t)
	w.Pods.Put("acme", "web", "", nil)
	big, huge := strings.Repeat("x", 1<<20), strings.Repeat("x", 10<<20)
	for _, c := range []struct{ field, conf string }{
		{"name", strings.Replace(confList("1.1.0", sock, ""), `"name":"knitter"`, `"name":"`+big+`"`, 1)},
		{"name", strings.Replace(confList("1.1.0", sock, ""), `"name":"knitter"`, `"name":"`+huge+`"`, 1)},
		{"agentSocket", confList("1.1.0", "/run/"+big, "")},
		{"agentSocket", confList("1.1.0", "/run/"+huge, "")},
		{"padding", confList("1.1.0", sock, `,"padding":"`+huge+`"`)},
	} {
		field, rt := c.field, newRuntime(t, c.conf)
		_, err := rt.cni.AddNetworkList(ctx, rt.list, rtConf(w, "c1", "web"))
		var e *types.Error
		if !errors.As(err, &e) || e.Code != types.ErrInvalidNetworkConfig || !strings.Contains(e.Msg, field) {
			t.Fatalf("a huge %s: %v; want code 7 naming it", field, clipErr(err))
		}
		if n := len(e.Msg) + len(e.Details); n > 1024 {
			t.Fatalf("a huge %s made a %d-byte error", field, n)
		}
	}
	rt := newRuntime(t, confList("1.1.0", sock, ""))
	conf := rtConf(w, "c1", "web")
	conf.Args[2][1] = strings.Repeat("a", 300)
	_, err := rt.cni.AddNetworkList(ctx, rt.list, conf)
	wantCNIError(t, err, wire.CodeInvalidEnv, "K8S_POD_NAME")
}

func clipErr(err error) string {
	if err == nil {
		return "<nil>"
	}
	s := err.Error()
	if len(s) > 300 {
		return s[:300] + "..."
	}
	return s
}

// A configuration under the agent's limit whose call would still be over it (its dns, with the
// call's own arguments) is 7 naming what is large — not 11 from a connection the agent cut.
func TestACallThatCanNeverFitTheAgentIsRefusedClearly(t *testing.T) {
	w := agenttest.NewWorld(t)
	sock := w.Serve(t)
	w.Pods.Put("acme", "web", "", nil)
	base := confList("1.1.0", sock, `,"dns":{"search":[""]}`)
	search := strings.Repeat(`"d",`, (wire.MaxRequestBytes-len(base)-1024)/4) + `"d"`
	conf := strings.Replace(base, `"search":[""]`, `"search":[`+search+`]`, 1)
	if len(conf) >= wire.MaxRequestBytes {
		t.Fatalf("the configuration is %d bytes; the test wants it under the limit", len(conf))
	}
	rt := newRuntime(t, conf)
	c := rtConf(w, "c1", "web")
	c.Args = append(c.Args, [2]string{"K8S_POD_PADDING", strings.Repeat("p", 3000)})
	_, err := rt.cni.AddNetworkList(ctx, rt.list, c)
	var e *types.Error
	if !errors.As(err, &e) || e.Code != types.ErrInvalidNetworkConfig || !strings.Contains(e.Msg, "dns") {
		t.Fatalf("a call over the agent's limit: %v; want code 7 naming the dns", clipErr(err))
	}
	if n := len(e.Msg) + len(e.Details); n > 1024 {
		t.Fatalf("a %d-byte error", n)
	}
	if _, ok := w.Mgr.Pod(t, "acme-web"); ok {
		t.Fatal("the refused call allocated the pod's ports")
	}
}

// Through libcni: CNI_ARGS giving a key twice (the last one would pick another tenant), and pod
// UIDs with '/', a space or '%' (ambiguous in the manager's paths), are code 4 naming the key, and
// nothing is allocated.
func TestPodIdentityIsRefusedAtTheEdgeThroughLibcni(t *testing.T) {
	w := agenttest.NewWorld(t)
	sock := w.Serve(t)
	w.Pods.Put("acme", "web", "", nil)
	w.Pods.Put("admin", "web", "", nil)
	rt := newRuntime(t, confList("1.1.0", sock, ""))
	for _, c := range []struct {
		extra [][2]string
		want  string
	}{
		{[][2]string{{"K8S_POD_NAMESPACE", "admin"}}, "K8S_POD_NAMESPACE twice"},
		{[][2]string{{"K8S_POD_UID", "npevil/../x"}}, "K8S_POD_UID"},
		{[][2]string{{"K8S_POD_UID", "a b"}}, "K8S_POD_UID"},
		{[][2]string{{"K8S_POD_UID", "npevil%2F..%2Fx"}}, "K8S_POD_UID"},
	} {
		conf := rtConf(w, "c1", "web")
		conf.Args = append(conf.Args, c.extra...)
		_, err := rt.cni.AddNetworkList(ctx, rt.list, conf)
		wantCNIError(t, err, wire.CodeInvalidEnv, c.want)
	}
	// The same UIDs from the pod source (a pod file, say) rather than the runtime.
	for i, uid := range []string{"npevil/../x", "a b", "npevil%2F..%2Fx"} {
		name := fmt.Sprintf("evil%d", i)
		w.Pods.Put("acme", name, uid, nil)
		_, err := rt.cni.AddNetworkList(ctx, rt.list, rtConf(w, "e"+name, name))
		wantCNIError(t, err, wire.CodeInvalidEnv, "pod UID")
	}
	for _, uid := range []string{"acme-web", "admin-web", "npevil/../x", "a b", "npevil%2F..%2Fx"} {
		if _, ok := w.Mgr.Pod(t, uid); ok {
			t.Fatalf("a refused ADD allocated pod %s's ports", uid)
		}
	}
}
