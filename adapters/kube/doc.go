// Package kube is the agent's PodSource over the Kubernetes API (client-go): it reads the pod of a
// CNI call with the node's credentials. client-go's rest config reloads a bearer token file as it is
// rotated (projected service-account tokens), so long-running agents keep working.
package kube
