package natsbus

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"
)

// Roles a NATS user of the embedded server can have. Platform services get
// publisher credentials; dashboards and audit tools that only follow
// enforcement get follower credentials; only the service itself (and
// modctl on its host) holds service credentials.
const (
	// RoleService may do everything in the application account: declare
	// streams, write buckets, publish decisions and audit records.
	RoleService = "service"
	// RolePublisher publishes events (with JetStream acks) and follows
	// enforcement and purge notices. Nothing else.
	RolePublisher = "publisher"
	// RoleFollower follows enforcement and purge notices and publishes
	// nothing.
	RoleFollower = "follower"
)

// Roles lists every role, in the order they are created on first start.
var Roles = []string{RoleService, RolePublisher, RoleFollower}

// ServiceInboxPrefix is where replies to the service's own requests (its
// JetStream API calls, its KV watches' deliveries) arrive. Publishers may
// subscribe to _INBOX.> for their publish acks, so the service must not use
// _INBOX: a publisher could read its replies.
const ServiceInboxPrefix = "_MOD_INBOX"

// Names of the accounts on the embedded server, as they appear in its
// monitoring and logs; the accounts themselves are known by their keys.
const (
	appAccountName    = "MODERATION"
	systemAccountName = "SYS"
)

// TrustDir is where the embedded server's operator and account keys and
// the users' credentials live: <data-dir>/nats.
func TrustDir(dataDir string) string { return filepath.Join(dataDir, "nats") }

// CredsPath is the credentials file the embedded server creates for role
// on first start: <data-dir>/nats/<role>.creds.
func CredsPath(dataDir, role string) string {
	return filepath.Join(TrustDir(dataDir), role+".creds")
}

// As connects as role with the credentials the embedded server created in
// dataDir. The service role also takes the service's inbox prefix, so its
// replies never pass where publishers can subscribe.
func As(dataDir, role string) nats.Option {
	creds := nats.UserCredentials(CredsPath(dataDir, role))
	return func(o *nats.Options) error {
		if err := creds(o); err != nil {
			return err
		}
		if role == RoleService {
			return ServiceInbox()(o)
		}
		return nil
	}
}

// ServiceInbox is the option every connection acting as the service takes.
func ServiceInbox() nats.Option { return nats.CustomInboxPrefix(ServiceInboxPrefix) }

// Permissions is what a user of role may do in the application account.
// An allow list denies everything not on it, including $JS.API.>, $KV.>
// and the service's inbox.
func Permissions(role string) (jwt.Permissions, error) {
	var p jwt.Permissions
	switch role {
	case RoleService:
		// Everything in the account: the zero value.
	case RolePublisher:
		// Four tokens only: the partition token is the stream's to add.
		p.Pub.Allow.Add(PublishSubjects)
		p.Sub.Allow.Add(EnforcementPrefix+">", PurgePrefix+">",
			// JetStream publish acks come back on the publisher's inbox.
			nats.InboxPrefix+">")
	case RoleFollower:
		p.Pub.Deny.Add(">")
		p.Sub.Allow.Add(EnforcementPrefix+">", PurgePrefix+">")
	default:
		return p, fmt.Errorf("role %q is not one of %s", role, strings.Join(Roles, ", "))
	}
	return p, nil
}

// Trust holds the keys of the embedded server's operator, its application
// account (where all streams and buckets live), the account's signing key
// (which signs users) and its system account. They are kept in
// <data-dir>/nats so that credentials handed out stay valid across
// restarts.
//
// Users are signed by the signing key, not the account's own: deleting
// signing.nk and restarting invalidates every credential issued so far
// (the role files are written again) while the account, and with it the
// JetStream store, stays the same. account.nk must never be lost: the
// store keeps the streams under the account's public key.
type Trust struct {
	operator nkeys.KeyPair
	account  nkeys.KeyPair
	signing  nkeys.KeyPair
	system   nkeys.KeyPair
}

// Key files in the trust directory: nkey seeds, as nsc names them.
const (
	operatorSeedFile = "operator.nk"
	accountSeedFile  = "account.nk"
	signingSeedFile  = "signing.nk"
	systemSeedFile   = "system.nk"
)

// LoadOrCreateTrust reads the keys in <dataDir>/nats, creating any that is
// missing (the directory 0700, the seeds 0600), and writes the credentials
// of every role that has none yet.
func LoadOrCreateTrust(dataDir string) (*Trust, error) {
	dir := TrustDir(dataDir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create nats trust dir: %w", err)
	}
	// A directory made by hand may be wider; what is in it is secret.
	if err := os.Chmod(dir, 0o700); err != nil {
		return nil, fmt.Errorf("restrict nats trust dir: %w", err)
	}
	t := &Trust{}
	var err error
	if t.operator, err = loadOrCreateSeed(filepath.Join(dir, operatorSeedFile), nkeys.CreateOperator); err != nil {
		return nil, err
	}
	if t.account, err = loadOrCreateSeed(filepath.Join(dir, accountSeedFile), nkeys.CreateAccount); err != nil {
		return nil, err
	}
	if t.signing, err = loadOrCreateSeed(filepath.Join(dir, signingSeedFile), nkeys.CreateAccount); err != nil {
		return nil, err
	}
	if t.system, err = loadOrCreateSeed(filepath.Join(dir, systemSeedFile), nkeys.CreateAccount); err != nil {
		return nil, err
	}
	signingPub, err := t.signing.PublicKey()
	if err != nil {
		return nil, fmt.Errorf("signing public key: %w", err)
	}
	for _, role := range Roles {
		file := CredsPath(dataDir, role)
		if current, err := credsIssuer(file); err == nil && current == signingPub {
			continue
		} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		// Missing, or signed by a key that is gone (rotated): such a file
		// could never connect, so it is replaced.
		creds, err := t.UserCreds(role, role, 0)
		if err != nil {
			return nil, err
		}
		if err := writeSecret(file, creds); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// LoadTrust reads the keys the embedded server created in <dataDir>/nats,
// creating nothing: modctl issues credentials with it.
func LoadTrust(dataDir string) (*Trust, error) {
	dir := TrustDir(dataDir)
	t := &Trust{}
	var err error
	if t.account, err = loadSeed(filepath.Join(dir, accountSeedFile)); err != nil {
		return nil, err
	}
	if t.signing, err = loadSeed(filepath.Join(dir, signingSeedFile)); err != nil {
		return nil, err
	}
	return t, nil
}

// UserCreds signs a new user of role with the signing key and returns it
// as a .creds file (what nats.UserCredentials and the nats CLI read). A
// ttl of 0 never expires.
func (t *Trust) UserCreds(role, name string, ttl time.Duration) ([]byte, error) {
	perms, err := Permissions(role)
	if err != nil {
		return nil, err
	}
	user, err := nkeys.CreateUser()
	if err != nil {
		return nil, fmt.Errorf("create user key: %w", err)
	}
	pub, err := user.PublicKey()
	if err != nil {
		return nil, fmt.Errorf("user public key: %w", err)
	}
	seed, err := user.Seed()
	if err != nil {
		return nil, fmt.Errorf("user seed: %w", err)
	}
	accountPub, err := t.accountPublicKey()
	if err != nil {
		return nil, err
	}
	claims := jwt.NewUserClaims(pub)
	claims.IssuerAccount = accountPub
	claims.Name = name
	claims.Permissions = perms
	claims.Tags.Add("role:" + role)
	if ttl > 0 {
		claims.Expires = time.Now().Add(ttl).Unix()
	}
	token, err := claims.Encode(t.signing)
	if err != nil {
		return nil, fmt.Errorf("sign %s user %s: %w", role, name, err)
	}
	creds, err := jwt.FormatUserConfig(token, seed)
	if err != nil {
		return nil, fmt.Errorf("format %s credentials: %w", role, err)
	}
	return creds, nil
}

// configure makes opts trust only the operator: every client must present
// a user JWT signed by one of its accounts. No anonymous client, no
// default account.
func (t *Trust) configure(opts *server.Options) error {
	opPub, err := t.operator.PublicKey()
	if err != nil {
		return fmt.Errorf("operator public key: %w", err)
	}
	accPub, err := t.account.PublicKey()
	if err != nil {
		return fmt.Errorf("account public key: %w", err)
	}
	sysPub, err := t.system.PublicKey()
	if err != nil {
		return fmt.Errorf("system account public key: %w", err)
	}
	signingPub, err := t.signing.PublicKey()
	if err != nil {
		return fmt.Errorf("signing public key: %w", err)
	}
	oc := jwt.NewOperatorClaims(opPub)
	oc.Name = "moderation"
	oc.SystemAccount = sysPub
	opJWT, err := oc.Encode(t.operator)
	if err != nil {
		return fmt.Errorf("sign operator: %w", err)
	}
	// The server takes the claims as decoded from a JWT, issuer and all.
	if oc, err = jwt.DecodeOperatorClaims(opJWT); err != nil {
		return fmt.Errorf("decode operator: %w", err)
	}

	ac := jwt.NewAccountClaims(accPub)
	ac.Name = appAccountName
	ac.SigningKeys.Add(signingPub)
	ac.Limits.JetStreamLimits = jwt.JetStreamLimits{
		MemoryStorage: jwt.NoLimit, DiskStorage: jwt.NoLimit, Streams: jwt.NoLimit, Consumer: jwt.NoLimit,
	}
	accJWT, err := ac.Encode(t.operator)
	if err != nil {
		return fmt.Errorf("sign account: %w", err)
	}
	sc := jwt.NewAccountClaims(sysPub)
	sc.Name = systemAccountName
	sysJWT, err := sc.Encode(t.operator)
	if err != nil {
		return fmt.Errorf("sign system account: %w", err)
	}
	resolver := &server.MemAccResolver{}
	if err := resolver.Store(accPub, accJWT); err != nil {
		return fmt.Errorf("store account: %w", err)
	}
	if err := resolver.Store(sysPub, sysJWT); err != nil {
		return fmt.Errorf("store system account: %w", err)
	}
	opts.TrustedOperators = []*jwt.OperatorClaims{oc}
	opts.AccountResolver = resolver
	opts.SystemAccount = sysPub
	return nil
}

// accountPublicKey is the application account's public key, the name of
// its directory in the JetStream store.
func (t *Trust) accountPublicKey() (string, error) {
	pub, err := t.account.PublicKey()
	if err != nil {
		return "", fmt.Errorf("account public key: %w", err)
	}
	return pub, nil
}

func loadOrCreateSeed(file string, create func() (nkeys.KeyPair, error)) (nkeys.KeyPair, error) {
	kp, err := loadSeed(file)
	if !errors.Is(err, fs.ErrNotExist) {
		return kp, err
	}
	if kp, err = create(); err != nil {
		return nil, fmt.Errorf("create key %s: %w", filepath.Base(file), err)
	}
	seed, err := kp.Seed()
	if err != nil {
		return nil, fmt.Errorf("seed of %s: %w", filepath.Base(file), err)
	}
	if err := writeSecret(file, append(seed, '\n')); err != nil {
		return nil, err
	}
	return kp, nil
}

func loadSeed(file string) (nkeys.KeyPair, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("read nats key: %w", err)
	}
	kp, err := nkeys.FromSeed([]byte(strings.TrimSpace(string(b))))
	if err != nil {
		return nil, fmt.Errorf("read nats key %s: %w", file, err)
	}
	return kp, nil
}

// credsIssuer is the key that signed the user in a .creds file.
func credsIssuer(file string) (string, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("read credentials: %w", err)
	}
	token, err := jwt.ParseDecoratedJWT(b)
	if err != nil {
		return "", fmt.Errorf("parse credentials %s: %w", file, err)
	}
	uc, err := jwt.DecodeUserClaims(token)
	if err != nil {
		return "", fmt.Errorf("decode credentials %s: %w", file, err)
	}
	return uc.Issuer, nil
}

// writeSecret writes a file only its owner can read, whole or not at all.
func writeSecret(file string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(file), "."+filepath.Base(file)+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", file, err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename, a no-op
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", file, err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", file, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", file, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", file, err)
	}
	if err := os.Rename(tmp.Name(), file); err != nil {
		return fmt.Errorf("write %s: %w", file, err)
	}
	return nil
}

// pinnedTLS is how the service reaches the server it embeds over TLS: it
// trusts exactly the certificate it serves, whatever names it carries, so
// a certificate issued for the platform's host name works on 127.0.0.1.
func pinnedTLS(certFile, keyFile string) (*tls.Config, error) {
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("load nats tls certificate: %w", err)
	}
	want := pair.Certificate[0]
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		// Verification is the pin below instead of the name and chain
		// checks: the server must present exactly this certificate.
		InsecureSkipVerify: true,
		VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
			if len(raw) == 0 || string(raw[0]) != string(want) {
				return errors.New("embedded nats server presented a certificate other than its own")
			}
			return nil
		},
	}, nil
}
