package local

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"time"
)

// process is a process the cluster started, recorded so that another process can stop it.
type process struct {
	Pid  int      `json:"pid"`
	Args []string `json:"args"`
	Log  string   `json:"log"`

	// exited is closed when the process is reaped, after status is set; nil when this process did
	// not start it.
	exited chan struct{}
	status *error
}

// stopTimeout bounds a graceful stop before SIGKILL.
const stopTimeout = 20 * time.Second

// startProc starts args with its output appended to logFile. A detached process gets its own session
// and outlives this one; an attached one is sent SIGTERM by the kernel if this process dies, so that a
// crashed test run does not leave agents and managers behind.
func startProc(args []string, logFile string, detached bool) (process, error) {
	log, err := os.OpenFile(logFile, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return process{}, fmt.Errorf("log file: %w", err)
	}
	defer log.Close()
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdout, cmd.Stderr = log, log
	if detached {
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	} else {
		// Pdeathsig fires when the thread that forked exits; Go keeps threads alive unless a locked
		// goroutine ends, which this package only lets happen after a failed namespace switch.
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	}
	if err := cmd.Start(); err != nil {
		return process{}, fmt.Errorf("starting %s: %w", args[0], err)
	}
	p := process{Pid: cmd.Process.Pid, Args: args, Log: logFile, exited: make(chan struct{}), status: new(error)}
	go func() {
		*p.status = cmd.Wait()
		close(p.exited)
	}()
	return p, nil
}

// alive reports whether the process still runs. A pid recorded by another process is trusted only
// while its command line starts with the recorded binary, which lives in the cluster's own
// directory: a recycled pid belongs to some other program and must never be signalled.
func (p *process) alive() bool {
	if p.Pid <= 0 {
		return false
	}
	if p.exited != nil {
		// Our own child: its pid cannot be reused before we reap it. (Its command line is no
		// guide here: it is empty for a moment while the kernel sets up the new program.)
		select {
		case <-p.exited:
			return false
		default:
			return true
		}
	}
	cmdline, err := os.ReadFile("/proc/" + strconv.Itoa(p.Pid) + "/cmdline")
	if err != nil || len(p.Args) == 0 {
		return false
	}
	argv0, _, _ := bytes.Cut(cmdline, []byte{0})
	return string(argv0) == p.Args[0]
}

// stop sends SIGTERM, waits up to stopTimeout, then sends SIGKILL. A process that is gone already is
// no error.
func (p *process) stop() error {
	if !p.alive() {
		return nil
	}
	if err := syscall.Kill(p.Pid, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("stopping pid %d: %w", p.Pid, err)
	}
	if p.waitGone(stopTimeout) {
		return nil
	}
	if err := syscall.Kill(p.Pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("killing pid %d: %w", p.Pid, err)
	}
	if !p.waitGone(5 * time.Second) {
		return fmt.Errorf("pid %d (%s) survived SIGKILL", p.Pid, p.Args[0])
	}
	return nil
}

// waitGone polls until the process is gone or d passes; it reports whether it is gone.
func (p *process) waitGone(d time.Duration) bool {
	deadline := time.Now().Add(d)
	for p.alive() {
		if time.Now().After(deadline) {
			return false
		}
		if p.exited != nil {
			select {
			case <-p.exited:
			case <-time.After(50 * time.Millisecond):
			}
			continue
		}
		time.Sleep(50 * time.Millisecond) // polling another process's exit; no ordering depends on it
	}
	return true
}

// exitStatus describes how a process this one started ended ("exit status 1", "signal: killed"), or
// says that it is unknown.
func (p *process) exitStatus() string {
	if p.exited == nil {
		return "exit status unknown"
	}
	select {
	case <-p.exited:
		if *p.status == nil {
			return "exit status 0"
		}
		return (*p.status).Error()
	default:
		return "still running"
	}
}

// logTail returns the last lines of the process's log, for error messages.
func (p *process) logTail(lines int) string {
	b, err := os.ReadFile(p.Log)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	b = bytes.TrimRight(b, "\n")
	for i, n := len(b)-1, 0; i >= 0; i-- {
		if b[i] == '\n' {
			n++
			if n == lines {
				return string(b[i+1:])
			}
		}
	}
	return string(b)
}
