// Command knitter-plugin is Knitter's CNI plugin. Install it in the runtime's CNI bin directory under
// the name the network configuration's "type" gives ("knitter"); it forwards every call to
// knitter-agent on the node.
package main

import (
	"os"

	"github.com/containernetworking/cni/pkg/skel"

	"github.com/knitter-cni/knitter/plugin"
)

func main() {
	p := &plugin.Plugin{Out: os.Stdout}
	skel.PluginMainFuncs(p.Funcs(), plugin.Versions, plugin.About)
}
