package pki

import (
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
)

// loadPair reads a PEM certificate and its PEM EC private key.
func loadPair(certFile, keyFile string) (pair, error) {
	cert, err := readPEM(certFile, "CERTIFICATE")
	if err != nil {
		return pair{}, err
	}
	c, err := x509.ParseCertificate(cert)
	if err != nil {
		return pair{}, fmt.Errorf("pki: %s: %w", certFile, err)
	}
	keyDER, err := readPEM(keyFile, "EC PRIVATE KEY")
	if err != nil {
		return pair{}, err
	}
	k, err := x509.ParseECPrivateKey(keyDER)
	if err != nil {
		return pair{}, fmt.Errorf("pki: %s: %w", keyFile, err)
	}
	if !k.PublicKey.Equal(c.PublicKey) {
		return pair{}, fmt.Errorf("pki: %s is not the key of %s", keyFile, certFile)
	}
	return pair{cert: c, key: k}, nil
}

func readPEM(file, typ string) ([]byte, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("pki: %w", err)
	}
	block, _ := pem.Decode(b)
	if block == nil || block.Type != typ {
		return nil, fmt.Errorf("pki: %s holds no PEM %s", file, typ)
	}
	return block.Bytes, nil
}

// writePair writes a certificate (0644) and its key (0600), the key first so that a certificate on
// disk always has its key beside it.
func writePair(certFile, keyFile string, cert *x509.Certificate, key *ecdsa.PrivateKey) error {
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return fmt.Errorf("pki: encoding %s: %w", keyFile, err)
	}
	if err := writeAtomic(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		return err
	}
	return writeAtomic(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}), 0o644)
}

// writeAtomic replaces file with data through a synced temporary file and a rename, so that a crash
// leaves the old file or the new one, never half of one.
func writeAtomic(file string, data []byte, mode os.FileMode) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(file), "."+filepath.Base(file)+".tmp*")
	if err != nil {
		return fmt.Errorf("pki: %w", err)
	}
	defer func() {
		if err != nil {
			_ = os.Remove(tmp.Name())
		}
	}()
	if err = tmp.Chmod(mode); err == nil {
		_, err = tmp.Write(data)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), file)
	}
	if err != nil {
		return fmt.Errorf("pki: writing %s: %w", file, err)
	}
	return nil
}
