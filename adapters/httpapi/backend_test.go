package httpapi

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/knitter-cni/knitter/core/alloc"
	"github.com/knitter-cni/knitter/core/model"
)

// testBackend is a real alloc.State behind a lock, without a store: what the manager does, minus
// persistence and elections.
type testBackend struct {
	mu     sync.RWMutex
	st     *alloc.State
	status Status
	admin  string
	calls  int // commands applied, to prove a request reached (or did not reach) this backend
}

var _ Backend = (*testBackend)(nil)

const adminToken = "admin.secret"

func newTestBackend(t testing.TB) *testBackend {
	t.Helper()
	st, err := alloc.New(alloc.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	return &testBackend{st: st, admin: adminToken, status: Status{Ready: true, Leader: true}}
}

func (b *testBackend) setStatus(s Status) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.status = s
}

func (b *testBackend) Status() Status {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.status
}

func (b *testBackend) Do(_ context.Context, c alloc.Command) (any, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.status.Leader {
		return nil, fmt.Errorf("test backend is a standby: %w", ErrUnavailable)
	}
	b.calls++
	res, _, err := b.st.Apply(c)
	return res, err
}

func (b *testBackend) View(fn func(s *alloc.State)) error {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if !b.status.Leader {
		return model.Errorf(model.CodeUnavailable, "", "test backend is a standby")
	}
	fn(b.st)
	return nil
}

func hashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

func (b *testBackend) Authenticate(token string) (alloc.Actor, error) {
	if token == b.admin {
		return alloc.Admin, nil
	}
	bad := model.Errorf(model.CodeUnauthenticated, "", "unknown token")
	id, secret, ok := strings.Cut(token, ".")
	if !ok {
		return alloc.Actor{}, bad
	}
	var rec model.Token
	var found bool
	if err := b.View(func(s *alloc.State) { rec, found = s.Token(id) }); err != nil {
		return alloc.Actor{}, err
	}
	if !found || subtle.ConstantTimeCompare([]byte(hashSecret(secret)), []byte(rec.Hash)) != 1 {
		return alloc.Actor{}, bad
	}
	switch rec.Role {
	case model.RoleAdmin:
		return alloc.Admin, nil
	case model.RoleSystem:
		return alloc.System, nil
	}
	return alloc.Actor{Tenant: rec.Tenant}, nil
}

func (b *testBackend) CreateToken(ctx context.Context, a alloc.Actor, t model.Token) (string, error) {
	secret := rand.Text()
	t.Hash = hashSecret(secret)
	if _, err := b.Do(ctx, alloc.CreateTokenCmd{As: alloc.AsActor(a), Token: t}); err != nil {
		return "", err
	}
	return t.ID + "." + secret, nil
}

// mustDo applies a setup command as admin and fails the test on error.
func (b *testBackend) mustDo(t testing.TB, c alloc.Command) any {
	t.Helper()
	res, err := b.Do(context.Background(), c)
	if err != nil {
		t.Fatalf("%s: %v", c.Op(), err)
	}
	return res
}

// token makes a token directly in the state and returns its bearer string.
func (b *testBackend) token(t testing.TB, id string, role model.Role, tenant string) string {
	t.Helper()
	bearer, err := b.CreateToken(context.Background(), alloc.Admin, model.Token{ID: id, Role: role, Tenant: tenant})
	if err != nil {
		t.Fatalf("token %s: %v", id, err)
	}
	return bearer
}
