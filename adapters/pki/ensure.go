package pki

import (
	"crypto/ecdsa"
	"crypto/x509"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Files are the paths of the TLS material in a directory.
type Files struct {
	// CA is the CA certificate (PEM): clients trust it, e.g. knitterctl --ca-file.
	CA string
	// Cert and Key are the server certificate and its private key (PEM).
	Cert string
	Key  string
}

// The file names in the directory. The CA key stays beside the CA so that later starts can issue a
// new server certificate (new addresses, renewal) that clients already trust.
const (
	caCertName     = "ca.crt"
	caKeyName      = "ca.key"
	serverCertName = "server.crt"
	serverKeyName  = "server.key"
)

// Validity of what Ensure issues. A server certificate within renewBefore of its end is replaced.
const (
	caValidity     = 10 * 365 * 24 * time.Hour
	serverValidity = 2 * 365 * 24 * time.Hour
	renewBefore    = 30 * 24 * time.Hour
)

// Ensure makes sure dir holds a CA and a server certificate for hosts (IP addresses and DNS names;
// 127.0.0.1, ::1 and localhost are always included) and returns their paths. The first call creates
// both. Later calls reuse them, and issue a new server certificate from the same CA only when the
// existing one lacks one of hosts, does not match its key or the CA, or is about to expire.
func Ensure(dir string, hosts []string) (Files, error) {
	return ensure(dir, hosts, time.Now())
}

func ensure(dir string, hosts []string, now time.Time) (Files, error) {
	f := Files{
		CA:   filepath.Join(dir, caCertName),
		Cert: filepath.Join(dir, serverCertName),
		Key:  filepath.Join(dir, serverKeyName),
	}
	sans, err := parseHosts(hosts)
	if err != nil {
		return Files{}, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return Files{}, fmt.Errorf("pki: creating %s: %w", dir, err)
	}
	ca, err := ensureCA(dir, now)
	if err != nil {
		return Files{}, err
	}
	// A missing, damaged or unfit server pair is replaced: it holds nothing that cannot be issued
	// again, and clients trust it through the CA.
	if cur, err := loadPair(f.Cert, f.Key); err == nil && cur.fits(ca, sans, now) {
		return f, nil
	}
	cert, key, err := issueServer(ca, sans, now)
	if err != nil {
		return Files{}, err
	}
	if err := writePair(f.Cert, f.Key, cert, key); err != nil {
		return Files{}, err
	}
	return f, nil
}

// ensureCA loads the CA of dir, or creates it when neither of its files exists. Exactly one of them
// existing is an error: a CA certificate without its key cannot sign, and replacing it silently would
// break every client that trusts it.
func ensureCA(dir string, now time.Time) (pair, error) {
	certFile, keyFile := filepath.Join(dir, caCertName), filepath.Join(dir, caKeyName)
	certOK, keyOK := exists(certFile), exists(keyFile)
	switch {
	case certOK && keyOK:
		ca, err := loadPair(certFile, keyFile)
		if err != nil {
			return pair{}, fmt.Errorf("pki: loading the CA: %w", err)
		}
		if !ca.cert.IsCA {
			return pair{}, fmt.Errorf("pki: %s is not a CA certificate; remove %s and %s to make a new CA", certFile, certFile, keyFile)
		}
		return ca, nil
	case certOK != keyOK:
		missing := keyFile
		if !certOK {
			missing = certFile
		}
		return pair{}, fmt.Errorf("pki: %s is missing; restore it, or remove %s and %s to make a new CA (clients must then trust the new one)", missing, certFile, keyFile)
	}
	cert, key, err := issueCA(now)
	if err != nil {
		return pair{}, err
	}
	if err := writePair(certFile, keyFile, cert, key); err != nil {
		return pair{}, err
	}
	return pair{cert: cert, key: key}, nil
}

// sans are the subject alternative names of the server certificate.
type sans struct {
	ips   []netip.Addr
	names []string
}

// parseHosts sorts hosts into IP and DNS names, adding the loopback names, and refuses what is
// neither (a URL, a host:port).
func parseHosts(hosts []string) (sans, error) {
	var s sans
	for _, h := range append([]string{"127.0.0.1", "::1", "localhost"}, hosts...) {
		h = strings.TrimSpace(h)
		if h == "" {
			continue
		}
		if a, err := netip.ParseAddr(h); err == nil {
			if !slices.Contains(s.ips, a.Unmap()) {
				s.ips = append(s.ips, a.Unmap())
			}
			continue
		}
		if !validDNSName(h) {
			return sans{}, fmt.Errorf("pki: host %q is neither an IP address nor a DNS name; give one such as \"10.0.0.2\" or \"manager.example.com\" (no scheme or port)", h)
		}
		h = strings.ToLower(h)
		if !slices.Contains(s.names, h) {
			s.names = append(s.names, h)
		}
	}
	return s, nil
}

func validDNSName(h string) bool {
	if len(h) > 253 {
		return false
	}
	for i, label := range strings.Split(h, ".") {
		if label == "*" && i == 0 {
			continue
		}
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

// pair is a certificate and its key.
type pair struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

// fits reports whether the server pair can be kept: signed by ca, its key matching, valid for long
// enough, and naming every host.
func (p pair) fits(ca pair, want sans, now time.Time) bool {
	if p.cert.CheckSignatureFrom(ca.cert) != nil || !p.key.PublicKey.Equal(p.cert.PublicKey) {
		return false
	}
	if now.Before(p.cert.NotBefore) || now.Add(renewBefore).After(p.cert.NotAfter) {
		return false
	}
	for _, a := range want.ips {
		if !slices.ContainsFunc(p.cert.IPAddresses, func(ip net.IP) bool {
			got, ok := netip.AddrFromSlice(ip)
			return ok && got.Unmap() == a
		}) {
			return false
		}
	}
	for _, n := range want.names {
		if !slices.Contains(p.cert.DNSNames, n) {
			return false
		}
	}
	return true
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
