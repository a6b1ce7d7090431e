package local

import "slices"

// Status is a summary of a cluster for people: what runs and what exists.
type Status struct {
	RunID   string
	Dir     string
	Manager ProcStatus
	// ManagerURL is the manager's API; CAFile and AdminTokenFile let knitterctl use it.
	ManagerURL     string
	CAFile         string
	AdminTokenFile string
	// Nodes are the nodes, then the agents in the root namespace (Netns empty).
	Nodes []NodeStatus
}

// ProcStatus says whether a recorded process runs.
type ProcStatus struct {
	Pid     int
	Running bool
	Log     string
}

// NodeStatus is one node's summary.
type NodeStatus struct {
	Name        string
	Netns       string
	NetnsExists bool
	VTEP        string
	Socket      string
	Agent       ProcStatus
}

// Status reports what runs and what exists now.
func (c *Cluster) Status() Status {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := &c.st.Manager
	s := Status{RunID: c.st.RunID, Dir: c.st.Dir, ManagerURL: m.URL, CAFile: m.CAFile, AdminTokenFile: m.AdminFile,
		Manager: ProcStatus{Pid: m.Proc.Pid, Running: m.Proc.alive(), Log: m.Proc.Log}}
	for _, n := range slices.Concat(c.st.Nodes, c.st.Extra) {
		s.Nodes = append(s.Nodes, NodeStatus{Name: n.Name, Netns: n.Netns, NetnsExists: netnsExists(n.Netns), VTEP: n.VTEP,
			Socket: n.Socket, Agent: ProcStatus{Pid: n.Agent.Pid, Running: n.Agent.alive(), Log: n.Agent.Log}})
	}
	return s
}
