package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"strconv"
	"strings"

	"github.com/knitter-cni/knitter/core/model"
)

// The original Knitter manager's /nw/v1 routes, mapped onto the same commands. Objects are named,
// not numbered: a network's or IP group's "id" in these paths and bodies is its name. Bodies and
// answers keep the original shapes; errors use this API's one error shape.
func (s *Server) compatRoutes() {
	const nw = "/nw/v1/tenants"
	s.api("GET "+nw, s.nwListTenants)
	s.api("POST "+nw, s.nwCreateTenantByBody)
	s.api("GET "+nw+"/{tenant}", s.nwGetTenant)
	s.api("POST "+nw+"/{tenant}", s.nwCreateTenant)
	s.api("DELETE "+nw+"/{tenant}", s.nwDeleteTenant)
	s.api("PUT "+nw+"/{tenant}/quota", s.nwUpdateQuota, "value")

	s.api("GET "+nw+"/{tenant}/networks", s.nwListNetworks, "name", "public", "all")
	s.api("POST "+nw+"/{tenant}/networks", s.nwCreateNetwork)
	s.api("GET "+nw+"/{tenant}/networks/{id}", s.nwGetNetwork)
	s.api("DELETE "+nw+"/{tenant}/networks/{id}", s.nwDeleteNetwork)

	s.api("GET "+nw+"/{tenant}/ipgroups", s.nwListIPGroups, "network_id")
	s.api("POST "+nw+"/{tenant}/ipgroups", s.nwCreateIPGroup)
	s.api("GET "+nw+"/{tenant}/ipgroups/{id}", s.nwGetIPGroup)
	s.api("PUT "+nw+"/{tenant}/ipgroups/{id}", s.nwUpdateIPGroup)
	s.api("DELETE "+nw+"/{tenant}/ipgroups/{id}", s.nwDeleteIPGroup)

	s.open("GET "+nw+"/admin/health", s.healthz)
}

// flexUint is a whole number the original API took as a JSON string ("100") or number (100).
type flexUint uint32

// UnmarshalJSON implements json.Unmarshaler.
func (f *flexUint) UnmarshalJSON(b []byte) error {
	s := string(b)
	if len(b) > 0 && b[0] == '"' {
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
	}
	if s = strings.TrimSpace(s); s == "" || s == "null" {
		*f = 0
		return nil
	}
	v, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return fmt.Errorf("%s is not a whole number; give one such as \"100\"", b)
	}
	*f = flexUint(v)
	return nil
}

// flexIPs is the original IP group address list: a string "[10.0.0.5,10.0.0.6]" (brackets
// optional), or a JSON array of addresses.
type flexIPs []netip.Addr

// UnmarshalJSON implements json.Unmarshaler.
func (f *flexIPs) UnmarshalJSON(b []byte) error {
	var list []string
	if len(b) > 0 && b[0] == '[' {
		if err := json.Unmarshal(b, &list); err != nil {
			return errors.New("give the addresses as \"[10.0.0.5,10.0.0.6]\" or a JSON array of strings")
		}
	} else {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return errors.New("give the addresses as \"[10.0.0.5,10.0.0.6]\"")
		}
		s = strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(s), "["), "]")
		if strings.TrimSpace(s) != "" {
			list = strings.Split(s, ",")
		}
	}
	out := make(flexIPs, 0, len(list))
	for i, x := range list {
		a, err := netip.ParseAddr(strings.TrimSpace(x))
		if err != nil {
			return fmt.Errorf("address %d (%q) is not an IP address", i+1, strings.TrimSpace(x))
		}
		out = append(out, a)
	}
	*f = out
	return nil
}

// fieldMapper renames the core's field paths to the original body's: renames are tried in order
// (put longer paths first), and everything but the URL's tenant gets the body's wrapper prefix.
func fieldMapper(prefix string, renames ...[2]string) func(string) string {
	return func(f string) string {
		if f == "" || f == "tenant" {
			return f
		}
		for _, r := range renames {
			if f == r[0] || strings.HasPrefix(f, r[0]+".") || strings.HasPrefix(f, r[0]+"[") {
				f = r[1] + f[len(r[0]):]
				break
			}
		}
		return joinPath(prefix, f)
	}
}

// remapField rewrites the field path of a core error; other errors pass through unchanged.
func remapField(err error, fn func(string) string) error {
	var e *model.Error
	if err == nil || isUnavailable(err) || !errors.As(err, &e) {
		return err
	}
	c := *e
	c.Field = fn(c.Field)
	return &c
}

// okStatus is the original API's answer to every success.
const okStatus = http.StatusOK
