package httpapi

import (
	"net/http"

	"github.com/knitter-cni/knitter/core/alloc"
	"github.com/knitter-cni/knitter/core/model"
)

func (s *Server) listTokens(c *call) (int, any, error) {
	if err := mustBeAdmin(c.actor, "list tokens"); err != nil {
		return 0, nil, err
	}
	p, err := pageOf(c.r)
	if err != nil {
		return 0, nil, err
	}
	out := TokenList{Tokens: []TokenInfo{}}
	err = s.view(func(st *alloc.State) error {
		tokens, next := paginate(st.Tokens(), func(t model.Token) string { return t.ID }, p)
		for _, t := range tokens {
			out.Tokens = append(out.Tokens, tokenInfo(t))
		}
		out.Continue = next
		return nil
	})
	return http.StatusOK, out, err
}

func (s *Server) getToken(c *call) (int, any, error) {
	if err := mustBeAdmin(c.actor, "read tokens"); err != nil {
		return 0, nil, err
	}
	id := c.r.PathValue("id")
	var out TokenInfo
	err := s.view(func(st *alloc.State) error {
		t, ok := st.Token(id)
		if !ok {
			return notFound("id", "token %q does not exist", id)
		}
		out = tokenInfo(t)
		return nil
	})
	return http.StatusOK, out, err
}

// createToken makes a token; its secret is in this answer only.
func (s *Server) createToken(c *call) (int, any, error) {
	var req TokenRequest
	if err := c.decode(&req); err != nil {
		return 0, nil, err
	}
	bearer, err := s.b.CreateToken(c.ctx(), c.actor, model.Token{ID: req.ID, Role: req.Role, Tenant: req.Tenant})
	if err != nil {
		return 0, nil, err
	}
	out := CreatedToken{Token: bearer, TokenInfo: TokenInfo{ID: req.ID, Role: req.Role, Tenant: req.Tenant}}
	// The record's creation time is the state's; a failed read only leaves it out.
	_ = s.view(func(st *alloc.State) error {
		if t, ok := st.Token(req.ID); ok {
			out.TokenInfo = tokenInfo(t)
		}
		return nil
	})
	return http.StatusCreated, out, nil
}

func (s *Server) deleteToken(c *call) (int, any, error) {
	_, err := s.b.Do(c.ctx(), alloc.DeleteTokenCmd{As: c.as(), ID: c.r.PathValue("id")})
	return http.StatusNoContent, nil, err
}
