// Package wire is the protocol between knitter-plugin and knitter-agent: JSON over HTTP on the
// agent's unix socket. It holds plain types only and imports nothing but the standard library, so
// that the plugin — exec'd once per CNI call — stays small and starts fast; the agent does the work.
//
// Every CNI verb is one POST to Path+verb ("/v1/cni/add") with a Request body. A success answers 200
// with a Response; a failure answers a non-2xx status with an Error, whose Code is the CNI error code
// the plugin prints (CodeTryAgainLater for a transient failure the runtime should retry).
package wire
