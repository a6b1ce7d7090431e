package main

import (
	"bytes"
	"errors"
	"regexp"
	"strings"
	"testing"
)

func execute(t *testing.T, args ...string) (string, int) {
	t.Helper()
	cmd := newCommand()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(args)
	err := cmd.Execute()
	var ee exitError
	switch {
	case err == nil:
		return out.String(), exitOK
	case errors.As(err, &ee):
		return out.String(), ee.code
	}
	return out.String() + err.Error(), exitUsage
}

var traceRE = regexp.MustCompile(`trace ([0-9a-f]{16})`)

func TestRunPrintsHashAndRepeats(t *testing.T) {
	a, code := execute(t, "run", "--seed", "3", "--duration", "10s", "--pods", "10")
	if code != exitOK {
		t.Fatalf("exit %d:\n%s", code, a)
	}
	b, _ := execute(t, "run", "--seed", "3", "--duration", "10s", "--pods", "10")
	ha, hb := traceRE.FindStringSubmatch(a), traceRE.FindStringSubmatch(b)
	if ha == nil || hb == nil || ha[1] != hb[1] {
		t.Fatalf("no or different trace hashes:\n%s\n%s", a, b)
	}
}

// TestPlantedFailureReproduces: the printed command, run again, fails the same way with the same hash.
func TestPlantedFailureReproduces(t *testing.T) {
	out, code := execute(t, "run", "--seed", "4", "--duration", "10s", "--plant", "no-cooldown")
	if code != exitSafety {
		t.Fatalf("exit %d, want %d (safety):\n%s", code, exitSafety, out)
	}
	_, repro, ok := strings.Cut(out, "reproduce: knitter-sim ")
	if !ok {
		t.Fatalf("no reproducing command:\n%s", out)
	}
	again, code2 := execute(t, strings.Fields(repro)...)
	if code2 != exitSafety || traceRE.FindString(again) != traceRE.FindString(out) {
		t.Fatalf("the reproducing command gave exit %d and\n%s\nnot\n%s", code2, again, out)
	}
}

func TestSwarmExitCodes(t *testing.T) {
	if out, code := execute(t, "swarm", "--seeds", "1..3", "--duration", "5s", "--pods", "5"); code != exitOK {
		t.Fatalf("clean swarm: exit %d:\n%s", code, out)
	}
	out, code := execute(t, "swarm", "--seeds", "1..3", "--duration", "5s", "--plant", "release-by-name")
	if code != exitSafety || !strings.Contains(out, "reproduce: knitter-sim run --seed 1 ") {
		t.Fatalf("planted swarm: exit %d:\n%s", code, out)
	}
	if out, code := execute(t, "swarm", "--seeds", "9..1"); code != exitUsage || !strings.Contains(out, "--seeds") {
		t.Fatalf("bad range: exit %d:\n%s", code, out)
	}
	if out, code := execute(t, "run", "--plant", "nope"); code != exitUsage || !strings.Contains(out, "no-cooldown") {
		t.Fatalf("bad plant: exit %d:\n%s", code, out)
	}
}

func TestBadPodsIsUsage(t *testing.T) {
	if out, code := execute(t, "run", "--pods", "0"); code != exitUsage || !strings.Contains(out, "--pods") {
		t.Fatalf("exit %d, want %d naming --pods:\n%s", code, exitUsage, out)
	}
}
