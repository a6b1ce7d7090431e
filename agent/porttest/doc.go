// Package porttest holds the contract tests of knitter-agent's ports other than the Dataplane
// (agent/dataplanetest): the CheckpointStore, the PodSource and the ManagerClient. Each contract
// runs against the real adapter and the fake, so that a test that passes on the fake means the same
// on the real thing.
package porttest
