// Package pki makes and keeps the TLS material of knitter-manager: a self-signed CA and a server
// certificate signed by it, generated into the data directory on first start so that the API is
// TLS-protected without any setup. Operators who have their own certificates pass them instead.
//
// Keys are ECDSA P-256, written with mode 0600. Only the standard library is used.
package pki
