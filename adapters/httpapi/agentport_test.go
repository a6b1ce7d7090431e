package httpapi_test

import (
	"testing"
	"time"

	"github.com/knitter-cni/knitter/adapters/httpapi"
	"github.com/knitter-cni/knitter/agent"
	"github.com/knitter-cni/knitter/agent/agenttest"
	"github.com/knitter-cni/knitter/agent/porttest"
)

func TestAgentClientContract(t *testing.T) {
	porttest.ManagerClient(t, func(_ *testing.T, m *agenttest.Manager) (agent.ManagerClient, func(bool)) {
		return httpapi.AgentClient{C: m.Client, Wait: time.Millisecond}, m.SetDown
	})
}
