package httpapi

import "strings"

// suggest returns the known name closest to key, if it is close enough to be what the caller meant:
// a small edit distance, or one name containing the other ("vlan_id" and "vlan").
func suggest(key string, known []string) string {
	k := normalizeName(key)
	best, bestDist := "", -1
	for _, n := range known {
		d := editDistance(k, normalizeName(n))
		if bestDist < 0 || d < bestDist {
			best, bestDist = n, d
		}
	}
	if best == "" {
		return ""
	}
	limit := 2
	if len(k) <= 3 {
		limit = 1
	}
	if bestDist <= limit {
		return best
	}
	for _, n := range known {
		nn := normalizeName(n)
		if len(k) >= 3 && len(nn) >= 3 && (strings.Contains(nn, k) || strings.Contains(k, nn)) {
			return n
		}
	}
	return ""
}

// normalizeName folds case and treats '-' like '_', the usual slips in field names.
func normalizeName(s string) string {
	return strings.ReplaceAll(strings.ToLower(s), "-", "_")
}

// editDistance is the optimal-string-alignment distance between a and b, in bytes: insertions,
// deletions, substitutions and swaps of neighbours ("dts" for "dst") each count one.
func editDistance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}
