package manager

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"strings"

	"github.com/knitter-cni/knitter/core/alloc"
	"github.com/knitter-cni/knitter/core/model"
)

// ErrUnauthenticated is returned for a missing, malformed or unknown bearer token.
var ErrUnauthenticated = model.Errorf(model.CodeUnauthenticated, "", "missing or invalid bearer token; pass an admin, system or tenant token")

// Authenticate maps a bearer token to its actor. Tokens are "<id>.<secret>"; only the secret's
// SHA-256 is stored, and comparisons take constant time.
func (m *Manager) Authenticate(token string) (alloc.Actor, error) {
	if admin := m.opts.AdminToken; admin != "" && subtle.ConstantTimeCompare([]byte(token), []byte(admin)) == 1 {
		return alloc.Admin, nil
	}
	id, secret, ok := strings.Cut(token, ".")
	if !ok || id == "" || secret == "" {
		return alloc.Actor{}, ErrUnauthenticated
	}
	var rec model.Token
	var found bool
	if err := m.View(func(s *alloc.State) { rec, found = s.Token(id) }); err != nil {
		return alloc.Actor{}, err
	}
	sum := sha256.Sum256([]byte(secret))
	if !found || subtle.ConstantTimeCompare([]byte(hex.EncodeToString(sum[:])), []byte(rec.Hash)) != 1 {
		return alloc.Actor{}, ErrUnauthenticated
	}
	switch rec.Role {
	case model.RoleAdmin:
		return alloc.Admin, nil
	case model.RoleSystem:
		return alloc.System, nil
	}
	return alloc.Actor{Tenant: rec.Tenant}, nil
}

// CreateToken makes a new secret for t, stores t with the secret's hash, and returns the bearer
// string — the only time the secret is ever shown.
func (m *Manager) CreateToken(ctx context.Context, actor alloc.Actor, t model.Token) (string, error) {
	secret, err := NewSecret()
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256([]byte(secret))
	t.Hash = hex.EncodeToString(sum[:])
	if _, err := m.Do(ctx, alloc.CreateTokenCmd{As: alloc.AsActor(actor), Token: t}); err != nil {
		return "", err
	}
	return t.ID + "." + secret, nil
}

// NewSecret returns 32 random bytes, base64url-encoded.
func NewSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
