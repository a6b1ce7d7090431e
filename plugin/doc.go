// Package plugin is knitter-plugin's logic: it reads the CNI network configuration, forwards each
// call to knitter-agent over the agent's unix socket (agent/wire) and prints the agent's result in
// the configuration's CNI version.
//
// The plugin is exec'd once per CNI call, so its size and start-up time are on every pod's critical
// path: it imports the CNI library and the standard library, nothing else, and talks HTTP to the
// agent with a few lines of its own rather than net/http (which would drag TLS into the binary).
package plugin
