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
