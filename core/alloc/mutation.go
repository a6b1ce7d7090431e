package alloc

// Mutation is one write the persistence adapter must make for a command to be durable: a put of Value
// under Key, or a delete of Key when Value is nil. Keys are relative ("tenants/acme"); the adapter
// adds its own prefix. The mutations of one command must be applied atomically and in order.
type Mutation struct {
	Key   string
	Value []byte
}

// Delete reports whether m deletes its key.
func (m Mutation) Delete() bool { return m.Value == nil }

// Record is one stored key and value, as the persistence adapter loads them at start.
type Record struct {
	Key   string
	Value []byte
}
