package etcdstore

import (
	"testing"

	"github.com/knitter-cni/knitter/manager"
	"github.com/knitter-cni/knitter/manager/storetest"
)

// TestStoreContract runs the manager's store contract against the embedded etcd.
func TestStoreContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T, queueSize int) func() manager.Store {
		cfg := testConfig(t)
		cfg.QueueSize = queueSize
		return func() manager.Store { return ManagerStore{Store: openStore(t, cfg)} }
	})
}
