package main

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"time"

	"moderation/internal/auth"
)

// tokenCmd mints a bearer token from the service's signing key. It reads
// the key file locally rather than asking the service: whoever can read the
// key is an operator of this host, and this works before any token exists.
func tokenCmd(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("token", flag.ContinueOnError)
	fs.SetOutput(stderr)
	role := fs.String("role", "", "service, reviewer, admin or owner")
	subject := fs.String("subject", "", "who the token speaks for, e.g. svc-broadcast or alice")
	account := fs.String("account", "", "for role owner: the one account the token reaches")
	ttl := fs.Duration("ttl", auth.DefaultTTL, "how long the token is valid")
	keyFile := fs.String("key", envOr("MODERATION_TOKEN_KEY_FILE", ""), "the service's token signing key (PEM); empty: auth/token.key under -data-dir")
	dataDir := fs.String("data-dir", envOr("MODERATION_DATA_DIR", "./data"), "the service's data directory, where it creates its key on first start")
	asJSON := fs.Bool("json", false, "print the token with its subject, role, account and expiry as JSON")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: modctl token -role ROLE -subject NAME [-account ACCT] [-ttl 24h] [-key FILE] [-data-dir DIR] [-json]")
		fmt.Fprintln(stderr, "\nprints a bearer token for the service's gRPC API on stdout, e.g. TOKEN=$(modctl token -role reviewer -subject alice)")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		fs.Usage()
		return fmt.Errorf("token takes no arguments, got %q", fs.Args())
	}
	id, err := tokenIdentity(*role, *subject, *account)
	if err != nil {
		return err
	}
	if *ttl <= 0 {
		return fmt.Errorf("flag -ttl: %v is not positive", *ttl)
	}

	file := *keyFile
	if file == "" {
		file = auth.DefaultKeyFile(*dataDir)
	}
	key, err := loadTokenKey(file)
	if err != nil {
		return err
	}
	token, expires, err := auth.NewIssuer(key).Mint(id, *ttl, time.Now())
	if err != nil {
		return err
	}
	if !*asJSON {
		fmt.Fprintln(stdout, token)
		return nil
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(struct {
		Token     string    `json:"token"`
		Subject   string    `json:"subject"`
		Role      auth.Role `json:"role"`
		Account   string    `json:"account"`
		ExpiresAt time.Time `json:"expires_at"`
	}{token, id.Subject, id.Role, id.Account, expires.UTC()})
}

// tokenIdentity checks the identity flags one at a time, so that an error
// names the flag to fix.
func tokenIdentity(role, subject, account string) (auth.Identity, error) {
	id := auth.Identity{Subject: subject, Role: auth.Role(role), Account: account}
	switch {
	case role == "":
		return id, errors.New("flag -role: required (service, reviewer, admin or owner)")
	case !id.Role.Valid():
		return id, fmt.Errorf("flag -role: %q is not service, reviewer, admin or owner", role)
	case subject == "":
		return id, errors.New("flag -subject: required")
	case id.Role == auth.RoleOwner && account == "":
		return id, errors.New("flag -account: required for role owner")
	case id.Role != auth.RoleOwner && account != "":
		return id, fmt.Errorf("flag -account: only for role owner, not %s", role)
	}
	// What is left is the characters and lengths Identity.Validate checks.
	if err := (auth.Identity{Subject: subject, Role: auth.RoleAdmin}).Validate(); err != nil {
		return id, fmt.Errorf("flag -subject: %w", err)
	}
	if err := id.Validate(); err != nil {
		return id, fmt.Errorf("flag -account: %w", err)
	}
	return id, nil
}

// loadTokenKey loads the signing key, saying what to do about the two
// failures an operator meets: no key yet, and a key they may not read.
func loadTokenKey(file string) (ed25519.PrivateKey, error) {
	key, err := auth.LoadKey(file)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("no token key at %s: start moderationd once (it creates the key in its data directory), or pass -key or -data-dir", file)
	case errors.Is(err, fs.ErrPermission):
		return nil, fmt.Errorf("%w (minting needs the service's key: run as its user, or ask an admin for a token)", err)
	}
	return key, err
}
