package model

import "encoding/hex"

// Role is what a bearer token may do.
type Role string

// The roles of API tokens.
const (
	// RoleAdmin may do everything.
	RoleAdmin Role = "admin"
	// RoleSystem is for knitter-agent and knitter-monitor: pods and nodes of every tenant, and reading
	// everything, but no changes to tenants, networks, IP groups or tokens.
	RoleSystem Role = "system"
	// RoleTenant acts on one tenant's networks, IP groups and pods, and reads public networks.
	RoleTenant Role = "tenant"
)

// Token is an API bearer token as stored: the secret itself is never stored, only its SHA-256.
type Token struct {
	ID     string `json:"id"`
	Role   Role   `json:"role"`
	Tenant string `json:"tenant,omitempty"` // for RoleTenant
	// Hash is the hex SHA-256 of the token's secret part.
	Hash    string `json:"hash"`
	Created Time   `json:"created,omitempty"`
}

// Validate checks the token record.
func (t *Token) Validate() error {
	if err := ValidateName("id", t.ID); err != nil {
		return err
	}
	switch t.Role {
	case RoleAdmin, RoleSystem:
		if t.Tenant != "" {
			return Invalid("tenant", "a %s token has no tenant; remove it or use role tenant", t.Role)
		}
	case RoleTenant:
		if err := ValidateName("tenant", t.Tenant); err != nil {
			return err
		}
	default:
		return Invalid("role", "%q is not a role; use admin, system or tenant", t.Role)
	}
	if _, err := hex.DecodeString(t.Hash); err != nil || len(t.Hash) != 64 {
		return Invalid("hash", "must be the 64 hex digits of a SHA-256")
	}
	return nil
}
