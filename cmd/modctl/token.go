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
	"os"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	moderationv1 "moderation/api/moderation/v1"
	"moderation/internal/auth"
)

// tokenCmd mints a bearer token, or with "revoke" revokes one.
//
// Minting goes through the service (AdminService/MintToken), so the mint
// is in its audit stream with the caller as actor: the admin token given
// with -token, or one modctl mints itself from the key file. When the
// service does not answer (not started yet, or down), or with -local, the
// token is signed here with the key file: whoever can read the key is an
// operator of this host who could sign anything anyway, and a token must
// be obtainable before the service runs. Such a mint cannot be in the
// service's audit stream; it is reported on stderr, with the token's id
// and never the token, for the operator's own log.
func tokenCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "revoke" {
		return tokenRevokeCmd(ctx, args[1:], stdout, stderr)
	}
	fs := flag.NewFlagSet("token", flag.ContinueOnError)
	fs.SetOutput(stderr)
	client := addClientFlags(fs)
	role := fs.String("role", "", "service, reviewer, admin or owner")
	subject := fs.String("subject", "", "who the token speaks for, e.g. svc-broadcast or alice")
	account := fs.String("account", "", "for role owner: the one account the token reaches")
	ttl := fs.Duration("ttl", auth.DefaultTTL, "how long the token is valid")
	keyFile := fs.String("key", envOr("MODERATION_TOKEN_KEY_FILE", ""), "the service's token signing key (PEM); empty: auth/token.key under -data-dir")
	local := fs.Bool("local", false, "sign with the key file here without asking the service (the mint is then not in its audit stream)")
	asJSON := fs.Bool("json", false, "print the token with its id, subject, role, account and expiry as JSON")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: modctl token -role ROLE -subject NAME [-account ACCT] [-ttl 24h] [-key FILE] [-data-dir DIR] [-local] [-json]")
		fmt.Fprintln(stderr, "       modctl token revoke TOKEN_ID|TOKEN [-note TEXT]")
		fmt.Fprintln(stderr, "\nprints a bearer token for the service's gRPC API on stdout, e.g. TOKEN=$(modctl token -role reviewer -subject alice).")
		fmt.Fprintln(stderr, "The service mints it and audits the mint; if it does not answer (or with -local) the token is\nsigned here with its key, and the mint is reported on stderr instead.")
		fs.PrintDefaults()
	}
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	id, err := tokenIdentity(*role, *subject, *account)
	if err != nil {
		return err
	}
	if *ttl <= 0 {
		return fmt.Errorf("flag -ttl: %v is not positive", *ttl)
	}
	if *ttl > maxTokenTTL {
		return fmt.Errorf("flag -ttl: %v is longer than the service allows (%v)", *ttl, maxTokenTTL)
	}

	file := *keyFile
	if file == "" {
		file = auth.DefaultKeyFile(client.dataDir)
	}
	caller := client.token
	if caller == "" {
		caller = os.Getenv("MODERATION_TOKEN")
	}
	// The key is needed to sign here, and to call the service as an admin
	// when no token is given.
	var key ed25519.PrivateKey
	if *local || caller == "" {
		if key, err = loadTokenKey(file); err != nil {
			return err
		}
	}
	why := "-local"
	if !*local {
		m, err := mintOverAPI(ctx, client, key, id, *ttl)
		if err == nil {
			return printToken(stdout, *asJSON, m, id)
		}
		if status.Code(err) != codes.Unavailable || key == nil {
			return client.callErr("mint token", err)
		}
		why = "the service at " + client.addr + " did not answer"
	}
	m, err := auth.NewIssuer(key).Issue(id, *ttl, time.Now())
	if err != nil {
		return err
	}
	// Not in the service's audit stream: say so, with what an audit record
	// would hold, for the operator's log.
	rec, _ := json.Marshal(auth.TokenRecord{Op: auth.OpMint, TokenID: m.ID, Subject: id.Subject, Role: id.Role, Account: id.Account,
		ExpiresAt: m.Expires.UTC(), Actor: "key:" + osUser(), Note: "signed locally with " + file + " (" + why + "): not in the service's audit stream", At: time.Now().UTC()})
	fmt.Fprintf(stderr, "modctl token: minted locally: %s\n", rec)
	return printToken(stdout, *asJSON, m, id)
}

// maxTokenTTL is the longest ttl MintToken accepts (see admin.proto).
const maxTokenTTL = 365 * 24 * time.Hour

// mintOverAPI asks the service to mint the token, as the caller's token
// or, with key (given only when there is no caller's token), as an admin
// token modctl mints itself for the call.
func mintOverAPI(ctx context.Context, client *clientFlags, key ed25519.PrivateKey, id auth.Identity, ttl time.Duration) (auth.Minted, error) {
	if key != nil {
		self, _, err := auth.NewIssuer(key).Mint(auth.Identity{Subject: "modctl:" + osUser(), Role: auth.RoleAdmin}, localTokenTTL, time.Now())
		if err != nil {
			return auth.Minted{}, err
		}
		client.token = self
	}
	resp, err := call(ctx, client, "mint token", func(ctx context.Context, conn *grpc.ClientConn) (*moderationv1.MintTokenResponse, error) {
		return moderationv1.NewAdminServiceClient(conn).MintToken(ctx, &moderationv1.MintTokenRequest{
			Subject: id.Subject, Role: string(id.Role), Account: id.Account, Ttl: durationpb.New(ttl)})
	})
	if err != nil {
		var ce *callError
		if errors.As(err, &ce) {
			return auth.Minted{}, ce.err // the status, for the caller to tell Unavailable
		}
		return auth.Minted{}, err
	}
	return auth.Minted{Token: resp.GetToken(), ID: resp.GetTokenId(), Expires: resp.GetExpiresAt().AsTime()}, nil
}

func printToken(stdout io.Writer, asJSON bool, m auth.Minted, id auth.Identity) error {
	if !asJSON {
		fmt.Fprintln(stdout, m.Token)
		return nil
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(struct {
		Token     string    `json:"token"`
		TokenID   string    `json:"token_id"`
		Subject   string    `json:"subject"`
		Role      auth.Role `json:"role"`
		Account   string    `json:"account"`
		ExpiresAt time.Time `json:"expires_at"`
	}{m.Token, m.ID, id.Subject, id.Role, id.Account, m.Expires.UTC()})
}

// tokenRevokeCmd revokes a token through AdminService/RevokeToken: by its
// id, or given whole (a token has dots, an id none).
func tokenRevokeCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("token revoke", flag.ContinueOnError)
	fs.SetOutput(stderr)
	client := addClientFlags(fs)
	note := fs.String("note", "", "why, for the audit record")
	asJSON := fs.Bool("json", false, "print the revocation as JSON")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: modctl token revoke TOKEN_ID|TOKEN [-note TEXT]\n\nRevokes a token on every instance of the service: it is refused from then on,\nthough it has not expired. The id is in modctl token -json and the audit record.")
		fs.PrintDefaults()
	}
	rest, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usageError(fs, "token revoke takes one token id or token")
	}
	req := &moderationv1.RevokeTokenRequest{Note: *note, Which: &moderationv1.RevokeTokenRequest_TokenId{TokenId: rest[0]}}
	if strings.Contains(rest[0], ".") {
		req.Which = &moderationv1.RevokeTokenRequest_Token{Token: rest[0]}
	}
	resp, err := call(ctx, client, "revoke token", func(ctx context.Context, conn *grpc.ClientConn) (*moderationv1.RevokeTokenResponse, error) {
		return moderationv1.NewAdminServiceClient(conn).RevokeToken(ctx, req)
	})
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(stdout, resp, true)
	}
	fmt.Fprintf(stdout, "revoked token %s at %s by %s\n", resp.GetTokenId(), formatTime(resp.GetRevokedAt()), resp.GetActor())
	return nil
}

// parseNoArgs parses the flags of a command that takes no arguments, and
// refuses any, naming the command by its flag set.
func parseNoArgs(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		fs.Usage()
		return fmt.Errorf("%s takes no arguments, got %q", fs.Name(), fs.Args())
	}
	return nil
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
