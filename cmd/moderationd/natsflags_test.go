package main

import (
	"strings"
	"testing"
)

// TestNATSConfig: each NATS variable means one thing. MODERATION_NATS_URL
// is an external server (modctl uses it too); the embedded server's
// address is MODERATION_NATS_LISTEN (modctl's default when no external
// server is set); credentials for an external server make no sense
// without one, nor a certificate for the embedded server beside one.
func TestNATSConfig(t *testing.T) {
	for _, tc := range []struct {
		name    string
		env     map[string]string
		args    []string
		wantErr string
		check   func(t *testing.T, url, listen string)
	}{
		{name: "embedded at MODERATION_NATS_LISTEN", env: map[string]string{"MODERATION_NATS_LISTEN": "0.0.0.0:4333"}, check: func(t *testing.T, url, listen string) {
			if url != "" || listen != "0.0.0.0:4333" {
				t.Errorf("got url %q listen %q, want the embedded server on 0.0.0.0:4333", url, listen)
			}
		}},
		{name: "external at MODERATION_NATS_URL", env: map[string]string{"MODERATION_NATS_URL": "tls://n1:4222", "MODERATION_NATS_CREDS": "/etc/mod/nats.creds"}, check: func(t *testing.T, url, _ string) {
			if url != "tls://n1:4222" {
				t.Errorf("got url %q, want the external server", url)
			}
		}},
		{name: "a CA for modctl does not upset the embedded server", env: map[string]string{"MODERATION_NATS_CA": "/etc/mod/ca.pem"}},
		{name: "embedded with TLS", args: []string{"-nats-tls-cert", "c.pem", "-nats-tls-key", "k.pem"}},
		{name: "external creds without an external server", env: map[string]string{"MODERATION_NATS_CREDS": "/etc/mod/nats.creds"}, wantErr: "-nats-creds: only with -nats-url"},
		{name: "nkey without an external server", args: []string{"-nats-nkey", "user.nk"}, wantErr: "-nats-nkey: only with -nats-url"},
		{name: "embedded certificate with an external server", args: []string{"-nats-url", "nats://n1:4222", "-nats-tls-cert", "c.pem", "-nats-tls-key", "k.pem"}, wantErr: "not with -nats-url"},
		{name: "certificate without its key", args: []string{"-nats-tls-cert", "c.pem"}, wantErr: "go together"},
		{name: "client certificate without its key", args: []string{"-nats-url", "nats://n1:4222", "-nats-cert", "c.pem"}, wantErr: "go together"},
		{name: "creds and nkey", args: []string{"-nats-url", "nats://n1:4222", "-nats-creds", "a.creds", "-nats-nkey", "u.nk"}, wantErr: "one or the other"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := loadConfig(tc.args, func(k string) string { return tc.env[k] })
			switch {
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("got %v, want an error containing %q", err, tc.wantErr)
			case tc.wantErr == "" && err != nil:
				t.Fatalf("got %v, want none", err)
			}
			if tc.check != nil {
				tc.check(t, cfg.NATSURL, cfg.NATSListen)
			}
		})
	}
}
