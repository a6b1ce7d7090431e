// Package ipam hands out the IP addresses of a subnet and the MAC addresses of a network.
//
// A Pool owns one subnet. It works on uint64 offsets from the subnet's first address (IPv6 subnets are
// /64 or longer, so every offset fits), and its memory follows the number of addresses in use, never
// the size of the subnet: reserved addresses (network, broadcast, gateway, exclusions, everything
// outside the allocation ranges) are a short list of intervals, and the addresses in use are a sparse
// bitset whose chunks are sorted arrays while sparse and bitmaps while dense. An IPv4 /8 or an IPv6
// /64 costs what its allocated addresses cost.
//
// A released address cools down before anyone else gets it, so a stale ARP/ND entry or a slow peer
// does not reach a new pod; a sticky hold keeps a released address for one owner (a StatefulSet pod)
// until its TTL ends. Time is passed in by the caller and only Expire moves it: the package is pure and
// deterministic — the same calls give the same results, byte for byte.
package ipam
