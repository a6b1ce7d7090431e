package alloc

import (
	"github.com/knitter-cni/knitter/core/model"
)

const tokenPrefix = "tokens/" // tokens/<id>

// CreateToken stores an API token record (the caller made the secret and passes only its hash). Only
// admins create tokens; a tenant token needs an existing tenant.
func (s *State) CreateToken(a Actor, t model.Token) ([]Mutation, error) {
	if !a.Admin {
		return nil, model.Errorf(model.CodeForbidden, "", "only an admin may create tokens")
	}
	if err := t.Validate(); err != nil {
		return nil, err
	}
	if _, ok := s.tokens[t.ID]; ok {
		return nil, model.Errorf(model.CodeConflict, "id", "token %q already exists; pick another id", t.ID)
	}
	if t.Role == model.RoleTenant {
		if _, ok := s.tenants[t.Tenant]; !ok {
			return nil, model.Errorf(model.CodeNotFound, "tenant", "tenant %q does not exist", t.Tenant)
		}
	}
	t.Created = s.now
	s.tokens[t.ID] = &t
	return []Mutation{put(tokenPrefix+t.ID, t)}, nil
}

// DeleteToken revokes a token. Only admins delete tokens.
func (s *State) DeleteToken(a Actor, id string) ([]Mutation, error) {
	if !a.Admin {
		return nil, model.Errorf(model.CodeForbidden, "", "only an admin may delete tokens")
	}
	if _, ok := s.tokens[id]; !ok {
		return nil, model.Errorf(model.CodeNotFound, "id", "token %q does not exist", id)
	}
	delete(s.tokens, id)
	return []Mutation{del(tokenPrefix + id)}, nil
}

// Token returns a token record by id.
func (s *State) Token(id string) (model.Token, bool) {
	t, ok := s.tokens[id]
	if !ok {
		return model.Token{}, false
	}
	return *t, true
}

// Tokens returns every token record (hashes included), sorted by id.
func (s *State) Tokens() []model.Token {
	out := make([]model.Token, 0, len(s.tokens))
	for _, id := range sortedKeys(s.tokens) {
		out = append(out, *s.tokens[id])
	}
	return out
}

// tenantTokens removes a deleted tenant's tokens and returns their deletions.
func (s *State) dropTenantTokens(tenant string) []Mutation {
	var muts []Mutation
	for _, id := range sortedKeys(s.tokens) {
		if s.tokens[id].Tenant == tenant {
			delete(s.tokens, id)
			muts = append(muts, del(tokenPrefix+id))
		}
	}
	return muts
}

func (s *State) loadToken(r Record) error {
	var t model.Token
	if err := decode(r, &t); err != nil {
		return err
	}
	s.tokens[t.ID] = &t
	return nil
}
