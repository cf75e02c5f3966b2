package main

import (
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"moderation/detectors/adtext"
	"moderation/internal/natsbus"
	"moderation/internal/service"
)

// loadConfig fills the service configuration from flags, each of which can
// also be set by an environment variable MODERATION_<FLAG> (upper case,
// dashes as underscores). A flag on the command line wins.
func loadConfig(args []string, getenv func(string) string) (service.Config, error) {
	var cfg service.Config
	var logLevel, zone, adModel string
	var checkCacheMB int64
	var appealDays int
	fs := flag.NewFlagSet("moderationd", flag.ContinueOnError)
	fs.StringVar(&cfg.DataDir, "data-dir", "./data", "where the embedded NATS server keeps its streams")
	fs.StringVar(&cfg.NATSListen, "nats-listen", "127.0.0.1:4222", "address the embedded NATS server listens on for platform services (with credentials from <data-dir>/nats: publisher.creds, follower.creds, modctl nats-creds)")
	fs.StringVar(&cfg.NATSURL, "nats-url", "", "external NATS server or cluster (comma-separated URLs); empty embeds a server")
	fs.BoolVar(&cfg.NATSSyncAlways, "nats-sync-always", false, "fsync every JetStream write on the embedded server (survives power loss; slower)")
	fs.StringVar(&cfg.NATSTLSCert, "nats-tls-cert", "", "certificate (PEM) the embedded NATS server's client port serves TLS with; clients then need TLS")
	fs.StringVar(&cfg.NATSTLSKey, "nats-tls-key", "", "private key (PEM) of -nats-tls-cert")
	fs.StringVar(&cfg.NATSCluster.Listen, "nats-cluster-listen", "", "address the embedded NATS server listens on for routes from the other members of its cluster; empty: no cluster (every member holds a copy of the first one's <data-dir>/nats)")
	fs.Func("nats-routes", "route addresses (host:port, comma-separated) of every member of the cluster, this one included", func(v string) error {
		cfg.NATSCluster.Routes = nil // the command line replaces the environment's list
		for r := range strings.SplitSeq(v, ",") {
			if r = strings.TrimSpace(r); r != "" {
				cfg.NATSCluster.Routes = append(cfg.NATSCluster.Routes, r)
			}
		}
		return nil
	})
	fs.StringVar(&cfg.NATSCluster.Name, "nats-cluster-name", natsbus.DefaultClusterName, "name of the NATS cluster, the same on every member")
	fs.StringVar(&cfg.NATSCluster.ServerName, "nats-server-name", "", "this member's NATS server name, unique in the cluster and kept across restarts; empty: <hostname>-<route port>")
	fs.StringVar(&cfg.NATSExternal.Creds, "nats-creds", "", "with -nats-url: user credentials (.creds) to connect with")
	fs.StringVar(&cfg.NATSExternal.NKeySeed, "nats-nkey", "", "with -nats-url: file holding the user nkey seed to connect with")
	fs.StringVar(&cfg.NATSExternal.CA, "nats-ca", "", "CA (PEM) that signed the NATS server's certificate (used with -nats-url; modctl reads it as well)")
	fs.StringVar(&cfg.NATSExternal.Cert, "nats-cert", "", "with -nats-url: client certificate (PEM) for a server that verifies clients")
	fs.StringVar(&cfg.NATSExternal.Key, "nats-key", "", "with -nats-url: private key (PEM) of -nats-cert")
	fs.StringVar(&cfg.GRPCListen, "grpc-listen", "127.0.0.1:50051", "gRPC API address")
	fs.StringVar(&cfg.HTTPListen, "http-listen", "127.0.0.1:8080", "address of /healthz, /readyz and /metrics")
	fs.StringVar(&cfg.ConsoleListen, "console-listen", "127.0.0.1:8081", "address of the reviewer console (a web app; over TLS when -tls-cert is given); empty: no console")
	fs.Int64Var(&cfg.MaxStateMB, "max-state-mb", 400, "memory bound for per-account detector windows, in MiB (a million active accounts fit in 400)")
	fs.DurationVar(&cfg.MaxClockSkew, "max-clock-skew", 10*time.Minute, "how far ahead of the service's clock an event may be dated; later ones are dead-lettered as bad_time")
	fs.DurationVar(&cfg.DedupWindow, "dedup-window", 2*time.Minute, "how long JetStream remembers event ids (Nats-Msg-Id) to drop re-published events")
	fs.StringVar(&zone, "timezone", "Asia/Shanghai", "the platform's time zone: calendar days and months of broadcast quotas")
	fs.StringVar(&adModel, "ad-model", "", "advertising model trained by modctl train; empty uses the one built in")
	fs.StringVar(&cfg.PolicyDir, "policy-dir", "", "Rego policy directory replacing the embedded one; reloaded when it changes (or on SIGHUP) if it compiles and passes its own tests")
	fs.StringVar(&cfg.ShadowPolicyDir, "shadow-policy-dir", "", "Rego policy evaluated beside the live one: its disagreements are counted and recorded, never enforced")
	fs.DurationVar(&cfg.PolicyPoll, "policy-poll", 2*time.Second, "how often policy directories and bundles are checked for changes")
	fs.StringVar(&cfg.PolicyBundle, "policy-bundle", "", "signed OPA bundle (file or http(s) URL, polled with If-None-Match) replacing the embedded policy if its signature verifies, it compiles and passes its own tests; excludes -policy-dir")
	fs.StringVar(&cfg.PolicyBundleKey, "policy-bundle-key", "", "public key (PEM) that -policy-bundle must be signed with")
	fs.StringVar(&cfg.PolicyBundleAlg, "policy-bundle-alg", "", "signature algorithm of -policy-bundle (RS256, PS256, ES256, ES384, ES512, EdDSA…); empty: inferred from the key")
	fs.BoolVar(&cfg.DenyUnknownWhenStale, "deny-unknown-when-stale", false, "while NATS is unreachable, Check refuses accounts it knows nothing about (fail closed) instead of allowing them")
	fs.IntVar(&cfg.Replicas, "replicas", 0, "JetStream replicas for streams and buckets; 0: 3 on an embedded cluster member, else 1 (give 3 for an external cluster)")
	fs.BoolVar(&cfg.Partitioned, "partitioned", false, "share the events with other instances on the same NATS (always so for an embedded cluster member): each counts every event, JetStream pins each of the 32 partitions' judging to one instance; all instances on one NATS must agree")
	fs.StringVar(&cfg.TokenKeyFile, "token-key-file", "", "Ed25519 key (PEM) that signs and verifies API bearer tokens; empty: <data-dir>/auth/token.key, created on first start")
	fs.BoolVar(&cfg.InsecureDev, "insecure-dev", false, "serve gRPC WITHOUT authentication, every caller an admin (a developer's machine only)")
	fs.StringVar(&cfg.TLSCert, "tls-cert", "", "certificate (PEM) to serve gRPC over TLS")
	fs.StringVar(&cfg.TLSKey, "tls-key", "", "private key (PEM) of -tls-cert")
	fs.StringVar(&cfg.ClientCA, "client-ca", "", "CA (PEM) that client certificates must be signed by: mutual TLS")
	fs.Int64Var(&checkCacheMB, "check-cache-mb", 64, "memory bound for the account states Check answers from, in MiB")
	fs.Float64Var(&cfg.OwnerRate, "owner-rate", 5, "calls per second each owner account may make (bursts of 4x)")
	fs.IntVar(&appealDays, "appeal-window-days", 180, "days a measure can be appealed (manual measures; policy decisions carry the policy's own deadline)")
	fs.DurationVar(&cfg.AppealLease, "appeal-lease", 30*time.Minute, "how long a reviewer's claim on an appeal holds before it returns to the queue")
	fs.IntVar(&cfg.AppealFilingsPerDay, "appeal-filings-per-day", 5, "appeals one account may file in 24 hours")
	fs.DurationVar(&cfg.PurgeSweep, "purge-sweep", time.Minute, "how often closed accounts are checked for purge eligibility")
	fs.Float64Var(&cfg.OverturnAlertRate, "overturn-alert-rate", 0.3, "report a rule whose decisions are overturned on appeal more often than this share")
	fs.IntVar(&cfg.OverturnAlertMin, "overturn-alert-min", 10, "decided appeals a rule needs before its overturn rate is judged")
	fs.BoolVar(&cfg.ShadowOverturnedRules, "shadow-overturned-rules", false, "put a reported rule in shadow: its verdicts are recorded, not enforced")
	fs.StringVar(&logLevel, "log-level", "info", "debug, info, warn or error")

	var envErr error
	fs.VisitAll(func(f *flag.Flag) {
		name := "MODERATION_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v := getenv(name); v != "" {
			if err := f.Value.Set(v); err != nil && envErr == nil {
				envErr = fmt.Errorf("environment %s=%q: %w", name, v, err)
			}
		}
	})
	if envErr != nil {
		return cfg, envErr
	}
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	// Not a flag: nobody should find it in -h. Tests rehearse crashes with it.
	cfg.CrashAfterStateWrite = getenv("MODERATION_CRASH_AFTER_STATE_WRITE")
	var level slog.Level
	if err := level.UnmarshalText([]byte(logLevel)); err != nil {
		return cfg, fmt.Errorf("flag -log-level: %w", err)
	}
	loc, err := time.LoadLocation(zone)
	if err != nil {
		return cfg, fmt.Errorf("flag -timezone: %w", err)
	}
	cfg.Location = loc
	if adModel != "" {
		if cfg.AdModel, err = adtext.LoadFile(adModel); err != nil {
			return cfg, fmt.Errorf("flag -ad-model: %w", err)
		}
	}
	if cfg.MaxStateMB <= 0 {
		return cfg, fmt.Errorf("flag -max-state-mb: must be positive, got %s", strconv.FormatInt(cfg.MaxStateMB, 10))
	}
	if cfg.MaxClockSkew <= 0 {
		return cfg, fmt.Errorf("flag -max-clock-skew: must be positive, got %s", cfg.MaxClockSkew)
	}
	if checkCacheMB <= 0 {
		return cfg, fmt.Errorf("flag -check-cache-mb: must be positive, got %d", checkCacheMB)
	}
	cfg.CheckCacheBytes = checkCacheMB << 20
	if appealDays <= 0 {
		return cfg, fmt.Errorf("flag -appeal-window-days: must be positive, got %d", appealDays)
	}
	cfg.AppealWindow = time.Duration(appealDays) * 24 * time.Hour
	if cfg.OwnerRate <= 0 {
		return cfg, fmt.Errorf("flag -owner-rate: must be positive, got %g", cfg.OwnerRate)
	}
	cfg.OwnerBurst = max(1, int(4*cfg.OwnerRate))
	if err := checkNATSFlags(cfg); err != nil {
		return cfg, err
	}
	if cfg.Replicas == 0 {
		cfg.Replicas = defaultReplicas(cfg)
	}
	// The members of an embedded cluster are the instances that share it.
	cfg.Partitioned = cfg.Partitioned || cfg.NATSURL == "" && cfg.NATSCluster.Clustered()
	if (cfg.TLSCert == "") != (cfg.TLSKey == "") || (cfg.ClientCA != "" && cfg.TLSCert == "") {
		return cfg, fmt.Errorf("flags -tls-cert and -tls-key go together, and -client-ca needs them")
	}
	if cfg.PolicyBundle != "" && (cfg.PolicyBundleKey == "" || cfg.PolicyDir != "") {
		return cfg, fmt.Errorf("flag -policy-bundle needs -policy-bundle-key (unsigned bundles are refused) and excludes -policy-dir")
	}
	// The key itself may come from the environment (a secret store), never
	// from a flag, which would show in the process list.
	cfg.TokenKeyPEM = getenv("MODERATION_TOKEN_KEY")
	cfg.Log = slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	return cfg, nil
}
