package sim

// Swarm runs seeds from..to (inclusive) with base's other settings and returns every result, in
// seed order.
func Swarm(base Config, from, to uint64) []Result {
	var out []Result
	for seed := from; seed <= to; seed++ {
		c := base
		c.Seed = seed
		out = append(out, Run(c))
	}
	return out
}
