package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strings"

	"moderation/internal/natsbus"
)

// natsCredsCmd issues NATS user credentials for a role on the embedded
// server, signed with the account's signing key in the data directory:
// one set per platform service, so each can be told apart in NATS's
// monitoring and given its own file. Like modctl token, it reads the key
// locally: whoever can read it operates this host.
func natsCredsCmd(_ context.Context, args []string, stdout, stderr io.Writer) error {
	flags := flag.NewFlagSet("nats-creds", flag.ContinueOnError)
	flags.SetOutput(stderr)
	role := flags.String("role", "", "publisher (publish events, follow enforcement), follower (follow enforcement) or service (everything)")
	name := flags.String("name", "", "who the credentials are for, e.g. svc-broadcast; default: the role")
	out := flags.String("out", "", "write the credentials to this new file (mode 0600) instead of stdout")
	ttl := flags.Duration("ttl", 0, "how long the credentials are valid; 0: until the signing key is rotated")
	dataDir := flags.String("data-dir", envOr("MODERATION_DATA_DIR", "./data"), "the service's data directory, holding its NATS keys (nats/account.nk, nats/signing.nk)")
	flags.Usage = func() {
		fmt.Fprintln(stderr, "usage: modctl nats-creds -role ROLE [-name NAME] [-out FILE] [-ttl D] [-data-dir DIR]")
		fmt.Fprintln(stderr, "\nissues NATS user credentials (.creds) for the embedded server, e.g.\n  modctl nats-creds -role publisher -name svc-broadcast -out broadcast.creds")
		flags.PrintDefaults()
	}
	if err := parseNoArgs(flags, args); err != nil {
		return err
	}
	if !slices.Contains(natsbus.Roles, *role) {
		return fmt.Errorf("flag -role: %q is not one of %s", *role, strings.Join(natsbus.Roles, ", "))
	}
	if *ttl < 0 {
		return fmt.Errorf("flag -ttl: %v is negative", *ttl)
	}
	if *name == "" {
		*name = *role
	}
	trust, err := natsbus.LoadTrust(*dataDir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%w: start moderationd once (it creates its NATS keys in its data directory), or pass -data-dir", err)
	case errors.Is(err, fs.ErrPermission):
		return fmt.Errorf("%w (issuing credentials needs the service's signing key: run as its user)", err)
	case err != nil:
		return err
	}
	creds, err := trust.UserCreds(*role, *name, *ttl)
	if err != nil {
		return err
	}
	if *out == "" {
		_, err := stdout.Write(creds)
		return err
	}
	f, err := os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("flag -out: %w", err)
	}
	if _, err := f.Write(creds); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", *out, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", *out, err)
	}
	fmt.Fprintf(stderr, "%s credentials for %s written to %s\n", *role, *name, *out)
	return nil
}
