package judge

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path"
	"slices"
	"strings"
	"testing/fstest"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/bundle"
	"github.com/open-policy-agent/opa/v1/keys"

	"moderation/policies"
)

// MaxBundleBytes bounds a policy bundle, compressed and each file in it
// uncompressed: ours is a few hundred kilobytes, and a bundle is read into
// memory whole before its signature is checked.
const MaxBundleBytes = 32 << 20

// bundleKeyID names the one key a bundle is verified with. It is set in the
// verification config, so OPA uses this key whatever kid the signature
// names (`opa build` names none by default).
const bundleKeyID = "moderation"

// BundleKey is the public key policy bundles must be signed with, and the
// signature algorithm.
type BundleKey struct {
	pem string
	alg string
}

// Algorithm is the JWS algorithm signatures must use (RS256, ES256, EdDSA…).
func (k *BundleKey) Algorithm() string { return k.alg }

// LoadBundleKey reads a PEM public key (PKIX "PUBLIC KEY", PKCS#1 "RSA
// PUBLIC KEY" or a certificate) for verifying bundles. alg may be empty: it
// is then inferred from the key (RS256 for RSA, ES256/ES384/ES512 by the
// curve, EdDSA for Ed25519). Private keys and HMAC secrets are refused: the
// service must not hold what signs its own policy.
func LoadBundleKey(file, alg string) (*BundleKey, error) {
	raw, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("read bundle key: %w", err)
	}
	block, _ := pem.Decode(raw)
	if block == nil {
		return nil, fmt.Errorf("bundle key %s: no PEM block", file)
	}
	var pub any
	switch block.Type {
	case "PUBLIC KEY":
		pub, err = x509.ParsePKIXPublicKey(block.Bytes)
	case "RSA PUBLIC KEY":
		pub, err = x509.ParsePKCS1PublicKey(block.Bytes)
	case "CERTIFICATE":
		var cert *x509.Certificate
		if cert, err = x509.ParseCertificate(block.Bytes); err == nil {
			pub = cert.PublicKey
		}
	default:
		return nil, fmt.Errorf("bundle key %s: a %q PEM block; want the signer's PUBLIC KEY (openssl pkey -in key.pem -pubout)", file, block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("bundle key %s: %w", file, err)
	}
	want, err := keyAlgorithms(pub)
	if err != nil {
		return nil, fmt.Errorf("bundle key %s: %w", file, err)
	}
	if alg == "" {
		alg = want[0]
	} else if !slices.Contains(want, alg) {
		return nil, fmt.Errorf("bundle key %s: algorithm %s does not go with this key (want one of %s)", file, alg, strings.Join(want, ", "))
	}
	return &BundleKey{pem: string(pem.EncodeToMemory(block)), alg: alg}, nil
}

// keyAlgorithms lists the signature algorithms OPA verifies with a key of
// this type, the usual one first.
func keyAlgorithms(pub any) ([]string, error) {
	var algs []string
	switch k := pub.(type) {
	case *rsa.PublicKey:
		algs = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"}
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256():
			algs = []string{"ES256"}
		case elliptic.P384():
			algs = []string{"ES384"}
		case elliptic.P521():
			algs = []string{"ES512"}
		default:
			return nil, fmt.Errorf("ECDSA curve %s has no JWS algorithm", k.Curve.Params().Name)
		}
	case ed25519.PublicKey:
		// Not in OPA's keys list (which is for its config files) but
		// verified by the same code: the JWS library knows EdDSA.
		return []string{"EdDSA"}, nil
	default:
		return nil, fmt.Errorf("unsupported key type %T", pub)
	}
	for _, a := range algs {
		if !keys.IsSupportedAlgorithm(a) {
			return nil, fmt.Errorf("OPA does not support %s", a)
		}
	}
	return algs, nil
}

func (k *BundleKey) verification() *bundle.VerificationConfig {
	return bundle.NewVerificationConfig(map[string]*bundle.KeyConfig{
		bundleKeyID: {Key: k.pem, Algorithm: k.alg},
	}, bundleKeyID, "", nil)
}

// NewBundleReloader returns a reloader for a signed OPA bundle (what `opa
// build -b DIR --signing-key …` writes) at location, a file or an http(s)
// URL. A file is read again when its modification time or size changes; a
// URL is asked with the ETag of the last answer (If-None-Match), and a 304
// changes nothing. A bundle becomes a candidate only once its signature and
// every file's digest are verified against key; an unsigned bundle is
// refused. label, apply, report, interval and log are as for NewReloader.
func NewBundleReloader(location string, key *BundleKey, label string, apply func(*Policy), report func(*Policy, error), interval time.Duration, log *slog.Logger) (*Reloader, error) {
	src := &bundleSource{location: location, key: key}
	if strings.HasPrefix(location, "http://") || strings.HasPrefix(location, "https://") {
		u, err := url.Parse(location)
		if err != nil {
			return nil, fmt.Errorf("policy bundle URL: %w", err)
		}
		src.url = u
		src.client = &http.Client{Timeout: 30 * time.Second}
	}
	return newReloader(src, label, apply, report, interval, log), nil
}

// bundleSource is a signed bundle in a file or at a URL. It remembers what
// it saw last, good or bad, so an unchanged bundle is neither compiled nor
// refused again every tick.
type bundleSource struct {
	location string
	url      *url.URL // nil: a file
	client   *http.Client
	key      *BundleKey

	etag  string    // URL: the ETag of the last answer
	stamp fileStamp // file: its modification time and size when last read
	sum   [sha256.Size]byte
}

type fileStamp struct {
	mod  time.Time
	size int64
}

func (b *bundleSource) where() slog.Attr { return slog.String("bundle", b.name()) }

// name is the bundle's location for versions and logs: a URL without its
// credentials or query, which may hold a token.
func (b *bundleSource) name() string {
	if b.url == nil {
		return b.location
	}
	return b.url.Scheme + "://" + b.url.Host + b.url.Path
}

func (b *bundleSource) fetch(ctx context.Context, force bool) (fs.FS, string, error) {
	var raw []byte
	var err error
	if b.url != nil {
		raw, err = b.download(ctx, force)
	} else {
		raw, err = b.readFile(force)
	}
	if err != nil || raw == nil {
		return nil, "", err
	}
	sum := sha256.Sum256(raw)
	if sum == b.sum && !force {
		return nil, "", nil // touched, or served again without an ETag
	}
	b.sum = sum
	fsys, revision, err := openBundle(raw, b.key)
	if err != nil {
		return nil, "", fmt.Errorf("bundle %s: %w", b.name(), err)
	}
	name := "bundle:" + b.name()
	if revision != "" {
		name += "#" + revision
	}
	return fsys, name, nil
}

func (b *bundleSource) readFile(force bool) ([]byte, error) {
	st, err := os.Stat(b.location)
	if err != nil {
		return nil, unreadable{fmt.Errorf("policy bundle: %w", err)}
	}
	stamp := fileStamp{st.ModTime(), st.Size()}
	if stamp.mod.Equal(b.stamp.mod) && stamp.size == b.stamp.size && !force {
		return nil, nil
	}
	if st.Size() > MaxBundleBytes {
		b.stamp = stamp
		return nil, fmt.Errorf("bundle %s: %d bytes, more than %d", b.location, st.Size(), MaxBundleBytes)
	}
	raw, err := os.ReadFile(b.location)
	if err != nil {
		return nil, unreadable{fmt.Errorf("policy bundle: %w", err)}
	}
	b.stamp = stamp
	return raw, nil
}

// download GETs the bundle, with If-None-Match unless forced; it returns
// nil bytes on 304 Not Modified.
func (b *bundleSource) download(ctx context.Context, force bool) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, b.url.String(), nil)
	if err != nil {
		return nil, unreadable{fmt.Errorf("policy bundle %s: %w", b.name(), err)}
	}
	if b.etag != "" && !force {
		req.Header.Set("If-None-Match", b.etag)
	}
	resp, err := b.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // its message repeats the URL, query and all
		}
		return nil, unreadable{fmt.Errorf("GET policy bundle %s: %w", b.name(), err)}
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusNotModified:
		return nil, nil
	default:
		return nil, unreadable{fmt.Errorf("GET policy bundle %s: %s", b.name(), resp.Status)}
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, MaxBundleBytes+1))
	if err != nil {
		return nil, unreadable{fmt.Errorf("GET policy bundle %s: %w", b.name(), err)}
	}
	// Remembered whatever becomes of this bundle: a refused one is not
	// fetched and refused again until the server has another.
	b.etag = resp.Header.Get("ETag")
	if len(raw) > MaxBundleBytes {
		return nil, fmt.Errorf("bundle %s: more than %d bytes", b.name(), MaxBundleBytes)
	}
	return raw, nil
}

// openBundle verifies a bundle's signature and the digest of every file in
// it with OPA's own reader, and lays its policy out as a policy directory
// would be (modules, tests and data.json side by side), so that it goes
// through exactly the checks a directory does. It returns the manifest's
// revision too.
func openBundle(raw []byte, key *BundleKey) (fs.FS, string, error) {
	return readBundle(raw, func(r *bundle.Reader) *bundle.Reader { return r.WithBundleVerificationConfig(key.verification()) })
}

// BundleFiles lays out an OPA bundle's policy as openBundle does, as files
// by name, without asking for a signature: for a candidate a reviewer
// uploads to backtest, which enforces nothing.
func BundleFiles(raw []byte) (map[string]string, error) {
	fsys, _, err := readBundle(raw, func(r *bundle.Reader) *bundle.Reader { return r.WithSkipBundleVerification(true) })
	if err != nil {
		return nil, err
	}
	files := map[string]string{}
	for name, f := range fsys.(fstest.MapFS) {
		files[name] = string(f.Data)
	}
	return files, nil
}

func readBundle(raw []byte, verify func(*bundle.Reader) *bundle.Reader) (fs.FS, string, error) {
	loader := bundle.NewTarballLoaderWithBaseURL(bytes.NewReader(raw), "").WithSizeLimitBytes(MaxBundleBytes)
	b, err := verify(bundle.NewCustomReader(loader)).
		WithSizeLimitBytes(MaxBundleBytes).
		WithRegoVersion(ast.RegoV1).
		WithLazyLoadingMode(false).
		Read()
	if err != nil {
		return nil, "", err
	}
	if b.Type() != bundle.SnapshotBundleType {
		return nil, "", fmt.Errorf("a %s bundle; want a whole policy (snapshot)", b.Type())
	}
	if len(b.WasmModules) > 0 || len(b.PlanModules) > 0 {
		return nil, "", errors.New("it carries compiled Wasm or plans; the judge evaluates Rego only")
	}
	// fstest.MapFS is the standard library's in-memory fs.FS; nothing of
	// the testing package comes with it.
	files := fstest.MapFS{}
	from := map[string]string{}
	for _, m := range b.Modules {
		// A module's place in a bundle means nothing to OPA (its package
		// does), and `opa build -b policies/` puts them under policies/:
		// every module counts, by its file name, as in a directory.
		p := strings.TrimPrefix(m.Path, "/")
		name := path.Base(p)
		if other, ok := from[name]; ok {
			return nil, "", fmt.Errorf("it carries %s and %s: two modules named %s", other, p, name)
		}
		from[name] = p
		files[name] = &fstest.MapFile{Data: m.Raw}
	}
	data, err := json.Marshal(b.Data) // numbers stay json.Number: no threshold loses precision
	if err != nil {
		return nil, "", fmt.Errorf("encode its data: %w", err)
	}
	files[policies.DataFile] = &fstest.MapFile{Data: data}
	return files, revision(b.Manifest.Revision), nil
}

// revision keeps a manifest revision short and printable: it goes into
// every decision's policy version and into metric labels.
func revision(r string) string {
	r = strings.Map(func(c rune) rune {
		if c < 0x20 || c == 0x7f || c == '@' {
			return -1
		}
		return c
	}, r)
	if len(r) > 64 {
		r = strings.ToValidUTF8(r[:64], "")
	}
	return r
}
