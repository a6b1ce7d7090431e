package local

// `make test-e2e E2E_FLAGS=-ginkgo.v` passes the suite's flags to every test binary under ./e2e/...;
// importing ginkgo defines them here too, so that this package's unit tests accept (and ignore) them.
import _ "github.com/onsi/ginkgo/v2"
