package etcdstore

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/knitter-cni/knitter/core/alloc"
	"github.com/knitter-cni/knitter/core/model"
)

func TestApplyWithoutLeadership(t *testing.T) {
	s := openStore(t, testConfig(t))
	if err := s.Apply(context.Background(), []alloc.Mutation{put("a", "1")}); !errors.Is(err, ErrNotLeader) {
		t.Fatalf("Apply before Campaign = %v, want ErrNotLeader", err)
	}
	if got := load(t, s); len(got) != 0 {
		t.Fatalf("a refused write landed: %v", got)
	}
}

func TestApplyRejectsBadKeys(t *testing.T) {
	s := leader(t, testConfig(t), "m1")
	for _, tc := range []struct {
		muts  []alloc.Mutation
		field string
	}{
		{[]alloc.Mutation{put("ok", "1"), put("", "x")}, "mutations[1].key"},
		{[]alloc.Mutation{put("leader/forged", "x")}, "mutations[0].key"},
		{[]alloc.Mutation{del(reservedPrefix + "abc")}, "mutations[0].key"},
	} {
		err := s.Apply(context.Background(), tc.muts)
		var me *model.Error
		if !errors.As(err, &me) || me.Code != model.CodeInvalid || me.Field != tc.field {
			t.Fatalf("Apply(%q) = %v, want an invalid error on %s", tc.muts, err, tc.field)
		}
	}
	if got := load(t, s); len(got) != 0 {
		t.Fatalf("a rejected command was partly written: %v", got)
	}
}

// TestUnreachable checks that Open gives up within the dial timeout, naming the endpoints, both when
// nothing listens and when something accepts connections but never answers.
func TestUnreachable(t *testing.T) {
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	go func() {
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			defer c.Close() // hold it open, say nothing
		}
	}()
	refused, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refusedAddr := refused.Addr().String()
	refused.Close()

	for _, ep := range []string{"http://" + silent.Addr().String(), "http://" + refusedAddr} {
		_, err := Open(context.Background(), Config{Endpoints: []string{ep}, DialTimeout: 300 * time.Millisecond})
		if err == nil || !strings.Contains(err.Error(), ep) || !strings.Contains(err.Error(), "300ms") {
			t.Fatalf("Open(%s) = %v, want an error naming the endpoint and the timeout", ep, err)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		cfg   Config
		field string
	}{
		{Config{}, "endpoints"},
		{Config{Endpoints: []string{" "}}, "endpoints"},
		{Config{Endpoints: []string{"http://x"}, Prefix: "/knitter"}, "prefix"},
		{Config{Endpoints: []string{"http://x"}, TLS: TLSFiles{CertFile: "c.pem"}}, "tls"},
		{Config{Endpoints: []string{"http://x"}, MaxTxnOps: -1}, "max_txn_ops"},
		{Config{Endpoints: []string{"http://x"}, SessionTTL: -time.Second}, "session_ttl"},
	} {
		_, err := Open(context.Background(), tc.cfg)
		var me *model.Error
		if !errors.As(err, &me) || me.Field != tc.field {
			t.Fatalf("Open(%+v) = %v, want an error on %s", tc.cfg, err, tc.field)
		}
	}
	if err := (Config{Endpoints: []string{"http://x"}}).withDefaults().Validate(); err != nil {
		t.Fatalf("defaults do not validate: %v", err)
	}
}

func TestTLSFilesMissing(t *testing.T) {
	_, err := Open(context.Background(), Config{
		Endpoints: []string{"https://127.0.0.1:1"},
		TLS:       TLSFiles{CAFile: "/nonexistent/ca.pem", CertFile: "/nonexistent/c.pem", KeyFile: "/nonexistent/k.pem"},
	})
	if err == nil || !strings.Contains(err.Error(), "TLS") {
		t.Fatalf("Open with missing TLS files = %v, want a TLS error", err)
	}
}

func TestEmbedConfigValidate(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		cfg   EmbedConfig
		field string
	}{
		{EmbedConfig{}, "data_dir"},
		{EmbedConfig{DataDir: dir, ClientPort: 70000}, "client_port"},
		{EmbedConfig{DataDir: dir, PeerPort: -1}, "peer_port"},
		{EmbedConfig{DataDir: dir, ClientPort: 2379}, "client_port"},
		{EmbedConfig{DataDir: dir, ClientCertFile: "c", ClientKeyFile: "k"}, "client_ca_file"},
		{EmbedConfig{DataDir: dir, ClientPort: 2379, PeerPort: 2379, ClientCertFile: "c", ClientKeyFile: "k", ClientCAFile: "ca"}, "peer_port"},
		{EmbedConfig{DataDir: "/" + strings.Repeat("d", 120)}, "data_dir"},
		{EmbedConfig{DataDir: dir, LogLevel: "loud"}, "log_level"},
	} {
		_, err := StartEmbedded(tc.cfg)
		var me *model.Error
		if !errors.As(err, &me) || me.Field != tc.field {
			t.Fatalf("StartEmbedded(%+v) = %v, want an error on %s", tc.cfg, err, tc.field)
		}
	}
}

// TestEmbeddedPortInUse: a taken port is an error that names the data dir, not a hang.
func TestEmbeddedPortInUse(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	port := taken.Addr().(*net.TCPAddr).Port
	dir := t.TempDir() + "/etcd"
	if _, err := StartEmbedded(EmbedConfig{DataDir: dir, PeerPort: port, LogLevel: "error"}); err == nil || !strings.Contains(err.Error(), dir) {
		t.Fatalf("StartEmbedded on a taken port = %v, want an error naming %s", err, dir)
	}
}
