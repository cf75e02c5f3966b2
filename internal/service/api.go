package service

import (
	"context"
	"crypto/ed25519"
	"crypto/tls"
	"fmt"
	"path"
	"strings"
	"testing/fstest"
	"time"

	"moderation/internal/auth"
	"moderation/internal/backtest"
	"moderation/internal/grpcapi"
	"moderation/internal/judge"
	"moderation/internal/moderation"
	"moderation/internal/pipeline"
)

// signingKey loads the token key: from the environment's PEM, from the
// configured file, or from the data dir, creating it there on first start
// so the service is secure without set-up.
func (s *Service) signingKey() (ed25519.PrivateKey, error) {
	if s.cfg.TokenKeyPEM != "" {
		return auth.ParseKey([]byte(s.cfg.TokenKeyPEM))
	}
	file := s.cfg.TokenKeyFile
	if file == "" {
		file = auth.DefaultKeyFile(s.cfg.DataDir)
	}
	key, created, err := auth.LoadOrCreateKey(file)
	if err != nil {
		return nil, err
	}
	if created {
		s.log.Info("created the token signing key; mint tokens with modctl token",
			"key_file", file, "example", "modctl token -data-dir "+s.cfg.DataDir+" -role reviewer -subject alice")
	}
	return key, nil
}

// apiSecurity makes the token verifier (and issuer) and the TLS settings
// from the configuration.
func (s *Service) apiSecurity() (*auth.Verifier, *tls.Config, error) {
	key, err := s.signingKey()
	if err != nil {
		return nil, nil, err
	}
	s.issuer = auth.NewIssuer(key)
	verifier := auth.NewVerifier(key.Public().(ed25519.PublicKey))
	if s.cfg.InsecureDev {
		s.log.Warn("INSECURE: --insecure-dev is set: every gRPC call is served WITHOUT authentication, as an admin. Never run this way outside a developer's machine.")
	}
	var tlsConfig *tls.Config
	if s.cfg.TLSCert != "" || s.cfg.TLSKey != "" || s.cfg.ClientCA != "" {
		if tlsConfig, err = auth.ServerTLS(s.cfg.TLSCert, s.cfg.TLSKey, s.cfg.ClientCA); err != nil {
			return nil, nil, err
		}
		s.log.Info("gRPC over TLS", "mtls", s.cfg.ClientCA != "")
	}
	return verifier, tlsConfig, nil
}

// Token mints a bearer token with the service's key: for tests, the bench
// and operators' tools running beside the service.
func (s *Service) Token(id auth.Identity, ttl time.Duration) (string, error) {
	token, _, err := s.issuer.Mint(id, ttl, time.Now())
	return token, err
}

// backtester runs API backtests through the same simulator as modctl's.
type backtester struct {
	svc *Service
}

var _ grpcapi.Backtester = backtester{}

// Backtest compiles the candidate from the request's files, refusing one
// that fails to compile or to pass its own tests, and replays history.
func (b backtester) Backtest(ctx context.Context, files map[string]string, since, until time.Time) (*grpcapi.BacktestResult, error) {
	pol, err := candidate(ctx, files, "api-backtest")
	if err != nil {
		return nil, err
	}
	cfg := b.svc.cfg
	r, err := backtest.Run(ctx, b.svc.JS, backtest.Config{Policy: pol, Since: since, Until: until,
		Pipeline: pipeline.Config{MaxStateBytes: cfg.MaxStateMB << 20, Location: cfg.Location, AdModel: cfg.AdModel, MaxClockSkew: cfg.MaxClockSkew}})
	if err != nil {
		return nil, err
	}
	changes := func(cs []backtest.Change) []grpcapi.BacktestChange {
		out := make([]grpcapi.BacktestChange, len(cs))
		for i, c := range cs {
			out[i] = grpcapi.BacktestChange{Account: c.Account, Was: string(c.Was), Would: string(c.Would), Rule: c.Rule, Reason: c.Reason}
		}
		return out
	}
	return &grpcapi.BacktestResult{PolicyVersion: r.PolicyVersion, Events: r.Events, Actioned: changes(r.Actioned), Released: changes(r.Released)}, nil
}

// candidate compiles a policy given as files, refusing one that fails to
// compile or to pass its own tests.
func candidate(ctx context.Context, files map[string]string, label string) (*judge.Policy, error) {
	fsys := fstest.MapFS{}
	for name, src := range files {
		if name != path.Base(name) || !(strings.HasSuffix(name, ".rego") || name == "data.json") {
			return nil, moderation.Invalid("files", fmt.Sprintf("%q is not a .rego file or data.json", name))
		}
		fsys[name] = &fstest.MapFile{Data: []byte(src)}
	}
	pol, err := judge.Candidate(ctx, fsys, label)
	if err != nil {
		return nil, moderation.Invalid("files", err.Error())
	}
	return pol, nil
}
