package natsbus

import (
	"cmp"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math/big"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// DefaultClusterName is the cluster's name when none is given: every
// member must use the same.
const DefaultClusterName = "moderation"

// ClusterConfig makes the embedded server a member of a NATS cluster:
// routes to the other members, JetStream replicated across them. Every
// member must hold the same trust directory (TrustDir), copied from the
// first: the same operator and accounts, so credentials issued on one
// member work on every other, and the same route certificate, which is
// how members know each other.
type ClusterConfig struct {
	// Listen is host:port for routes from the other members; empty runs
	// the server alone, as before clusters.
	Listen string
	// Routes are the route addresses (host:port or nats://host:port) of
	// every member, this one included: JetStream counts them to know how
	// many members make a majority, and a server ignores a route to itself.
	Routes []string
	// Name is the cluster's, the same on every member; empty:
	// DefaultClusterName.
	Name string
	// ServerName is this member's, unique in the cluster and the same
	// across its restarts (JetStream knows its replicas by it); empty: the
	// host name and the route port, "host-6222".
	ServerName string
}

// Clustered reports whether the configuration makes the server a cluster
// member.
func (c ClusterConfig) Clustered() bool { return c.Listen != "" }

// Files of the route certificate in the trust directory. Members present
// it to each other on every route, both ways, and accept no other: holding
// its key is what makes a process a member.
const (
	routeCertFile = "route.pem"
	routeKeyFile  = "route.key"
	// routeTLSName is the one name in the route certificate. Members dial
	// each other by address, which the certificate cannot know, so they
	// check this name instead.
	routeTLSName = "moderation-cluster-route"
)

// RouteCertPath is the route certificate a cluster member creates on its
// first clustered start, if it has none: <data-dir>/nats/route.pem.
func RouteCertPath(dataDir string) string { return filepath.Join(TrustDir(dataDir), routeCertFile) }

// configure makes opts a cluster member per c, with routes over mutual TLS
// under the route certificate in dataDir's trust directory (created if
// missing).
func (c ClusterConfig) configure(opts *server.Options, dataDir string) error {
	host, port, err := splitHostPort(c.Listen)
	if err != nil {
		return fmt.Errorf("nats cluster listen address: %w", err)
	}
	if len(c.Routes) == 0 {
		// JetStream will not start clustered without them, and a member
		// nobody routes to would be alone with its own copy of the streams.
		return errors.New("nats cluster: no routes; list every member's route address, this one's included")
	}
	routes := make([]*url.URL, 0, len(c.Routes))
	for _, r := range c.Routes {
		u, err := parseRoute(r)
		if err != nil {
			return err
		}
		routes = append(routes, u)
	}
	name := c.ServerName
	if name == "" {
		if port <= 0 {
			return errors.New("nats cluster: a member on a random route port needs a server name, the same across its restarts")
		}
		hostname, err := os.Hostname()
		if err != nil {
			return fmt.Errorf("nats cluster server name from the host name: %w", err)
		}
		name = hostname + "-" + strconv.Itoa(port)
	}
	if strings.ContainsAny(name, " \t\n") {
		return fmt.Errorf("nats cluster server name %q: no spaces", name)
	}
	tc, err := routeTLS(dataDir)
	if err != nil {
		return err
	}
	opts.ServerName = name
	opts.Cluster = server.ClusterOpts{
		Name:       cmp.Or(c.Name, DefaultClusterName),
		Host:       host,
		Port:       port,
		TLSConfig:  tc,
		TLSTimeout: 2,
	}
	opts.Routes = routes
	return nil
}

func splitHostPort(hostport string) (string, int, error) {
	host, portStr, err := net.SplitHostPort(hostport)
	if err != nil {
		return "", 0, fmt.Errorf("parse %q: %w", hostport, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return "", 0, fmt.Errorf("parse port of %q: %w", hostport, err)
	}
	return host, port, nil
}

// parseRoute reads a member's route address: host:port, or a nats:// or
// nats-route:// URL. Credentials in it are refused: members authenticate
// with the route certificate alone.
func parseRoute(s string) (*url.URL, error) {
	s = strings.TrimSpace(s)
	if !strings.Contains(s, "://") {
		s = "nats://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("nats cluster route %q: %w", s, err)
	}
	if u.Scheme != "nats" && u.Scheme != "nats-route" {
		return nil, fmt.Errorf("nats cluster route %q: scheme %s, want nats:// or host:port", s, u.Scheme)
	}
	if u.Hostname() == "" || u.Port() == "" {
		return nil, fmt.Errorf("nats cluster route %q: want host:port", s)
	}
	if u.User != nil {
		return nil, fmt.Errorf("nats cluster route %s: no credentials in routes; members present the route certificate in %s", u.Redacted(), routeCertFile)
	}
	return u, nil
}

// routeTLS is the TLS of every route, both ways: present the route
// certificate, require the peer's, and trust no other. A process without
// the certificate's key fails the handshake and never joins; routes are
// encrypted, as they carry every message and every replica's writes.
func routeTLS(dataDir string) (*tls.Config, error) {
	pair, err := loadOrCreateRouteCert(dataDir)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(pair.Leaf)
	return &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{pair},
		RootCAs:      pool,
		ClientCAs:    pool,
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ServerName:   routeTLSName,
	}, nil
}

// loadOrCreateRouteCert reads the route certificate and key from the trust
// directory, creating them on the first clustered start: self-signed, for
// routeTLSName, good for clients and servers (a route is both), valid for
// 20 years since they are replaced by hand (delete both files on one
// member, start it, copy them to the others).
func loadOrCreateRouteCert(dataDir string) (tls.Certificate, error) {
	certFile, keyFile := RouteCertPath(dataDir), filepath.Join(TrustDir(dataDir), routeKeyFile)
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err == nil {
		return pair, nil
	}
	_, certErr := os.Stat(certFile)
	_, keyErr := os.Stat(keyFile)
	if !errors.Is(certErr, fs.ErrNotExist) || !errors.Is(keyErr, fs.ErrNotExist) {
		// One without the other, or unreadable: a half-copied directory
		// must not be papered over with a new certificate no member trusts.
		return tls.Certificate{}, fmt.Errorf("load nats route certificate: %w", err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("create nats route key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("create nats route certificate: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: routeTLSName},
		DNSNames:              []string{routeTLSName},
		NotBefore:             now.Add(-time.Hour), // members' clocks differ a little
		NotAfter:              now.AddDate(20, 0, 0),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("create nats route certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("encode nats route key: %w", err)
	}
	// The key first: a certificate without it is an error above, a key
	// without its certificate too, and a crash between the two leaves the
	// latter, which is caught rather than replaced.
	if err := writeSecret(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})); err != nil {
		return tls.Certificate{}, err
	}
	if err := writeSecret(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})); err != nil {
		return tls.Certificate{}, err
	}
	if pair, err = tls.LoadX509KeyPair(certFile, keyFile); err != nil {
		return tls.Certificate{}, fmt.Errorf("load nats route certificate: %w", err)
	}
	return pair, nil
}

// serverLog passes what a cluster member's server reports to log, a level
// lower than nats-server gives it: its errors as warnings, its warnings as
// information, its notices at debug. Routes fail in ways only the server
// sees (a process without the route certificate, a member gone), so a
// member reports them; but in a cluster they are mostly a member
// restarting, and nats-server warns of routine work (snapshots), while the
// service's own warnings and errors must mean it needs attention. A lone
// server has nothing to say that the service does not, and says nothing.
type serverLog struct{ log *slog.Logger }

func (l serverLog) Noticef(format string, v ...any) {
	l.log.Debug("nats: " + fmt.Sprintf(format, v...))
}
func (l serverLog) Warnf(format string, v ...any)  { l.log.Info("nats: " + fmt.Sprintf(format, v...)) }
func (l serverLog) Errorf(format string, v ...any) { l.log.Warn("nats: " + fmt.Sprintf(format, v...)) }
func (l serverLog) Fatalf(format string, v ...any) { l.log.Error("nats: " + fmt.Sprintf(format, v...)) }
func (l serverLog) Debugf(string, ...any)          {}
func (l serverLog) Tracef(string, ...any)          {}

// checkStoreKind refuses a JetStream store the server would misread. A
// cluster member ignores streams a lone server wrote and declares the
// streams anew over them, so a lone server's events, decisions and
// account states would be gone from view; a lone server would take a
// member's replicas for streams of its own and let them drift from the
// cluster's. A store is a member's when it holds the cluster's metadata
// (nats-server keeps it in <system account>/_js_/_meta_).
func checkStoreKind(storeDir string, t *Trust, clustered bool) error {
	accPub, err := t.accountPublicKey()
	if err != nil {
		return err
	}
	sysPub, err := t.system.PublicKey()
	if err != nil {
		return fmt.Errorf("system account public key: %w", err)
	}
	root := filepath.Join(storeDir, server.JetStreamStoreDir)
	_, err = os.Stat(filepath.Join(root, accPub, "streams"))
	hasStreams := err == nil
	_, err = os.Stat(filepath.Join(root, sysPub, "_js_", "_meta_"))
	member := err == nil
	switch {
	case clustered && hasStreams && !member:
		return fmt.Errorf("the JetStream store %s was written by a lone server: a cluster member would ignore its streams and declare them anew; start the member on an empty store (move this one aside)", storeDir)
	case !clustered && member:
		return fmt.Errorf("the JetStream store %s belongs to a cluster member: start it as that member again, with its routes", storeDir)
	}
	return nil
}
