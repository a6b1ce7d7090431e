package memstore_test

import (
	"testing"

	"github.com/knitter-cni/knitter/fakes/memstore"
	"github.com/knitter-cni/knitter/manager"
	"github.com/knitter-cni/knitter/manager/storetest"
)

func TestStoreContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T, queueSize int) func() manager.Store {
		s := memstore.New()
		s.SetQueueSize(queueSize)
		first := true
		return func() manager.Store {
			if first {
				first = false
				return s
			}
			return s.Peer()
		}
	})
}

func TestStoreFaultContract(t *testing.T) {
	storetest.RunFaults(t, func(t *testing.T) (func() manager.Store, storetest.Faults) {
		s := memstore.New()
		first := true
		return func() manager.Store {
			if first {
				first = false
				return s
			}
			return s.Peer()
		}, storetest.Faults{FailWriteOf: s.FailWriteOf}
	})
}
