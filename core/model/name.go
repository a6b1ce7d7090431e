package model

import "strings"

// MaxNameLen is the longest name of a tenant, network or IP group: a Kubernetes DNS label.
const MaxNameLen = 63

// ValidateName checks that name is a DNS-1123 label extended with '_' (Knitter's original network
// names such as "net_api" use it): lower-case letters, digits, '-' and '_', starting and ending with
// a letter or digit.
func ValidateName(field, name string) error {
	if name == "" {
		return Invalid(field, "is empty; give a name such as \"net-api\"")
	}
	if len(name) > MaxNameLen {
		return Invalid(field, "%q is %d characters; use at most %d", name, len(name), MaxNameLen)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		alnum := c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
		if alnum || (c == '-' || c == '_') && i > 0 && i < len(name)-1 {
			continue
		}
		if c >= 'A' && c <= 'Z' {
			return Invalid(field, "%q has upper-case letters; use %q", name, strings.ToLower(name))
		}
		return Invalid(field, "%q has %q at position %d; use lower-case letters, digits, '-' and '_', starting and ending with a letter or digit", name, c, i)
	}
	return nil
}

// ValidateInterfaceName checks a Linux interface name: 1-15 bytes, no '/', ':', whitespace, and not
// "." or "..".
func ValidateInterfaceName(field, name string) error {
	if name == "" {
		return Invalid(field, "is empty; give an interface name such as \"eth1\"")
	}
	if len(name) > 15 {
		return Invalid(field, "%q is %d characters; Linux interface names have at most 15", name, len(name))
	}
	if name == "." || name == ".." {
		return Invalid(field, "%q is not a valid interface name", name)
	}
	for i := 0; i < len(name); i++ {
		switch c := name[i]; {
		case c == '/' || c == ':' || c <= ' ' || c == 0x7f:
			return Invalid(field, "%q has %q at position %d; interface names may not contain '/', ':' or whitespace", name, c, i)
		}
	}
	return nil
}

// MaxUIDLen bounds a pod UID (a Kubernetes UID has 36 characters).
const MaxUIDLen = 128

// ValidateUID checks a pod UID. Port ids ("<uid>/<interface>") and store keys ("pods/<uid>") are built
// from it, so it is limited to a safe charset: letters, digits, '-', '_' and '.', starting with a
// letter or digit — a Kubernetes UUID passes, "a/b" and "../x" do not.
func ValidateUID(field, uid string) error {
	if uid == "" {
		return Invalid(field, "is empty; every pod allocation is keyed by the pod's UID")
	}
	if len(uid) > MaxUIDLen {
		return Invalid(field, "is %d characters; use at most %d (a Kubernetes UID has 36)", len(uid), MaxUIDLen)
	}
	for i := 0; i < len(uid); i++ {
		c := uid[i]
		if isAlnum(c) || c >= 'A' && c <= 'Z' || i > 0 && (c == '-' || c == '_' || c == '.') {
			continue
		}
		return Invalid(field, "%q has %q at position %d; a pod UID has letters, digits, '-', '_' and '.', starting with a letter or digit", uid, c, i)
	}
	return nil
}

// MaxNodeNameLen is the longest node name: a DNS-1123 subdomain, as Kubernetes requires.
const MaxNodeNameLen = 253

// ValidateNodeName checks that name is a DNS-1123 subdomain (Kubernetes node names are): dot-separated
// labels of lower-case letters, digits and '-', each 1-63 characters starting and ending with a
// letter or digit, 253 characters at most.
func ValidateNodeName(field, name string) error {
	if name == "" {
		return Invalid(field, "is empty; give the Kubernetes node name, such as \"node-1\"")
	}
	if len(name) > MaxNodeNameLen {
		return Invalid(field, "%q is %d characters; a node name has at most %d", name, len(name), MaxNodeNameLen)
	}
	start := 0
	for i := 0; i <= len(name); i++ {
		if i < len(name) && name[i] != '.' {
			c := name[i]
			if c >= 'A' && c <= 'Z' {
				return Invalid(field, "%q has upper-case letters; node names are lower case (%q)", name, strings.ToLower(name))
			}
			if !isAlnum(c) && c != '-' {
				return Invalid(field, "%q has %q at position %d; a node name is a DNS-1123 subdomain: lower-case letters, digits, '-' and '.'", name, c, i)
			}
			continue
		}
		label := name[start:i]
		switch {
		case label == "":
			return Invalid(field, "%q has an empty label at position %d; a node name is dot-separated labels such as \"node-1.example\"", name, start)
		case len(label) > MaxNameLen:
			return Invalid(field, "%q has a label of %d characters; labels have at most %d", name, len(label), MaxNameLen)
		case label[0] == '-' || label[len(label)-1] == '-':
			return Invalid(field, "%q has a label starting or ending with '-'; start and end labels with a letter or digit", name)
		}
		start = i + 1
	}
	return nil
}

func isAlnum(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }
