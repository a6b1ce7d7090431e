// Package layering states the import rules between Knitter's layers and checks the module against
// them (its test runs in `make verify`):
//
//   - core/ imports only the standard library and core/: it is pure.
//   - the component shells (agent/, manager/, monitor/, plugin/) import core/, their ports and
//     third-party libraries, never adapters/ or fakes/: they reach the world through ports.
//   - adapters/ and fakes/ implement ports and never import each other.
//   - only cmd/ wires adapters into shells; so do tests, the e2e suite, bench/, sim/ and hack/,
//     and test-support packages (a name ending in "test", such as agent/agenttest).
//   - nothing imports cmd/.
package layering
