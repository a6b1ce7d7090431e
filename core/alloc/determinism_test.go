package alloc

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// randomLog writes a command log of n random commands over two tenants, three networks (one sticky
// workload, one IP group) and two nodes: every kind of command, including ones that fail.
func randomLog(seed uint64, n int) []string {
	rng := rand.New(rand.NewPCG(seed, 42))
	log := []string{
		`create-tenant {"name":"ops","admin":true}`,
		`create-tenant {"name":"acme","quota":{"ports":40},"physical_networks":["eth1","eth2"]}`,
		`create-network {"tenant":"ops","name":"pub","type":"overlay","public":true,"ipv4":{"cidr":"10.8.0.0/26","gateway":"10.8.0.1"}}`,
		`create-network {"tenant":"acme","name":"a","type":"vlan","vlan":10,"physical_network":"eth1","ipv4":{"cidr":"10.1.0.0/27"},"ipv6":{"cidr":"fd00:1::/64"}}`,
		`create-network {"tenant":"acme","name":"m","type":"macvlan","physical_network":"eth2","ipv6":{"cidr":"fd00:2::/120"}}`,
		`create-ipgroup {"tenant":"acme","name":"g","network":"a","size":4}`,
		`register-node {"name":"n1","vtep":"192.0.2.1"}`,
		`register-node {"name":"n2","vtep":"192.0.2.2"}`,
	}
	nets := []string{`"network":"pub"`, `"network":"a"`, `"network":"m"`, `"network":"a","ip_group":"g"`, `"network":"a","ips":["10.1.0.7"]`}
	now := 0
	for i := range n {
		uid := fmt.Sprintf("u%d", rng.IntN(n/3+1))
		switch rng.IntN(8) {
		case 0, 1, 2:
			owner := ""
			if rng.IntN(3) == 0 {
				owner = fmt.Sprintf(`,"owner":"sts/acme/db/%d"`, rng.IntN(3))
			}
			var reqs []string
			for j := range 1 + rng.IntN(3) {
				reqs = append(reqs, fmt.Sprintf(`{%s,"interface":"eth%d"}`, nets[rng.IntN(len(nets))], j))
			}
			log = append(log, fmt.Sprintf(`allocate-pod {"pod":{"uid":%q,"namespace":"acme","name":"p%d"},"tenant":"acme"%s,"requests":[%s]}`,
				uid, i, owner, strings.Join(reqs, ",")))
		case 3:
			log = append(log, fmt.Sprintf(`bind-pod {"uid":%q,"node":"n%d"}`, uid, 1+rng.IntN(2)))
		case 4, 5:
			log = append(log, fmt.Sprintf(`release-pod {"uid":%q}`, uid))
		case 6:
			now += rng.IntN(60000)
			log = append(log, fmt.Sprintf(`tick {"now":%d}`, now))
		case 7:
			if rng.IntN(10) == 0 {
				log = append(log, fmt.Sprintf(`release-node {"name":"n%d"}`, 1+rng.IntN(2)), fmt.Sprintf(`register-node {"name":"n%d"}`, 1+rng.IntN(2)))
			}
		}
	}
	return log
}

// replay applies a log to a fresh state and returns everything observable: each command's result,
// error and mutations (keys and values), then the final Describe.
func replay(t *testing.T, log []string) string {
	t.Helper()
	s, err := New(DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, line := range log {
		c, err := ParseCommand(line)
		if err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		res, muts, err := s.Apply(c)
		out, _ := json.Marshal(res)
		fmt.Fprintf(&b, "%s => %s %v\n", c.Op(), out, err)
		for _, m := range muts {
			fmt.Fprintf(&b, "   %s %s\n", m.Key, m.Value)
		}
	}
	b.WriteString(s.Describe())
	return b.String()
}

// TestReplayIsDeterministic replays the same command logs twice (and once more after an
// encode/parse round trip of every command) and requires byte-identical output.
func TestReplayIsDeterministic(t *testing.T) {
	for seed := range uint64(50) {
		log := randomLog(seed, 400)
		first := replay(t, log)
		if second := replay(t, log); second != first {
			t.Fatalf("seed %d: two replays differ", seed)
		}
		var again []string
		for _, line := range log {
			c, err := ParseCommand(line)
			if err != nil {
				t.Fatal(err)
			}
			enc, err := EncodeCommand(c)
			if err != nil {
				t.Fatal(err)
			}
			again = append(again, enc)
		}
		if third := replay(t, again); third != first {
			t.Fatalf("seed %d: replay of the re-encoded log differs", seed)
		}
		if !strings.Contains(first, "ports=") || !strings.Contains(first, "\n   pods/") {
			t.Fatalf("seed %d: the log allocated nothing; the generator is broken", seed)
		}
	}
}

func TestParseCommandErrors(t *testing.T) {
	for _, tc := range []struct{ line, want string }{
		{`launch-rocket {}`, `unknown command "launch-rocket"`},
		{`create-tenant {"nme":"x"}`, `unknown field "nme"`},
		{`tick {"now":"soon"}`, `tick:`},
		{`create-tenant {`, `create-tenant:`},
	} {
		_, err := ParseCommand(tc.line)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseCommand(%q) = %v; want an error containing %q", tc.line, err, tc.want)
		}
	}
}
