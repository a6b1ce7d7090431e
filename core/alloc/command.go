package alloc

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/knitter-cni/knitter/core/model"
)

// Command is one entry of the command log. Every state change is a Command, so a log of them replays
// a manager's history exactly; the simulator and the scenario tests drive State through them.
type Command interface {
	// Op is the command's name in the log ("allocate-pod").
	Op() string
	apply(s *State) (any, []Mutation, error)
}

// As names the actor of a logged command: "" is the admin, "@system" knitter-agent or
// knitter-monitor, anything else a tenant ('@' is not allowed in tenant names).
type As string

// AsSystem is the As of system actors.
const AsSystem As = "@system"

// AsActor returns the As that names a.
func AsActor(a Actor) As {
	switch {
	case a.Admin:
		return ""
	case a.System:
		return AsSystem
	}
	return As(a.Tenant)
}

func (a As) actor() Actor {
	switch a {
	case "":
		return Admin
	case AsSystem:
		return System
	}
	return Actor{Tenant: string(a)}
}

// The commands. Each embeds or names its payload and an optional As.
type (
	CreateTenantCmd struct {
		As As `json:"as,omitempty"`
		model.Tenant
	}
	UpdateTenantCmd struct {
		As As `json:"as,omitempty"`
		model.Tenant
	}
	DeleteTenantCmd struct {
		As   As     `json:"as,omitempty"`
		Name string `json:"name"`
	}
	CreateNetworkCmd struct {
		As As `json:"as,omitempty"`
		model.Network
	}
	DeleteNetworkCmd struct {
		As     As     `json:"as,omitempty"`
		Tenant string `json:"tenant"`
		Name   string `json:"name"`
	}
	CreateIPGroupCmd struct {
		As As `json:"as,omitempty"`
		model.IPGroup
	}
	UpdateIPGroupCmd struct {
		As As `json:"as,omitempty"`
		model.IPGroup
	}
	DeleteIPGroupCmd struct {
		As     As     `json:"as,omitempty"`
		Tenant string `json:"tenant"`
		Name   string `json:"name"`
	}
	AllocatePodCmd struct {
		As As `json:"as,omitempty"`
		PodRequest
	}
	BindPodCmd struct {
		As   As     `json:"as,omitempty"`
		UID  string `json:"uid"`
		Node string `json:"node"`
	}
	ReleasePodCmd struct {
		As  As     `json:"as,omitempty"`
		UID string `json:"uid"`
	}
	RegisterNodeCmd struct {
		As As `json:"as,omitempty"`
		model.Node
	}
	ReleaseNodeCmd struct {
		As   As     `json:"as,omitempty"`
		Name string `json:"name"`
	}
	CreateTokenCmd struct {
		As As `json:"as,omitempty"`
		model.Token
	}
	DeleteTokenCmd struct {
		As As     `json:"as,omitempty"`
		ID string `json:"id"`
	}
	TickCmd struct {
		Now model.Time `json:"now"`
	}
)

// Op implements Command.
func (CreateTenantCmd) Op() string { return "create-tenant" }

// Op implements Command.
func (UpdateTenantCmd) Op() string { return "update-tenant" }

// Op implements Command.
func (DeleteTenantCmd) Op() string { return "delete-tenant" }

// Op implements Command.
func (CreateNetworkCmd) Op() string { return "create-network" }

// Op implements Command.
func (DeleteNetworkCmd) Op() string { return "delete-network" }

// Op implements Command.
func (CreateIPGroupCmd) Op() string { return "create-ipgroup" }

// Op implements Command.
func (UpdateIPGroupCmd) Op() string { return "update-ipgroup" }

// Op implements Command.
func (DeleteIPGroupCmd) Op() string { return "delete-ipgroup" }

// Op implements Command.
func (AllocatePodCmd) Op() string { return "allocate-pod" }

// Op implements Command.
func (BindPodCmd) Op() string { return "bind-pod" }

// Op implements Command.
func (ReleasePodCmd) Op() string { return "release-pod" }

// Op implements Command.
func (RegisterNodeCmd) Op() string { return "register-node" }

// Op implements Command.
func (ReleaseNodeCmd) Op() string { return "release-node" }

// Op implements Command.
func (CreateTokenCmd) Op() string { return "create-token" }

// Op implements Command.
func (DeleteTokenCmd) Op() string { return "delete-token" }

// Op implements Command.
func (TickCmd) Op() string { return "tick" }

func (c CreateTenantCmd) apply(s *State) (any, []Mutation, error) {
	m, err := s.CreateTenant(c.As.actor(), c.Tenant)
	return nil, m, err
}

func (c UpdateTenantCmd) apply(s *State) (any, []Mutation, error) {
	m, err := s.UpdateTenant(c.As.actor(), c.Tenant)
	return nil, m, err
}

func (c DeleteTenantCmd) apply(s *State) (any, []Mutation, error) {
	m, err := s.DeleteTenant(c.As.actor(), c.Name)
	return nil, m, err
}

func (c CreateNetworkCmd) apply(s *State) (any, []Mutation, error) {
	return s.CreateNetwork(c.As.actor(), c.Network)
}

func (c DeleteNetworkCmd) apply(s *State) (any, []Mutation, error) {
	m, err := s.DeleteNetwork(c.As.actor(), c.Tenant, c.Name)
	return nil, m, err
}

func (c CreateIPGroupCmd) apply(s *State) (any, []Mutation, error) {
	return s.CreateIPGroup(c.As.actor(), c.IPGroup)
}

func (c UpdateIPGroupCmd) apply(s *State) (any, []Mutation, error) {
	return s.UpdateIPGroup(c.As.actor(), c.IPGroup)
}

func (c DeleteIPGroupCmd) apply(s *State) (any, []Mutation, error) {
	m, err := s.DeleteIPGroup(c.As.actor(), c.Tenant, c.Name)
	return nil, m, err
}

func (c AllocatePodCmd) apply(s *State) (any, []Mutation, error) {
	return s.AllocatePod(c.As.actor(), c.PodRequest)
}

func (c BindPodCmd) apply(s *State) (any, []Mutation, error) {
	return s.BindPod(c.As.actor(), c.UID, c.Node)
}

func (c ReleasePodCmd) apply(s *State) (any, []Mutation, error) {
	return s.ReleasePod(c.As.actor(), c.UID)
}

func (c RegisterNodeCmd) apply(s *State) (any, []Mutation, error) {
	return s.RegisterNode(c.As.actor(), c.Node)
}

func (c ReleaseNodeCmd) apply(s *State) (any, []Mutation, error) {
	m, err := s.ReleaseNode(c.As.actor(), c.Name)
	return nil, m, err
}

func (c CreateTokenCmd) apply(s *State) (any, []Mutation, error) {
	m, err := s.CreateToken(c.As.actor(), c.Token)
	return nil, m, err
}

func (c DeleteTokenCmd) apply(s *State) (any, []Mutation, error) {
	m, err := s.DeleteToken(c.As.actor(), c.ID)
	return nil, m, err
}

func (c TickCmd) apply(s *State) (any, []Mutation, error) { return nil, s.Tick(c.Now), nil }

// Apply runs one command and returns its result (the stored object, where there is one), its
// mutations and its error. A failed command leaves the state as it was and returns no mutations.
func (s *State) Apply(c Command) (any, []Mutation, error) { return c.apply(s) }

var commandTypes = map[string]func() Command{
	"create-tenant":  func() Command { return &CreateTenantCmd{} },
	"update-tenant":  func() Command { return &UpdateTenantCmd{} },
	"delete-tenant":  func() Command { return &DeleteTenantCmd{} },
	"create-network": func() Command { return &CreateNetworkCmd{} },
	"delete-network": func() Command { return &DeleteNetworkCmd{} },
	"create-ipgroup": func() Command { return &CreateIPGroupCmd{} },
	"update-ipgroup": func() Command { return &UpdateIPGroupCmd{} },
	"delete-ipgroup": func() Command { return &DeleteIPGroupCmd{} },
	"allocate-pod":   func() Command { return &AllocatePodCmd{} },
	"bind-pod":       func() Command { return &BindPodCmd{} },
	"release-pod":    func() Command { return &ReleasePodCmd{} },
	"register-node":  func() Command { return &RegisterNodeCmd{} },
	"release-node":   func() Command { return &ReleaseNodeCmd{} },
	"create-token":   func() Command { return &CreateTokenCmd{} },
	"delete-token":   func() Command { return &DeleteTokenCmd{} },
	"tick":           func() Command { return &TickCmd{} },
}

// EncodeCommand formats a command as one log line: "op {json}".
func EncodeCommand(c Command) (string, error) {
	b, err := json.Marshal(c)
	if err != nil {
		return "", fmt.Errorf("encoding %s: %w", c.Op(), err)
	}
	return c.Op() + " " + string(b), nil
}

// ParseCommand parses one log line written by EncodeCommand. Unknown fields are errors, so a typo in
// a scenario file cannot pass silently.
func ParseCommand(line string) (Command, error) {
	op, args, _ := strings.Cut(strings.TrimSpace(line), " ")
	mk, ok := commandTypes[op]
	if !ok {
		return nil, fmt.Errorf("unknown command %q", op)
	}
	c := mk()
	if args = strings.TrimSpace(args); args == "" {
		args = "{}"
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(args)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(c); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	return c, nil
}
