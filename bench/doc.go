// Package bench holds Knitter's whole-component benchmarks: each starts the real pieces (embedded
// etcd, the manager, its HTTPS API) on loopback and reports throughput and latency percentiles.
// Results are recorded in docs/benchmarks.md. Run them with `make bench PKG=./bench`.
package bench
