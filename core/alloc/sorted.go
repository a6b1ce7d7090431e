package alloc

import (
	"cmp"
	"maps"
	"slices"
)

// sortedKeys returns m's keys in order: every loop whose effect or output depends on order iterates
// through it, never over the map itself.
func sortedKeys[K cmp.Ordered, V any](m map[K]V) []K {
	return slices.Sorted(maps.Keys(m))
}
