package fakedp

import "errors"

// Op names a call or a step that a fault can hit.
type Op string

// The calls of the port, each faulted on entry (before it does anything).
const (
	OpAttach    Op = "attach"
	OpDetach    Op = "detach"
	OpCheck     Op = "check"
	OpSyncPeers Op = "sync-peers"
)

// The steps inside Attach; a fault there fails Attach half-way, which rolls back.
const (
	OpCreateBridge  Op = "create-bridge"
	OpCreateVXLAN   Op = "create-vxlan"
	OpCreateVeth    Op = "create-veth"
	OpCreateMacvlan Op = "create-macvlan"
	OpMoveVF        Op = "move-vf"
	OpAddAddr       Op = "add-addr"
	OpAddRoute      Op = "add-route"
)

// ErrInjected is the error FailNext uses when given nil.
var ErrInjected = errors.New("fakedp: injected fault")

// FailNext makes the next occurrence of op fail with err (ErrInjected when nil). Faults queue: two
// calls fail the next two occurrences.
func (f *Fake) FailNext(op Op, err error) {
	if err == nil {
		err = ErrInjected
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults[op] = append(f.faults[op], err)
}

// fault counts op and pops its next queued fault. Callers hold mu.
func (f *Fake) fault(op Op) error {
	f.calls[op]++
	q := f.faults[op]
	if len(q) == 0 {
		return nil
	}
	f.faults[op] = q[1:]
	return q[0]
}
