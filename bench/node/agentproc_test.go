package nodebench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/containernetworking/cni/libcni"

	"github.com/knitter-cni/knitter/agent"
	"github.com/knitter-cni/knitter/core/plan"
)

// procNode is the node name of the agent process.
const procNode = "bench-proc-node"

// agentProc is knitter-agent running as its own process, as on a node, serving the node namespace
// it is given, with its manager the world's; pods come from an empty --pod-dir, so each takes its
// UID from CNI_ARGS.
type agentProc struct {
	podDir   string
	cmd      *exec.Cmd
	stateDir string
	exited   chan error
	logs     *tail
	cni      *libcni.CNIConfig
	list     *libcni.NetworkConfigList
}

// startAgent builds and starts the agent and returns once it serves (its log says so), failing tb
// if it exits first or does not serve within a minute. It is stopped when tb ends.
func startAgent(tb testing.TB, w *world, node *netNS) *agentProc {
	tb.Helper()
	bin, plugin := agentBinary.build(tb), pluginBinary.build(tb)
	dir := tb.TempDir()
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte(w.mgr.Token+"\n"), 0o600); err != nil {
		tb.Fatal(err)
	}
	podDir := filepath.Join(dir, "pods")
	if err := os.Mkdir(podDir, 0o700); err != nil {
		tb.Fatal(err)
	}
	sockDir, err := os.MkdirTemp("", "kn") // socket paths are limited to 108 bytes
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = os.RemoveAll(sockDir) })
	sock := filepath.Join(sockDir, "agent.sock")
	a := &agentProc{podDir: podDir, stateDir: filepath.Join(dir, "state"), exited: make(chan error, 1), logs: newTail(50, "knitter-agent serving")}
	a.cmd = exec.Command(bin, "--node-name", procNode, "--vtep", vtep().String(), "--vtep-device", underlayNIC,
		"--uplink", physicalNetwork+"="+parentNIC, "--manager-url", w.mgr.URL, "--manager-token-file", tokenFile,
		"--socket", sock, "--state-dir", a.stateDir, "--host-netns", node.Path(), "--pod-dir", podDir,
		"--heartbeat", "1h")
	a.cmd.Stderr = a.logs
	if err := a.cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	go func() { a.exited <- a.cmd.Wait() }()
	tb.Cleanup(func() {
		if err := a.stop(); err != nil {
			tb.Error(err)
		}
	})
	select {
	case <-a.logs.ready:
	case err := <-a.exited:
		a.exited <- err
		tb.Fatalf("knitter-agent exited before serving: %v\n%s", err, a.logs)
	case <-time.After(time.Minute):
		tb.Fatalf("knitter-agent does not serve after a minute\n%s", a.logs)
	}
	a.cni = libcni.NewCNIConfigWithCacheDir([]string{filepath.Dir(plugin)}, tb.TempDir(), nil)
	if a.list, err = libcni.ConfListFromBytes([]byte(knitterConfList(sock))); err != nil {
		tb.Fatal(err)
	}
	return a
}

func (a *agentProc) pid() int { return a.cmd.Process.Pid }

func (a *agentProc) add(ctx context.Context, p *pod) error {
	if err := p.writeManifest(a.podDir); err != nil {
		return err
	}
	_, err := a.cni.AddNetworkList(ctx, a.list, p.rtConf("eth0"))
	return err
}

func (a *agentProc) del(ctx context.Context, p *pod) error {
	return a.cni.DelNetworkList(ctx, a.list, p.rtConf("eth0"))
}

// plan returns the links the agent built for container id, from its checkpoint file. The files are
// read directly: checkpoint.Open would tidy the live agent's directory.
func (a *agentProc) plan(id string) (plan.Pod, error) {
	files, err := a.checkpoints()
	if err != nil {
		return plan.Pod{}, err
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return plan.Pod{}, err
		}
		var cp agent.Checkpoint
		if err := json.Unmarshal(b, &cp); err != nil {
			return plan.Pod{}, fmt.Errorf("checkpoint %s: %w", f, err)
		}
		if cp.ContainerID == id {
			return cp.Plan, nil
		}
	}
	return plan.Pod{}, fmt.Errorf("the agent has no checkpoint of container %s", id)
}

// checkpoints lists the checkpoint files the agent keeps.
// settle returns once no checkpoint of the agent records a pending teardown: the process's
// RunTeardowns has removed the links of every DEL it answered. It reads the state directory every
// 5 ms (the process offers no other signal) and gives up after a minute.
func (a *agentProc) settle(context.Context) error {
	deadline := time.Now().Add(time.Minute)
	for {
		files, err := a.checkpoints()
		if err != nil {
			return err
		}
		pending := 0
		for _, f := range files {
			b, err := os.ReadFile(f)
			if errors.Is(err, os.ErrNotExist) {
				continue // removed meanwhile
			}
			if err != nil {
				return err
			}
			var cp agent.Checkpoint
			if json.Unmarshal(b, &cp) == nil && cp.Teardown {
				pending++
			}
		}
		if pending == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d teardowns still pending after a minute; the end of the agent's log:\n%s", pending, a.logs)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (a *agentProc) checkpoints() ([]string, error) {
	return filepath.Glob(filepath.Join(a.stateDir, "*.json"))
}

// stop sends SIGTERM and waits for a clean exit; a second call (or one after the agent died) only
// reports how it ended.
func (a *agentProc) stop() error {
	if err := a.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	select {
	case err := <-a.exited:
		a.exited <- err
		if err != nil {
			return fmt.Errorf("knitter-agent: %w\n%s", err, a.logs)
		}
		return nil
	case <-time.After(30 * time.Second):
		_ = a.cmd.Process.Kill()
		return fmt.Errorf("knitter-agent did not exit within 30s of SIGTERM\n%s", a.logs)
	}
}

// tail keeps the last max lines a process writes, to show when it fails, and closes ready at the
// first line that contains mark. exec copies the process's output into it (Write).
type tail struct {
	mu      sync.Mutex
	max     int
	mark    string
	ready   chan struct{}
	partial []byte
	lines   []string
}

func newTail(max int, mark string) *tail {
	return &tail{max: max, mark: mark, ready: make(chan struct{})}
}

// Write implements io.Writer, splitting b into lines.
func (t *tail) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.partial = append(t.partial, b...)
	for {
		i := bytes.IndexByte(t.partial, '\n')
		if i < 0 {
			break
		}
		t.line(string(t.partial[:i]))
		t.partial = t.partial[i+1:]
	}
	if len(t.partial) > 64<<10 {
		t.line(string(t.partial))
		t.partial = nil
	}
	return len(b), nil
}

func (t *tail) line(l string) {
	if t.mark != "" && strings.Contains(l, t.mark) {
		t.mark = ""
		close(t.ready)
	}
	t.lines = append(t.lines, l)
	if len(t.lines) > t.max {
		t.lines = t.lines[len(t.lines)-t.max:]
	}
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.Join(append(slices.Clone(t.lines), string(t.partial)), "\n")
}
