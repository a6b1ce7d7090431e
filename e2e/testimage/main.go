// Command knitter-testpod is the one binary of the e2e suite's pod image, built statically so the
// image needs nothing else (FROM scratch). It answers to the name it is called by, as busybox does:
//
//	knitter-testpod serve [ADDR]     an HTTP echo server (default :8080) that runs until killed
//	ip -j addr                       the interfaces as JSON (name, MAC, MTU, addresses), as iproute2's ip
//	ip [-4|-6] route show default    the default routes as "default via GW dev IFNAME"
//	ip neigh replace ADDR lladdr MAC dev IFNAME [nud permanent]   a static neighbour entry
//	ping [-W SECONDS] ADDR           one ICMP echo every 200 ms until one is answered (exit 0) or the wait ends
//	http-get URL                     GET URL and print the body
package main

import (
	"fmt"
	"os"
	"path/filepath"
)

func main() {
	args := os.Args
	name := filepath.Base(args[0])
	if name == "knitter-testpod" && len(args) > 1 {
		name, args = args[1], args[1:]
	}
	var err error
	switch name {
	case "serve":
		err = serve(args[1:])
	case "ip":
		err = ip(args[1:])
	case "ping":
		err = ping(args[1:])
	case "http-get":
		err = httpGet(args[1:])
	default:
		err = fmt.Errorf("unknown command %q; use serve, ip, ping or http-get", name)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, name+":", err)
		os.Exit(1)
	}
}
