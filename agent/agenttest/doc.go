// Package agenttest holds the test doubles of knitter-agent's ports — an in-process manager on a
// real REST server, a map of pods, and an in-memory dataplane — so that the agent's, the plugin's
// and the end-to-end tests build the same world.
package agenttest
