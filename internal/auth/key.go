package auth

import (
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// DefaultKeyFile is where the service keeps its token signing key under its
// data directory, and where modctl looks for it.
func DefaultKeyFile(dataDir string) string {
	return filepath.Join(dataDir, "auth", "token.key")
}

// LoadOrCreateKey loads the Ed25519 key at path, or creates one there if the
// file does not exist, so a fresh service can issue tokens without setup.
// created reports whether this call wrote the file.
func LoadOrCreateKey(path string) (key ed25519.PrivateKey, created bool, err error) {
	key, err = LoadKey(path)
	if err == nil {
		return key, false, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, false, err
	}
	_, key, err = ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, false, fmt.Errorf("generate token key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, false, fmt.Errorf("encode token key: %w", err)
	}
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	switch err := writeNew(path, pemBytes); {
	case errors.Is(err, fs.ErrExist):
		// Another process created it between our load and our write; its key
		// is the one tokens are being signed with, so use that.
		key, err := LoadKey(path)
		return key, false, err
	case err != nil:
		return nil, false, fmt.Errorf("create token key %s: %w", path, err)
	}
	return key, true, nil
}

// writeNew writes data to path, mode 0600, only if path does not exist. It
// writes a temporary file and hard-links it into place so that no reader
// ever sees a half-written key and two processes starting together cannot
// overwrite each other's key (a rename would).
func writeNew(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".token.key.*") // CreateTemp uses mode 0600
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Link(tmp, path)
}

// LoadKey reads an Ed25519 key written by LoadOrCreateKey (PKCS#8 PEM). A
// missing file gives an error that matches fs.ErrNotExist.
func LoadKey(path string) (ed25519.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load token key %s: %w", path, err)
	}
	key, err := parseKey(b)
	if err != nil {
		return nil, fmt.Errorf("load token key %s: %w", path, err)
	}
	return key, nil
}

// ParseKey parses a PKCS#8 PEM Ed25519 private key, for a key handed to the
// service in the environment rather than in a file.
func ParseKey(pemBytes []byte) (ed25519.PrivateKey, error) {
	key, err := parseKey(pemBytes)
	if err != nil {
		return nil, fmt.Errorf("parse token key: %w", err)
	}
	return key, nil
}

func parseKey(pemBytes []byte) (ed25519.PrivateKey, error) {
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		return nil, errors.New("no PEM block found")
	}
	if block.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("PEM block is %q, want \"PRIVATE KEY\" (PKCS#8 Ed25519)", block.Type)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("parse PKCS#8 key: %w", err)
	}
	key, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("key is %s, want Ed25519", keyKind(k))
	}
	return key, nil
}

// keyKind names a parsed key's algorithm for an error message.
func keyKind(k any) string {
	switch k.(type) {
	case *rsa.PrivateKey:
		return "RSA"
	case *ecdsa.PrivateKey:
		return "ECDSA"
	case *ecdh.PrivateKey:
		return "ECDH"
	}
	return fmt.Sprintf("%T", k)
}
