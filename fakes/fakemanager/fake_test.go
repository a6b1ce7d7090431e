package fakemanager_test

import (
	"testing"

	"github.com/knitter-cni/knitter/agent"
	"github.com/knitter-cni/knitter/agent/agenttest"
	"github.com/knitter-cni/knitter/agent/porttest"
	"github.com/knitter-cni/knitter/fakes/fakemanager"
)

func TestContract(t *testing.T) {
	porttest.ManagerClient(t, func(_ *testing.T, m *agenttest.Manager) (agent.ManagerClient, func(bool)) {
		c := fakemanager.New(m.M)
		return c, c.SetDown
	})
}
