package plugin_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/containernetworking/cni/pkg/types"

	"github.com/knitter-cni/knitter/agent/agenttest"
	"github.com/knitter-cni/knitter/agent/wire"
)

// A configuration that can never work (a 1 MB name or socket path, 10 MB in all) is 7 with a short message, not 11 (retry) or a message that
// echoes megabytes; a pod name longer than Kubernetes allows is 4, not 999.
func TestOversizedInputsAreRefusedClearly(t *testing.T) {
	w := agenttest.NewWorld(t)
	sock := w.Serve(t)
	w.Pods.Put("acme", "web", "", nil)
	big, huge := strings.Repeat("x", 1<<20), strings.Repeat("x", 10<<20)
	for field, conf := range map[string]string{
		"name":        strings.Replace(confList("1.1.0", sock, ""), `"name":"knitter"`, `"name":"`+big+`"`, 1),
		"agentSocket": confList("1.1.0", "/run/"+big, ""),
		"bytes":       confList("1.1.0", sock, `,"padding":"`+huge+`"`),
	} {
		rt := newRuntime(t, conf)
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
