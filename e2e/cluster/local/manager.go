package local

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/knitter-cni/knitter/adapters/httpapi"
	"github.com/knitter-cni/knitter/core/model"
)

// managerReadyTimeout bounds the wait for knitter-manager to serve as the leader; its embedded etcd
// starts in a second or two on an idle machine.
const managerReadyTimeout = 90 * time.Second

// agentTokenID names the system token the agents share.
const agentTokenID = "local-agents"

// freePort asks the kernel for a free TCP port on loopback. Another process could take it before
// the manager binds it; startManager then fails with a clear error rather than hanging.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// newManagerState lays out the manager's files in dir and picks its port.
func newManagerState(dir string) (managerState, error) {
	port, err := freePort()
	if err != nil {
		return managerState{}, err
	}
	data := filepath.Join(dir, "manager")
	return managerState{
		URL:       "https://127.0.0.1:" + strconv.Itoa(port),
		DataDir:   data,
		CAFile:    filepath.Join(data, "pki", "ca.crt"),
		AdminFile: filepath.Join(data, "admin.token"),
		AgentFile: filepath.Join(dir, "agent.token"),
	}, nil
}

// startManager starts knitter-manager (again) on its data directory and waits until it leads.
func startManager(ctx context.Context, m *managerState, bin, bootstrap string, detached bool) error {
	listen := strings.TrimPrefix(m.URL, "https://")
	args := []string{bin, "--data-dir", m.DataDir, "--listen", listen, "--log-level", "info"}
	if bootstrap != "" {
		args = append(args, "--bootstrap", bootstrap)
	}
	if err := os.MkdirAll(m.DataDir, 0o700); err != nil {
		return err
	}
	p, err := startProc(args, filepath.Join(filepath.Dir(m.DataDir), "manager.log"), detached)
	if err != nil {
		return err
	}
	m.Proc = p
	return waitManager(ctx, m)
}

// waitManager polls /readyz until the manager is ready and the leader, failing early if it exits.
func waitManager(ctx context.Context, m *managerState) error {
	ctx, cancel := context.WithTimeout(ctx, managerReadyTimeout)
	defer cancel()
	var last error
	for {
		if !m.Proc.alive() {
			return fmt.Errorf("knitter-manager exited while starting (%s); the end of %s:\n%s", m.Proc.exitStatus(), m.Proc.Log, m.Proc.logTail(20))
		}
		if last = managerReady(ctx, m); last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("knitter-manager did not become ready within %s: %w; the end of %s:\n%s",
				managerReadyTimeout, last, m.Proc.Log, m.Proc.logTail(20))
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func managerReady(ctx context.Context, m *managerState) error {
	if _, err := os.Stat(m.CAFile); err != nil {
		return fmt.Errorf("no CA yet: %w", err)
	}
	c, err := httpapi.NewClient(httpapi.ClientConfig{URL: m.URL, CAFile: m.CAFile, Timeout: 5 * time.Second})
	if err != nil {
		return err
	}
	st, err := c.Ready(ctx)
	if err != nil {
		return err
	}
	if !st.Ready || !st.Leader {
		return fmt.Errorf("not ready: %s", st.Reason)
	}
	return nil
}

// adminClient is an admin client of the manager.
func adminClient(m *managerState) (*httpapi.Client, error) {
	b, err := os.ReadFile(m.AdminFile)
	if err != nil {
		return nil, fmt.Errorf("admin token: %w", err)
	}
	return httpapi.NewClient(httpapi.ClientConfig{URL: m.URL, CAFile: m.CAFile, Token: strings.TrimSpace(string(b)), Timeout: 15 * time.Second})
}

// mintAgentToken creates the agents' system token (once) and writes it to AgentFile.
func mintAgentToken(ctx context.Context, c *httpapi.Client, m *managerState) error {
	if _, err := os.Stat(m.AgentFile); err == nil {
		return nil
	}
	t, err := c.CreateToken(ctx, httpapi.TokenRequest{ID: agentTokenID, Role: model.RoleSystem})
	if errors.Is(err, model.ErrConflict) {
		return fmt.Errorf("token %s exists but %s is gone; remove the cluster and start again", agentTokenID, m.AgentFile)
	}
	if err != nil {
		return fmt.Errorf("creating the agents' token: %w", err)
	}
	return os.WriteFile(m.AgentFile, []byte(t.Token+"\n"), 0o600)
}
