package plugin

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/containernetworking/cni/pkg/skel"
	"github.com/containernetworking/cni/pkg/types"

	"github.com/knitter-cni/knitter/agent/wire"
)

func TestReadAnswer(t *testing.T) {
	for _, c := range []struct {
		in, body string
		status   int
		err      string
	}{
		{"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}extra", "{}", 200, ""},
		{"HTTP/1.0 503 Service Unavailable\r\n\r\n{\"code\":11}", "{\"code\":11}", 503, ""},
		{"SSH-2.0-OpenSSH\r\n", "", 0, "not an HTTP answer"},
		{"HTTP/1.1 abc OK\r\n\r\n", "", 0, "not an HTTP status"},
		{"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "", 0, "bad Content-Length"},
		{"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", "", 0, "EOF"},
		{"HTTP/1.1 200 OK\r\nX: y", "", 0, "EOF"},
	} {
		status, body, err := readAnswer(bufio.NewReader(strings.NewReader(c.in)))
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%q: %v, want an error with %q", c.in, err, c.err)
			}
			continue
		}
		if err != nil || status != c.status || string(body) != c.body {
			t.Errorf("%q: %d %q %v, want %d %q", c.in, status, body, err, c.status, c.body)
		}
	}
}

// fakeAgent answers every connection with answer (or nothing, if empty) and returns the socket.
func fakeAgent(t *testing.T, answer string) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "knp")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	sock := filepath.Join(dir, "a.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				r := bufio.NewReader(c)
				for {
					line, err := r.ReadString('\n')
					if err != nil || line == "\r\n" {
						break
					}
				}
				if answer == "" {
					_, _ = io.Copy(io.Discard, r) // hold the connection until the plugin gives up
				} else {
					_, _ = c.Write([]byte(answer))
				}
				_ = c.Close()
			}()
		}
	}()
	return sock
}

func args(sock, extra string) *skel.CmdArgs {
	return &skel.CmdArgs{ContainerID: "c1", Netns: "/run/netns/c1", IfName: "eth0",
		StdinData: []byte(`{"cniVersion":"1.1.0","name":"k","type":"knitter","agentSocket":"` + sock + `"` + extra + `}`)}
}

func wantCode(t *testing.T, err error, code uint, part string) {
	t.Helper()
	var e *types.Error
	if !errors.As(err, &e) || e.Code != code || !strings.Contains(e.Error(), part) {
		t.Fatalf("error %v, want CNI code %d mentioning %q", err, code, part)
	}
}

func TestAgentAnswers(t *testing.T) {
	p := &Plugin{Out: &strings.Builder{}}
	wantCode(t, p.Add(args(fakeAgent(t, ""), `,"timeout":"50ms"`)), types.ErrTryAgainLater, "did not answer add within 50ms")
	wantCode(t, p.Add(args(fakeAgent(t, "HTTP/1.0 500 Internal\r\n\r\npanic"), "")), types.ErrInternal, "HTTP 500: panic")
	wantCode(t, p.Add(args(fakeAgent(t, "HTTP/1.0 200 OK\r\n\r\n{}"), "")), types.ErrInternal, "without a result")
	wantCode(t, p.Add(args(fakeAgent(t, "HTTP/1.0 200 OK\r\n\r\nnot json"), "")), types.ErrTryAgainLater, "decoding")
	wantCode(t, p.Del(args(fakeAgent(t, "HTTP/1.0 400 Bad\r\n\r\n{\"code\":100,\"msg\":\"bad pod\",\"details\":\"invalid\"}"), "")), 100, "bad pod")
	wantCode(t, p.Add(&skel.CmdArgs{StdinData: []byte("{")}), types.ErrDecodingFailure, "not valid JSON")
	// The agent relays a port's transient failure whose text came from the operating system.
	enoent := fakeAgent(t, "HTTP/1.0 503 Unavailable\r\n\r\n{\"code\":11,\"msg\":\"knitter-manager is unavailable: dial unix /run/m.sock: connect: no such file or directory\",\"details\":\"pod not found\"}")
	err := p.Del(args(enoent, ""))
	wantCode(t, err, types.ErrTryAgainLater, "/run/m.sock: connect: absent")
	if strings.Contains(err.Error(), "no such file") || strings.Contains(err.Error(), "not found") {
		t.Fatalf("a transient error reads as gone: %v", err)
	}
	// A DEL that failed for good is not "gone" either: the links or the checkpoint are still there,
	// whatever the kernel's words; the code stays the agent's.
	for _, c := range []struct {
		code uint
		msg  string
	}{
		{wire.CodeDataplane, "removing the links of container c1: deleting link kn1234: no such file or directory"},
		{wire.CodeIOFailure, "open /run/knitter/agent/c1@eth0.json: no such file or directory"},
		{wire.CodeInternal, "checkpoint of c1 not found in the index; netns does not exist"},
	} {
		sock := fakeAgent(t, fmt.Sprintf("HTTP/1.0 500 Failed\r\n\r\n{\"code\":%d,\"msg\":%q,\"details\":\"no such file or directory\"}", c.code, c.msg))
		err := p.Del(args(sock, ""))
		wantCode(t, err, c.code, "c1")
		for _, gone := range []string{"no such file or directory", "not found", "does not exist"} {
			if strings.Contains(err.Error(), gone) {
				t.Fatalf("DEL error %q says %q: Multus would drop its record of the pod", err, gone)
			}
		}
		// ADD's errors keep their words: nothing reads an ADD's failure as "gone".
		if err := p.Add(args(sock, "")); !strings.Contains(err.Error(), "no such file or directory") {
			t.Fatalf("ADD error %q was rewritten", err)
		}
	}
}

func TestLogFile(t *testing.T) {
	log := filepath.Join(t.TempDir(), "plugin.log")
	p := &Plugin{Out: &strings.Builder{}}
	sock := fakeAgent(t, "HTTP/1.0 200 OK\r\n\r\n{}")
	if err := p.Del(args(sock, `,"logFile":"`+log+`"`)); err != nil {
		t.Fatal(err)
	}
	_ = p.Check(args(filepath.Join(t.TempDir(), "none.sock"), `,"logFile":"`+log+`"`))
	b, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "cmd=del") || !strings.Contains(lines[0], "result=ok") ||
		!strings.Contains(lines[1], "cmd=check") || !strings.Contains(lines[1], "not reachable") {
		t.Fatalf("log:\n%s", b)
	}
}

func TestConfigDefaultsAndGCAttachments(t *testing.T) {
	c, err := LoadConfig([]byte(`{"cniVersion":"1.1.0","cni.dev/attachments":[{"containerID":"a","ifname":"eth0"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if c.AgentSocket != wire.DefaultSocket || c.CallTimeout() != DefaultTimeout || c.dns() != nil {
		t.Fatalf("defaults %+v", c)
	}
	if got := c.validAttachments(); len(got) != 1 || got[0] != (wire.Attachment{ContainerID: "a", IfName: "eth0"}) {
		t.Fatalf("attachments %+v", got)
	}
	for _, bad := range []string{`{"timeout":"0s"}`, `{"timeout":"1h"}`, `{"network":"a/"}`, `{"network":"a/b/c"}`} {
		if _, err := LoadConfig([]byte(bad)); err == nil {
			t.Errorf("%s loaded", bad)
		}
	}
}

// An Exchange carries the calls instead of the socket: the plugin encodes, sends the verb's body
// and decodes the answer, error or result, as it does from the socket.
func TestExchangeCarriesTheCalls(t *testing.T) {
	var verbs []string
	var sent wire.Request
	answer := func(status int, body string) Exchange {
		return func(_ context.Context, verb string, b []byte) (int, []byte, error) {
			verbs = append(verbs, verb)
			if err := json.Unmarshal(b, &sent); err != nil {
				t.Fatal(err)
			}
			return status, []byte(body), nil
		}
	}
	var out strings.Builder
	p := &Plugin{Out: &out, Exchange: answer(200, `{"result":{"interfaces":[{"name":"eth0","mac":"02:00:00:00:00:01","sandbox":"/run/netns/c1"}],"ips":[{"interface":0,"address":"10.1.0.5/24"}]}}`)}
	if err := p.Add(args("/nonexistent/agent.sock", "")); err != nil {
		t.Fatalf("ADD through the exchange: %v", err)
	}
	if sent.ContainerID != "c1" || sent.Netns != "/run/netns/c1" || !strings.Contains(out.String(), `"10.1.0.5/24"`) {
		t.Fatalf("sent %+v, printed %s", sent, out.String())
	}
	p.Exchange = answer(503, `{"code":11,"msg":"knitter-manager is unavailable"}`)
	wantCode(t, p.Del(args("/nonexistent/agent.sock", "")), types.ErrTryAgainLater, "unavailable")
	p.Exchange = func(context.Context, string, []byte) (int, []byte, error) {
		return 0, nil, errors.New("connection refused")
	}
	wantCode(t, p.Check(args("/nonexistent/agent.sock", "")), types.ErrTryAgainLater, "connection refused")
	if strings.Join(verbs, ",") != "add,del" {
		t.Fatalf("verbs sent: %v", verbs)
	}
}
